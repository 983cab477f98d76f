"""Fine-tuning a pairing embedder: ``EmbedderTrainConfig`` and :func:`train_embedder`.

A pairing embedder puts a claim close to evidence about the same matter, whether the evidence
agrees *or conflicts*. Stock sentence encoders are trained with contradictions as hard
negatives, so they push exactly the pairs a contradiction finder needs apart. Here both
entailment and contradiction pairs are positives (anchor: the claim, positive: the evidence),
with dispute frames ("S denied that P" against P) and number and date variants added; the
negatives are the other examples of the batch plus, per example, one mined hard negative:
an evidence text that the base model ranks close to the claim but that belongs to another
pair (on-topic, another matter).

Training runs on sentence-transformers' ``SentenceTransformerTrainer`` with a contrastive
loss (``mnrl``: MultipleNegativesRankingLoss, ``cached_mnrl``: its gradient-cached variant,
``gist``: GISTEmbedLoss guided by the base model). Checkpoints go to ``checkpoint_dir`` and
an interrupted run resumes from the last one. The saved model is a plain
Transformer -> Pooling -> Normalize folder, in ``save_dtype``, with the resolved config and a
training record beside it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, ENTAILMENT
from nli_check.training import DataSpec, Recipe, apply_overrides, load_config_file

logger = logging.getLogger(__name__)

RECORD_FILE = "training_record.json"
CONFIG_FILE = "train_config.json"
LOSSES = ("mnrl", "cached_mnrl", "gist")


@dataclass
class EmbedderTrainConfig(Recipe):
    """Everything that defines a pairing-embedder run. Loadable from TOML/YAML; every field overridable.

    ``train`` entries are :class:`~nli_check.training.DataSpec`\\ s (``holdout`` keeps a file's
    dev part out of training; ``kind = "disputes"`` builds dispute-frame pairs). Only their
    entailment and contradiction pairs are used. ``dev`` entries are the held-out sets whose
    claims are never trained on (any training pair sharing a claim or evidence text with them
    is dropped).
    """

    base_model: str = "all-MiniLM-L6-v2"
    output_dir: str = "pairing-model"
    checkpoint_dir: str = "runs/embedder"
    data_dir: str | None = None
    train: list[DataSpec] = field(default_factory=list)
    dev: list[DataSpec] = field(default_factory=list)
    loss: str = "mnrl"
    epochs: int = 1
    learning_rate: float = 5e-5
    batch_size: int = 64
    #: Token limit while training (short inputs train faster); the saved model keeps the base's limit.
    max_length: int = 96
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    seed: int = 13
    checkpoint_every: int = 100
    #: Fraction of pairs trained with claim and evidence swapped (scan pairs sentences both ways).
    swap_fraction: float = 0.0
    number_edits: int = 0
    date_edits: int = 0
    #: Generated news pairs about one subject or event (:func:`nli_check.augment.opposite_pairs`,
    #: :func:`nli_check.augment.event_pairs`): their contradictions and entailments are positives;
    #: their neutrals (another subject or event) are left out, and the miner draws such sentences as
    #: hard negatives.
    opposite_pairs: int = 0
    event_pairs: int = 0
    #: Mined hard negatives: one per example, drawn from the ranks
    #: ``[hard_negative_range_min, hard_negative_range_max)`` of the other pairs' evidence for the
    #: claim, ranked by ``hard_negative_miner``: ``bm25`` (lexical overlap: on-topic, cheap) or
    #: ``model`` (the base model's cosine, never above ``hard_negative_max_score``).
    hard_negatives: bool = True
    hard_negative_miner: str = "bm25"
    hard_negative_range_min: int = 0
    hard_negative_range_max: int = 30
    hard_negative_max_score: float = 0.9
    #: Keep the word-embedding matrix fixed: faster steps on CPU, little lost.
    freeze_embeddings: bool = True
    #: Train only the top N transformer layers (``None``: all): the frozen ones need no backward pass.
    train_layers: int | None = None
    #: Stop after this many examples (``None``: all); examples are shuffled first.
    max_examples: int | None = None
    save_dtype: str = "float16"
    device: str = "auto"
    strict: bool = False
    premise_col: str | None = None
    hypothesis_col: str | None = None
    label_col: str | None = None
    label_map: str | None = None

    def __post_init__(self) -> None:
        self.train = [DataSpec.parse(v) for v in self.train]
        self.dev = [DataSpec.parse(v) for v in self.dev]
        checks = [
            (self.hard_negative_miner in {"bm25", "model"},
             f"hard_negative_miner must be bm25 or model, got {self.hard_negative_miner!r}"),
            (self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}"),
            (self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}"),
            (self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}"),
            (self.batch_size >= 2, f"batch_size must be at least 2 (in-batch negatives), got {self.batch_size}"),
            (16 <= self.max_length <= 512, f"max_length must be in [16, 512], got {self.max_length}"),
            (0 <= self.warmup_ratio < 1, f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}"),
            (0 <= self.swap_fraction <= 1, f"swap_fraction must be in [0, 1], got {self.swap_fraction}"),
            (self.checkpoint_every >= 1, f"checkpoint_every must be >= 1, got {self.checkpoint_every}"),
            (min(self.number_edits, self.date_edits, self.opposite_pairs, self.event_pairs) >= 0,
             "number_edits, date_edits, opposite_pairs and event_pairs must be >= 0"),
            (0 <= self.hard_negative_range_min < self.hard_negative_range_max,
             "hard_negative_range_min must be >= 0 and below hard_negative_range_max"),
            (self.train_layers is None or self.train_layers >= 1,
             f"train_layers must be at least 1 (or unset for all), got {self.train_layers}"),
            (self.max_examples is None or self.max_examples >= self.batch_size,
             f"max_examples must be at least batch_size ({self.batch_size}), got {self.max_examples}"),
            (self.save_dtype in {"float32", "float16"},
             f"save_dtype must be float32 or float16, got {self.save_dtype!r}"),
        ]
        self._require(checks)

    @classmethod
    def from_file(cls, path: str | os.PathLike, overrides: list[str] | None = None) -> EmbedderTrainConfig:
        return cls.from_dict(apply_overrides(load_config_file(path), overrides or []))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def resolve_path(self, path: str) -> Path:
        candidate = Path(path).expanduser()
        if candidate.is_absolute() or self.data_dir is None:
            return candidate
        return Path(self.data_dir).expanduser() / candidate


# ------------------------------------------------------------------ data
@dataclass
class PairingData:
    """Training examples (claim, evidence) and what went into them."""

    anchors: list[str]
    positives: list[str]
    sources: list[dict]
    augmented: dict
    dropped_dev_overlap: int = 0
    dropped_duplicates: int = 0


def _norm(text: str) -> str:
    from nli_check.data import pair_key

    return pair_key(text, "")


def build_pairs(config: EmbedderTrainConfig) -> PairingData:
    """Positive (claim, evidence) pairs from the config's training entries, deduplicated, with
    every pair that shares a text with a dev set dropped, augmentations added, shuffled."""
    from nli_check import augment
    from nli_check.train_data import read_spec as _read_spec

    if not config.train:
        raise NLICheckError("no training data: give a config with [[train]] entries")
    dev_texts: set[str] = set()
    for spec in config.dev:
        dev = _read_spec(config, spec, "dev")
        dev_texts.update(_norm(t) for t in dev.hypotheses)
        dev_texts.update(_norm(t) for t in dev.premises)

    rng = random.Random(config.seed)
    anchors: list[str] = []
    positives: list[str] = []
    seen: set[tuple[str, str]] = set()
    plain: list[augment.Pair] = []
    sources = []
    overlap = duplicates = 0

    def add(claim: str, evidence: str) -> bool:
        nonlocal overlap, duplicates
        a, b = _norm(claim), _norm(evidence)
        if a in dev_texts or b in dev_texts:
            overlap += 1
            return False
        if (a, b) in seen or (b, a) in seen or a == b:
            duplicates += 1
            return False
        seen.add((a, b))
        if rng.random() < config.swap_fraction:
            claim, evidence = evidence, claim
        anchors.append(claim)
        positives.append(evidence)
        return True

    for spec in config.train:
        data = _read_spec(config, spec, "train")
        used = 0
        for premise, hypothesis, label in zip(data.premises, data.hypotheses, data.labels):
            if label not in (ENTAILMENT, CONTRADICTION):
                continue
            if add(hypothesis, premise):
                used += 1
                if spec.kind == "file":
                    plain.append(augment.Pair(premise, hypothesis, label))
        record = data.record()
        record.update(rows_used=used, kind=spec.kind, holdout=spec.holdout)
        sources.append(record)
        logger.info("train  %-40s %7d pairs", data.name, used)

    augmented = {}
    made_from = (("number_edits", partial(augment.number_edits, plain), config.number_edits),
                 ("date_edits", partial(augment.date_edits, plain), config.date_edits),
                 ("opposite_pairs", augment.opposite_pairs, config.opposite_pairs),
                 ("event_pairs", augment.event_pairs, config.event_pairs))
    for name, make, count in made_from:
        if count:
            # Another subject or event (a generated neutral) is never a positive.
            made = [p for p in make(count, seed=config.seed) if p.label in (ENTAILMENT, CONTRADICTION)]
            augmented[name] = sum(add(p.hypothesis, p.premise) for p in made)
            logger.info("train  %-40s %7d pairs", name, augmented[name])
    order = list(range(len(anchors)))
    rng.shuffle(order)
    if config.max_examples is not None:
        order = order[: config.max_examples]
    return PairingData(
        [anchors[i] for i in order], [positives[i] for i in order], sources, augmented, overlap, duplicates
    )


# ------------------------------------------------------------------ training
def _load_model(name: str, device: str, max_length: int):
    from sentence_transformers import SentenceTransformer

    from nli_check.devices import resolve_device
    from nli_check.models import resolve_model_name

    source = resolve_model_name(name)
    local = Path(source).exists()
    try:
        model = SentenceTransformer(
            source, device=str(resolve_device(device)), local_files_only=True, trust_remote_code=False
        )
    except (OSError, ValueError) as exc:
        where = "no such directory, and the hub is not used" if not local else str(exc).splitlines()[0]
        raise NLICheckError(f"cannot load base model {name!r} ({where}): give a local sentence-transformers "
                            "directory") from exc
    base_length = model.max_seq_length
    model.max_seq_length = max_length
    return model, base_length


def _mine(config: EmbedderTrainConfig, dataset, model):
    if config.hard_negative_miner == "bm25":
        return _mine_bm25(config, dataset)
    from sentence_transformers.util import mine_hard_negatives

    mined = mine_hard_negatives(
        dataset, model, anchor_column_name="anchor", positive_column_name="positive",
        range_min=config.hard_negative_range_min, range_max=config.hard_negative_range_max,
        max_score=config.hard_negative_max_score, num_negatives=1, sampling_strategy="random",
        output_format="triplet", batch_size=128, verbose=False,
    )
    logger.info("Mined hard negatives for %d of %d examples", len(mined), len(dataset))
    return mined


def _mine_bm25(config: EmbedderTrainConfig, dataset):
    """One negative per example: evidence of another pair that shares words with the claim
    (BM25 ranks ``[range_min, range_max)``), never evidence paired with the same claim text."""
    import datasets
    import numpy as np

    from nli_check.pairing import quiet_bm25s

    bm25s = quiet_bm25s()

    anchors, positives = dataset["anchor"], dataset["positive"]
    corpus = sorted(set(positives))
    index_of = {text: i for i, text in enumerate(corpus)}
    paired: dict[str, set[int]] = {}
    for anchor, positive in zip(anchors, positives):
        paired.setdefault(_norm(anchor), set()).add(index_of[positive])
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    k = min(config.hard_negative_range_max, len(corpus))
    ids, scores = retriever.retrieve(bm25s.tokenize(list(anchors), stopwords="en", show_progress=False),
                                     k=k, show_progress=False)
    rng = np.random.default_rng(config.seed)
    negatives, mined = [], 0
    for row, anchor in enumerate(anchors):
        banned = paired[_norm(anchor)]
        norm_anchor = _norm(anchor)
        options = [int(j) for j, score in zip(ids[row][config.hard_negative_range_min:],
                                              scores[row][config.hard_negative_range_min:])
                   if score > 0 and int(j) not in banned and _norm(corpus[int(j)]) != norm_anchor][:10]
        if options:
            mined += 1
            negatives.append(corpus[options[int(rng.integers(len(options)))]])
        else:  # nothing on-topic: any other pair's evidence
            choice = int(rng.integers(len(corpus)))
            while choice in banned and len(corpus) > len(banned):
                choice = int(rng.integers(len(corpus)))
            negatives.append(corpus[choice])
    logger.info("Mined on-topic hard negatives (BM25) for %d of %d examples; the rest get a random one",
                mined, len(anchors))
    return datasets.Dataset.from_dict({"anchor": list(anchors), "positive": list(positives), "negative": negatives})


def _freeze(model, config: EmbedderTrainConfig) -> None:
    encoder = model[0].auto_model
    if config.freeze_embeddings:
        encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    if config.train_layers is not None:
        layers = encoder.encoder.layer
        if config.train_layers > len(layers):
            raise NLICheckError(f"train_layers is {config.train_layers} but the model has {len(layers)} layers")
        encoder.embeddings.requires_grad_(False)
        for layer in layers[: len(layers) - config.train_layers]:
            layer.requires_grad_(False)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    logger.info("Training %d of %d parameters", trainable, sum(p.numel() for p in model.parameters()))


def _loss(config: EmbedderTrainConfig, model):
    from sentence_transformers.sentence_transformer import losses

    if config.loss == "mnrl":
        return losses.MultipleNegativesRankingLoss(model)
    if config.loss == "cached_mnrl":
        return losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=16)
    guide, _ = _load_model(config.base_model, config.device, config.max_length)
    return losses.GISTEmbedLoss(model, guide)


def _save(model, path: Path, dtype: str, max_length: int) -> None:
    """The trained model as a Transformer -> Pooling -> Normalize folder, written atomically."""
    import copy

    import torch

    tmp = path.parent / f".{path.name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    to_save = copy.deepcopy(model).cpu()
    to_save.max_seq_length = max_length
    if dtype == "float16":
        to_save = to_save.to(torch.float16)
    to_save.save(str(tmp), safe_serialization=True, create_model_card=False)
    path.mkdir(parents=True, exist_ok=True)
    for item in tmp.iterdir():
        target = path / item.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(item, target)
    tmp.rmdir()


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _log_callback_class():
    from transformers import TrainerCallback

    class LogCallback(TrainerCallback):
        """Training logs (step, loss, learning rate) to the logger, never to stdout."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs:
                shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items())
                logger.info("step %d/%d: %s", state.global_step, state.max_steps, shown)

    return LogCallback


def _LogCallback():  # noqa: N802 - a factory that reads like the class it returns
    return _log_callback_class()()


def _last_checkpoint(folder: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


def train_embedder(config: EmbedderTrainConfig, *, resume: bool = False, show_progress: bool = False) -> dict:
    """Train per ``config``; returns the training record (also saved beside the model)."""
    import datasets
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.training_args import BatchSamplers
    from transformers.trainer_callback import PrinterCallback

    started = time.time()
    output = Path(config.output_dir)
    checkpoints = Path(config.checkpoint_dir)
    resume_from = _last_checkpoint(checkpoints) if resume else None
    if resume and resume_from is None:
        raise NLICheckError(f"--resume: no checkpoint in {checkpoints}; run without --resume to start afresh")
    if not resume and _last_checkpoint(checkpoints) is not None:
        raise NLICheckError(
            f"{checkpoints} holds checkpoints of an earlier run: pass --resume to continue it, "
            "or remove the folder (or set checkpoint_dir) to start afresh"
        )

    pairs = build_pairs(config)
    if len(pairs.anchors) < config.batch_size:
        raise NLICheckError(
            f"only {len(pairs.anchors)} training pairs, fewer than one batch ({config.batch_size}): "
            "add data or lower batch_size"
        )
    model, base_length = _load_model(config.base_model, config.device, config.max_length)
    _freeze(model, config)
    dataset = datasets.Dataset.from_dict({"anchor": pairs.anchors, "positive": pairs.positives})
    mining_seconds = 0.0
    if config.hard_negatives:
        mining_started = time.time()
        dataset = _mine(config, dataset, model)
        mining_seconds = time.time() - mining_started

    args = SentenceTransformerTrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_ratio=config.warmup_ratio,
        weight_decay=config.weight_decay,
        seed=config.seed,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        save_strategy="steps",
        save_steps=config.checkpoint_every,
        save_total_limit=2,
        logging_steps=max(1, min(50, config.checkpoint_every)),
        report_to="none",
        disable_tqdm=True,  # progress goes to the log (stderr); transformers would print to stdout
        use_cpu=model.device.type == "cpu",
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=dataset, loss=_loss(config, model)
    )
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(_LogCallback())
    train_started = time.time()
    result = trainer.train(resume_from_checkpoint=resume_from)
    train_seconds = time.time() - train_started

    _save(model, output, config.save_dtype, base_length)
    record = {
        "base_model": config.base_model,
        "loss": config.loss,
        "examples": len(dataset),
        "columns": dataset.column_names,
        "pairs_before_mining": len(pairs.anchors),
        "global_step": int(result.global_step),
        "train_loss": float(result.training_loss),
        "train_seconds": round(train_seconds, 1),
        "examples_per_second": round(len(dataset) * config.epochs / max(train_seconds, 1e-9), 2),
        "mining_seconds": round(mining_seconds, 1),
        "total_seconds": round(time.time() - started, 1),
        "resumed_from": resume_from,
        "sources": pairs.sources,
        "augmented": pairs.augmented,
        "dropped_dev_overlap": pairs.dropped_dev_overlap,
        "dropped_duplicates": pairs.dropped_duplicates,
        "log_history": [h for h in trainer.state.log_history if "loss" in h],
    }
    _write_json(output / CONFIG_FILE, config.to_dict())
    _write_json(output / RECORD_FILE, record)
    logger.info("Saved the pairing embedder to %s (%d steps, %.0f s)", output, record["global_step"], train_seconds)
    return record


def export_checkpoint(config: EmbedderTrainConfig, checkpoint: str | os.PathLike | None = None) -> dict:
    """Save a checkpoint of a run (its last one by default) as the model, as a finished run would:
    for a run stopped early. The record says which step it is and that the run did not finish."""
    from sentence_transformers import SentenceTransformer

    folder = Path(checkpoint) if checkpoint else None
    if folder is not None and not (folder / "trainer_state.json").exists():
        raise NLICheckError(f"{folder} is not a checkpoint of a train-embedder run (no trainer_state.json)")
    if folder is None:
        last = _last_checkpoint(Path(config.checkpoint_dir))
        if last is None:
            raise NLICheckError(f"no checkpoint in {config.checkpoint_dir}")
        folder = Path(last)
    state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True, trust_remote_code=False)
    _, base_length = _load_model(config.base_model, "cpu", config.max_length)
    output = Path(config.output_dir)
    _save(model, output, config.save_dtype, base_length)
    record = {
        "base_model": config.base_model,
        "loss": config.loss,
        "exported_from_checkpoint": folder.name,
        "global_step": int(state["global_step"]),
        "max_steps": int(state["max_steps"]),
        "examples_seen": int(state["global_step"]) * config.batch_size,
        "log_history": [h for h in state.get("log_history", []) if "loss" in h],
    }
    _write_json(output / CONFIG_FILE, config.to_dict())
    _write_json(output / RECORD_FILE, record)
    return record


def load_embedder_config(path: str | os.PathLike | None, overrides: list[str] | None = None,
                         **flags: Any) -> EmbedderTrainConfig:
    """A config from a file (or defaults), then command-line flags, then ``--set`` overrides."""
    data = load_config_file(path) if path else {}
    data.update({k: v for k, v in flags.items() if v is not None})
    return EmbedderTrainConfig.from_dict(apply_overrides(data, overrides or []))
