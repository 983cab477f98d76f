"""Fine-tuning: ``TrainConfig`` and the training loop behind ``nli-check train``.

A base encoder gets a new three-label head; an existing NLI model keeps its labels. Each run
saves, beside the best model, the resolved config, the label mapping, the data files with
their row counts and SHA-256 hashes, and the per-evaluation dev metrics. An interrupted run
resumes from its last checkpoint with ``resume=True`` without repeating or skipping data.

A long run goes in legs: ``max_minutes`` ends a leg with a dev evaluation and a checkpoint, and
the next leg continues it with ``resume=True``. Checkpoints are written every
``checkpoint_minutes`` (and every ``checkpoint_every`` steps), so a killed leg loses at most that.
The training record lists every leg: steps, pairs seen, minutes, speed by length, dev metrics.

The loop reads as named steps: :func:`build_model`, :func:`encode`, :func:`plan_epochs`,
:func:`build_optimizer`, then :class:`TrainingRun` (``run_epoch``, ``train_step``, ``evaluate``,
``save_checkpoint``, ``finish_leg``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nli_check.data import LabelledPairs, file_sha256
from nli_check.errors import NLICheckError
from nli_check.labels import (
    CONTRADICTION,
    ENTAILMENT,
    LABELS,
    NEUTRAL,
    NOT_CONTRADICTION,
    NOT_ENTAILMENT,
    map_model_labels,
)
from nli_check.pause import pause_point
from nli_check.train_data import (
    PreparedData,
    epoch_sample,
    length_grouped_batches,
    load_prepared,
    prepare_data,
    prepared_key,
    read_spec,
    save_prepared,
)

logger = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"
RECORD_FILE = "training_record.json"
CONFIG_FILE = "train_config.json"
PREPARED_DIR = "prepared-data"
#: Fields a resumed run may change: they decide when things are saved or where it runs, not what is learnt.
RESUME_FREE_FIELDS = frozenset({"checkpoint_every", "checkpoint_minutes", "device", "eval_every",
                                "early_stopping_patience", "baseline_model", "max_shard_size"})
DATA_KINDS = ("file", "disputes", "topic_neutrals", "cases")
CASE_SELECTIONS = ("all", "contradictions", "others")


@dataclass
class DataSpec:
    """One labelled source for training or dev.

    ``holdout`` names a fraction of pairs (chosen by a hash of the pair) that is held out:
    a dev entry keeps that fraction, a train entry keeps the rest, so one file can feed both
    without overlap. ``kind="disputes"`` builds ``size`` dispute-frame pairs from the file's
    sentences instead of reading its labels; ``kind="topic_neutrals"`` builds up to ``size``
    neutral pairs of a claim against another claim's on-topic evidence (see :mod:`nli_check.augment`).
    ``kind="cases"`` reads a folder of findings cases (``data/cases/<split>``; a relative path is
    taken from the working directory) and trains on their pairs (:func:`nli_check.cases.case_pairs`),
    with ``negatives`` on-topic source sentences per draft sentence; ``select`` keeps ``all`` of them,
    only the gold ``contradictions``, or the ``others``, so that two entries on one folder can weigh
    the few contradictions against the many pairs that are not; ``ids`` keeps only the cases whose
    id matches a pattern ("r[a-h]*"), so that a recipe keeps reading the cases it was made with.
    ``weight`` is the sampling weight: per epoch the entry contributes ``weight`` times its pairs.
    """

    path: str
    name: str | None = None
    limit: int | None = None
    holdout: float = 0.0
    kind: str = "file"
    size: int | None = None
    premise_col: str | None = None
    hypothesis_col: str | None = None
    label_col: str | None = None
    label_map: str | None = None
    weight: float = 1.0
    negatives: int = 4
    select: str = "all"
    ids: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in DATA_KINDS:
            raise NLICheckError(f"data kind must be one of {', '.join(DATA_KINDS)}, got {self.kind!r}")
        if not float(self.weight) > 0:
            raise NLICheckError(f"weight must be positive, got {self.weight} for {self.path}")
        if not 0.0 <= float(self.holdout) < 1.0:
            raise NLICheckError(f"holdout must be in [0, 1), got {self.holdout} for {self.path}")
        if self.limit is not None and int(self.limit) < 1:
            raise NLICheckError(f"limit must be at least 1, got {self.limit} for {self.path}")
        if self.select not in CASE_SELECTIONS:
            raise NLICheckError(f"select must be one of {', '.join(CASE_SELECTIONS)}, got {self.select!r}")
        if self.ids is not None and self.kind != "cases":
            raise NLICheckError(f"ids picks cases: it applies only to a kind = \"cases\" entry ({self.path})")
        if int(self.negatives) < 0:
            raise NLICheckError(f"negatives must be at least 0, got {self.negatives} for {self.path}")
        if self.kind not in ("file", "cases") and not self.size:
            raise NLICheckError(f"a {self.kind} entry needs size = N (number of pairs) for {self.path}")

    @classmethod
    def parse(cls, value: Any) -> DataSpec:
        if isinstance(value, DataSpec):
            return value
        if isinstance(value, (str, os.PathLike)):
            return cls(path=str(value))
        if isinstance(value, dict):
            unknown = set(value) - {f.name for f in dataclasses.fields(cls)}
            if unknown:
                raise NLICheckError(f"unknown data option(s) {sorted(unknown)} in {value}")
            return cls(**value)
        raise NLICheckError(f"a data entry must be a path or a table, got {value!r}")

    def as_dict(self) -> dict:
        """The entry's fields; ``negatives``, ``select`` and ``ids`` only for a cases entry, so that records and
        resumed runs of other entries read as they did before those fields existed."""
        data = dataclasses.asdict(self)
        if self.kind != "cases":
            data.pop("negatives")
            data.pop("select")
        if self.ids is None:
            data.pop("ids")
        return data

    @property
    def display_name(self) -> str:
        from nli_check.data import _stem

        return self.name or _stem(Path(self.path))


class Recipe:
    """What the recipe dataclasses (:class:`TrainConfig`, the embedder's) share: checks that
    raise one clear error, and loading from a dict that refuses unknown fields."""

    @staticmethod
    def _require(checks: list[tuple[bool, str]]) -> None:
        for ok, message in checks:
            if not ok:
                raise NLICheckError(message)

    @classmethod
    def from_dict(cls, data: dict):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise NLICheckError(
                f"unknown config field(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
            )
        return cls(**data)


@dataclass
class TrainConfig(Recipe):
    """Everything that defines a training run. Loadable from TOML/YAML; every field overridable."""

    base_model: str = "all-MiniLM-L6-v2"
    output_dir: str = "nli-model"
    data_dir: str | None = None
    train: list[DataSpec] = field(default_factory=list)
    dev: list[DataSpec] = field(default_factory=list)
    #: Sets kept out of training and dev, for fitting the temperature (``nli-check calibrate --config``).
    calibration: list[DataSpec] = field(default_factory=list)
    epochs: int = 3
    learning_rate: float = 5e-5
    batch_size: int = 32
    #: With a token budget, a batch holds at most this many tokens once padded (and at most
    #: ``batch_size`` pairs): short pairs share a step, long ones get smaller batches.
    batch_tokens: int | None = None
    max_length: int = 128
    #: Pairs longer than ``max_length``: "window" them as inference does, or "truncate" them.
    long_pairs: str = "window"
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    seed: int = 13
    early_stopping_patience: int = 2
    eval_every: int | None = None
    checkpoint_every: int = 200
    #: Also checkpoint when this many minutes have passed since the last checkpoint.
    checkpoint_minutes: float = 10.0
    max_dev_pairs: int | None = 2000
    symmetric_contradictions: bool = True
    #: Keep the word-embedding matrix fixed: about 4x faster steps on CPU, little accuracy lost.
    freeze_embeddings: bool = True
    #: Keep this many of the lowest transformer layers fixed too: no backward pass through them.
    freeze_layers: int = 0
    number_edits: int = 0
    #: Event-aware pairs (:func:`nli_check.augment.event_pairs`): the same template about
    #: another event is neutral, another figure for the same event a contradiction.
    event_pairs: int = 0
    #: Opposite states of one subject in few shared words (:func:`nli_check.augment.opposite_pairs`):
    #: contradiction; the same state reworded: entailment; another subject: neutral.
    opposite_pairs: int = 0
    save_dtype: str = "float32"
    #: Shard the saved best model into safetensors files of at most this size: bytes, or a
    #: string such as "16MiB" or "200KB" (KiB/MiB/GiB count in 1024s, KB/MB/GB in 1000s).
    max_shard_size: str | int | None = None
    #: An NLI model scored on the same dev sets when a run starts, for comparison.
    baseline_model: str | None = None
    device: str = "auto"
    strict: bool = False
    premise_col: str | None = None
    hypothesis_col: str | None = None
    label_col: str | None = None
    label_map: str | None = None

    def __post_init__(self) -> None:
        self.train = [DataSpec.parse(v) for v in self.train]
        self.dev = [DataSpec.parse(v) for v in self.dev]
        self.calibration = [DataSpec.parse(v) for v in self.calibration]
        held_out_cases = [spec.path for spec in (*self.dev, *self.calibration) if spec.kind == "cases"]
        checks = [
            (self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}"),
            (self.learning_rate > 0, f"learning_rate must be positive, got {self.learning_rate}"),
            (self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}"),
            (16 <= self.max_length <= 512, f"max_length must be in [16, 512], got {self.max_length}"),
            (0 <= self.warmup_ratio < 1, f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (self.max_grad_norm > 0, f"max_grad_norm must be positive, got {self.max_grad_norm}"),
            (self.checkpoint_every >= 1, f"checkpoint_every must be >= 1, got {self.checkpoint_every}"),
            (self.save_dtype in {"float32", "float16", "bfloat16"},
             f"save_dtype must be float32, float16 or bfloat16, got {self.save_dtype!r}"),
            (self.early_stopping_patience >= 0, "early_stopping_patience must be >= 0"),
            (self.batch_tokens is None or self.batch_tokens >= self.max_length,
             f"batch_tokens must be at least max_length ({self.max_length}), got {self.batch_tokens}"),
            (self.long_pairs in {"window", "truncate"},
             f"long_pairs must be 'window' or 'truncate', got {self.long_pairs!r}"),
            (self.checkpoint_minutes > 0, f"checkpoint_minutes must be positive, got {self.checkpoint_minutes}"),
            (self.freeze_layers >= 0, f"freeze_layers must be >= 0, got {self.freeze_layers}"),
            (not held_out_cases, f"a cases entry ({', '.join(held_out_cases)}) trains only: move it to [[train]], "
                                 "and score cases with scripts/bench_findings.py"),
            (self.max_shard_size is None or shard_size_bytes(self.max_shard_size) is not None,
             f"max_shard_size must be a size such as 16MiB, 200KB or a number of bytes, got {self.max_shard_size!r}"),
        ]
        self._require(checks)

    # -------------------------------------------------------------- loading

    @classmethod
    def from_file(cls, path: str | os.PathLike, overrides: list[str] | None = None) -> TrainConfig:
        data = load_config_file(path)
        data = apply_overrides(data, overrides or [])
        return cls.from_dict(data)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        for part in ("train", "dev", "calibration"):
            data[part] = [spec.as_dict() for spec in getattr(self, part)]
        return data

    def snapshot(self) -> dict:
        """The config as JSON values, without the fields a resumed run may change."""
        data = json.loads(json.dumps(self.to_dict(), default=str))
        return {k: v for k, v in data.items() if k not in RESUME_FREE_FIELDS}

    def resolve_path(self, path: str) -> Path:
        candidate = Path(path).expanduser()
        if candidate.is_absolute() or self.data_dir is None:
            return candidate
        return Path(self.data_dir).expanduser() / candidate

    def spec_path(self, spec: DataSpec) -> Path:
        """Where a data entry is read from: a cases folder from the working directory, files from ``data_dir``."""
        return Path(spec.path).expanduser() if spec.kind == "cases" else self.resolve_path(spec.path)


def load_config_file(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.exists():
        raise NLICheckError(f"config file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            return tomllib.loads(text)
        if path.suffix.lower() in {".yaml", ".yml"}:
            import yaml

            data = yaml.safe_load(text) or {}
            if not isinstance(data, dict):
                raise NLICheckError(f"{path}: the config must be a mapping of field: value")
            return data
        if path.suffix.lower() == ".json":
            return json.loads(text)
    except NLICheckError:
        raise
    except Exception as exc:
        raise NLICheckError(f"cannot parse {path}: {str(exc).splitlines()[0]}") from exc
    raise NLICheckError(f"{path}: config files are .toml, .yaml or .json")


def _parse_value(raw: str) -> Any:
    lowered = raw.strip().lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if lowered in {"none", "null"}:
        return None
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``key=value`` overrides; dotted keys reach into lists (``train.0.limit=100``)."""
    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise NLICheckError(f"override {item!r} must look like field=value")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        target: Any = data
        for part in parts[:-1]:
            if isinstance(target, list):
                try:
                    target = target[int(part)]
                except (ValueError, IndexError) as exc:
                    raise NLICheckError(f"override {item!r}: no list entry {part}") from exc
            else:
                target = target.setdefault(part, {})
        last = parts[-1]
        value = _parse_value(raw)
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return data


# ------------------------------------------------------------------ named steps
@dataclass
class Encoded:
    """Token ids of the training pairs, their lengths, label ids and sources."""

    ids: list
    types: list | None
    lengths: np.ndarray
    targets: np.ndarray
    source_ids: np.ndarray
    truncated: int = 0


def build_model(config: TrainConfig, checkpoint: Path | None):
    """The tokenizer, the model (from the checkpoint when resuming), its label index, and whether
    the head is new. Frozen parts (embeddings, lowest layers) are set here."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    from nli_check.models import resolve_model_name

    base = resolve_model_name(config.base_model)
    local_only = Path(base).exists() or os.environ.get("HF_HUB_OFFLINE") == "1"
    try:
        base_config = AutoConfig.from_pretrained(base, local_files_only=local_only)
    except OSError as exc:
        raise NLICheckError(f"cannot load base model {config.base_model!r}: give a local model directory") from exc
    try:
        label_index = map_model_labels(getattr(base_config, "id2label", None))
        new_head = False
    except NLICheckError:
        label_index = {name: i for i, name in enumerate(LABELS)}
        new_head = True
    id2label = {i: name for name, i in label_index.items()}
    kwargs: dict[str, Any] = {"local_files_only": True if checkpoint else local_only, "use_safetensors": True,
                              "dtype": torch.float32}
    if new_head and not checkpoint:
        kwargs.update(num_labels=len(id2label), id2label=id2label,
                      label2id={v: k for k, v in id2label.items()}, ignore_mismatched_sizes=True)
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=local_only)
    model = AutoModelForSequenceClassification.from_pretrained(str(checkpoint) if checkpoint else base, **kwargs)
    freeze(model, config)
    return tokenizer, model, label_index, new_head


def freeze(model, config: TrainConfig) -> None:
    """Fix the word embeddings and/or the lowest ``freeze_layers`` transformer layers."""
    if config.freeze_embeddings or config.freeze_layers:
        model.get_input_embeddings().requires_grad_(False)
    if not config.freeze_layers:
        return
    encoder = getattr(model.base_model, "encoder", None)
    layers = getattr(encoder, "layer", None)
    if layers is None or config.freeze_layers > len(layers):
        raise NLICheckError(f"freeze_layers={config.freeze_layers}: the model has "
                            f"{0 if layers is None else len(layers)} encoder layers it can freeze")
    model.base_model.embeddings.requires_grad_(False)
    for layer in layers[: config.freeze_layers]:
        layer.requires_grad_(False)


def encode(tokenizer, data: PreparedData, label_index: dict[str, int], max_length: int,
           windowed: bool = False) -> Encoded:
    """Token ids of every training pair. With ``windowed`` data every pair already fits ``max_length``;
    otherwise pairs that reach it are counted (and logged) as truncated."""
    enc = tokenizer(data.premises, data.hypotheses, truncation=True, max_length=max_length)
    lengths = np.fromiter((len(x) for x in enc["input_ids"]), dtype=np.int64, count=len(data.labels))
    truncated = 0 if windowed else int((lengths >= max_length).sum())
    if truncated:
        logger.warning("%d training pairs (%.1f%%) are longer than max_length=%d and were truncated for training",
                       truncated, 100 * truncated / max(len(lengths), 1), max_length)
    return Encoded(enc["input_ids"], enc.get("token_type_ids"), lengths,
                   np.array([label_target(x, label_index) for x in data.labels], dtype=np.int64),
                   np.asarray(data.source_ids, dtype=np.int64), truncated)


#: The target id of a ``not-contradiction`` pair (:data:`nli_check.labels.NOT_CONTRADICTION`).
NOT_CONTRADICTION_TARGET = -1


def label_target(label: str, label_index: dict[str, int]) -> int:
    return NOT_CONTRADICTION_TARGET if label == NOT_CONTRADICTION else label_index[label]


def nli_loss(logits, targets, contradiction_index: int):
    """Mean loss of a batch: cross-entropy for pairs with a label, and ``-log(1 - p(contradiction))``
    for ``not-contradiction`` pairs (:data:`NOT_CONTRADICTION_TARGET`), which leaves the model free
    to call them entailment or neutral."""
    import torch

    log_probs = torch.log_softmax(logits.float(), dim=-1)
    labelled = -log_probs.gather(1, targets.clamp(min=0).unsqueeze(1)).squeeze(1)
    p_contradiction = log_probs[:, contradiction_index].exp().clamp(max=1 - 1e-6)
    return torch.where(targets >= 0, labelled, -torch.log1p(-p_contradiction)).mean()


def plan_epochs(encoded: Encoded, weights: list[float], config: TrainConfig) -> list[list[np.ndarray]]:
    """Every epoch's batches, fixed by the seed: the weighted sample, cut into length-grouped batches."""
    plans = []
    for epoch in range(config.epochs):
        sample = epoch_sample(encoded.source_ids, weights, config.seed, epoch)
        plans.append(length_grouped_batches(sample, encoded.lengths, config.batch_size, config.batch_tokens,
                                            config.seed, epoch))
    return plans


def build_optimizer(model, config: TrainConfig, total_steps: int):
    """AdamW (no weight decay on biases and norms) and a linear schedule with warm-up."""
    import torch
    from transformers import get_linear_schedule_with_warmup

    no_decay = ("bias", "LayerNorm.weight", "layer_norm", "norm.weight")
    trainable = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    groups = [
        {"params": [p for name, p in trainable if not any(k in name for k in no_decay)],
         "weight_decay": config.weight_decay},
        {"params": [p for name, p in trainable if any(k in name for k in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=config.learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    return optimizer, scheduler


def make_batch(encoded: Encoded, idx: np.ndarray, pad_id: int, device) -> tuple[dict, Any]:
    """Model inputs for the pairs ``idx``, padded to the longest of them, and their labels."""
    import torch

    from nli_check.nli import pad_batch

    arrays = pad_batch(encoded.ids, encoded.lengths, idx, pad_id, encoded.types)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    inputs = {name: torch.from_numpy(a).to(device) for name, a in zip(names, arrays)}
    return inputs, torch.as_tensor(encoded.targets[idx]).to(device)


def train_step(model, optimizer, scheduler, inputs: dict, labels, max_grad_norm: float,
               contradiction_index: int) -> float:
    """One optimiser step on one batch; returns the batch's mean loss (:func:`nli_loss`)."""
    import torch

    device = labels.device
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits = model(**inputs).logits
    loss = nli_loss(logits, labels, contradiction_index)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], max_grad_norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.item())


def dev_logits(model, tokenizer, dev: LabelledPairs, label_index: dict[str, int], device, max_length: int,
               batch_tokens: int = 8192) -> np.ndarray:
    """Logits in :data:`LABELS` order for a dev set, long pairs windowed and the most decided
    window kept, as :class:`nli_check.nli.NLIModel` does at inference."""
    import torch

    from nli_check.nli import length_batches, pad_batch, window_pair

    room = max_length - tokenizer.num_special_tokens_to_add(pair=True)
    counts = [[len(x) for x in tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]]
              for texts in (dev.premises, dev.hypotheses)]
    expanded, owner = [], []
    for index, pair in enumerate(dev.pairs()):
        fits = counts[0][index] + counts[1][index] <= room
        parts = [pair] if fits else window_pair(tokenizer, pair[0], pair[1], max_length)
        expanded.extend(parts)
        owner.extend([index] * len(parts))
    enc = tokenizer([p for p, _ in expanded], [h for _, h in expanded], truncation=True, max_length=max_length)
    lengths = np.array([len(x) for x in enc["input_ids"]], dtype=np.int64)
    raw = np.zeros((len(expanded), len(LABELS)), dtype=np.float32)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for idx in length_batches(lengths, 256, max(batch_tokens, max_length)):
            arrays = pad_batch(enc["input_ids"], lengths, idx, tokenizer.pad_token_id or 0, enc.get("token_type_ids"))
            inputs = {k: torch.from_numpy(a).to(device)
                      for k, a in zip(["input_ids", "attention_mask", "token_type_ids"], arrays)}
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                out = model(**inputs).logits.float().cpu().numpy()
            for col, name in enumerate(LABELS):
                raw[idx, col] = out[:, label_index[name]] if name in label_index else -1e4
    model.train(was_training)
    probs = np.exp(raw - raw.max(axis=1, keepdims=True))
    decisive = np.maximum(probs[:, 0], probs[:, 1]) / probs.sum(axis=1)
    logits = np.zeros((len(dev), len(LABELS)), dtype=np.float32)
    best = np.full(len(dev), -1.0)
    for row, index in enumerate(owner):
        if decisive[row] > best[index]:
            best[index], logits[index] = decisive[row], raw[row]
    return logits


def dev_metrics(logits: np.ndarray, dev: LabelledPairs) -> dict:
    """Accuracy and macro-F1 of dev logits, in the set's own label space (two-way: C vs E)."""
    gold = np.array([LABELS.index(x) if x in LABELS else -1 for x in dev.labels])
    kind = dev.kind
    if kind == "two_way":
        pred = np.where(logits[:, 0] > logits[:, 1], 0, 1)
    elif kind == "entailment_vs_not":
        is_e = logits[:, 1] >= np.maximum(logits[:, 0], logits[:, 2])
        truth = np.array([x == ENTAILMENT for x in dev.labels])
        return {"accuracy": float((is_e == truth).mean()), "pairs": len(dev), "kind": kind}
    else:
        pred = logits.argmax(axis=1)
    f1s = []
    for cls in sorted(set(gold.tolist())):
        tp = float(((pred == cls) & (gold == cls)).sum())
        fp = float(((pred == cls) & (gold != cls)).sum())
        fn = float(((pred != cls) & (gold == cls)).sum())
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return {"accuracy": float((pred == gold).mean()), "macro_f1": float(np.mean(f1s)), "pairs": len(dev),
            "kind": kind}


def score_dev_sets(model, tokenizer, sets: list[LabelledPairs], label_index, device, max_length: int) -> dict:
    """Per-set dev metrics and their macro mean accuracy."""
    scores = {d.name: dev_metrics(dev_logits(model, tokenizer, d, label_index, device, max_length), d)
              for d in sets}
    mean = float(np.mean([s["accuracy"] for s in scores.values()])) if scores else None
    return {"mean_dev_accuracy": mean, "dev": scores}


def score_baseline(path: str, sets: list[LabelledPairs], device, max_length: int) -> dict:
    """The dev scores of an existing NLI model (the one a run should beat)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True, use_safetensors=True,
                                                                   dtype=torch.float32).to(device)
    except (OSError, ValueError) as exc:
        raise NLICheckError(f"cannot load baseline_model {path!r}: give a local NLI model directory") from exc
    label_index = map_model_labels(getattr(model.config, "id2label", None), source=f"model {path}")
    return {"model": path} | score_dev_sets(model, tokenizer, sets, label_index, device, max_length)


_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def shard_size_bytes(size: str | int) -> int | None:
    """``"16MiB"`` -> 16777216, ``"200KB"`` -> 200000, ``5000`` -> 5000; ``None`` if not a positive size."""
    if isinstance(size, bool):
        return None
    if isinstance(size, int):
        return size if size > 0 else None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", str(size))
    if not match or match.group(2).upper() not in _SIZE_UNITS:
        return None
    value = int(float(match.group(1)) * _SIZE_UNITS[match.group(2).upper()])
    return value if value > 0 else None


def _save_model(model, tokenizer, path: Path, dtype: str, max_shard_size: str | int | None = None) -> None:
    """Save weights (safetensors, sharded if asked) and tokenizer, replacing any weights there."""
    import torch

    tmp = path.parent / f".{path.name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    to_save = model
    if dtype != "float32":
        to_save = copy.deepcopy(model).to(getattr(torch, dtype))
    kwargs = {"max_shard_size": shard_size_bytes(max_shard_size)} if max_shard_size else {}
    to_save.save_pretrained(tmp, safe_serialization=True, **kwargs)
    tokenizer.save_pretrained(tmp)
    path.mkdir(parents=True, exist_ok=True)
    for old in [*path.glob("*.safetensors"), *path.glob("*.safetensors.index.json")]:
        old.unlink()
    for item in tmp.iterdir():
        os.replace(item, path / item.name)
    tmp.rmdir()


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _now(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


# ------------------------------------------------------------------ the run
@dataclass
class RunState:
    """Where a run stands: saved in every checkpoint, restored by ``resume``."""

    epoch: int = 0
    batch_in_epoch: int = 0
    global_step: int = 0
    pairs_seen: int = 0
    history: list = field(default_factory=list)
    best: float = -1.0
    best_step: int | None = None
    patience: int = 0
    legs: list = field(default_factory=list)
    baseline: dict | None = None


class Speed:
    """Training pairs/s and tokens/s by padded batch length (buckets of 32 tokens)."""

    def __init__(self) -> None:
        self.buckets: dict[int, list[float]] = {}

    def add(self, width: int, pairs: int, real_tokens: int, seconds: float) -> None:
        bucket = self.buckets.setdefault(min((width + 31) // 32, 16) * 32, [0, 0, 0, 0.0])
        bucket[0] += pairs
        bucket[1] += real_tokens
        bucket[2] += pairs * width
        bucket[3] += seconds

    def report(self) -> dict:
        total = [sum(b[i] for b in self.buckets.values()) for i in range(4)]
        return {
            "pairs_per_second": total[0] / total[3] if total[3] else None,
            "padding_share": 1 - total[1] / total[2] if total[2] else None,
            "by_length": {f"<={k}": {"pairs": b[0], "seconds": round(b[3], 1),
                                     "pairs_per_second": round(b[0] / b[3], 2) if b[3] else None}
                          for k, b in sorted(self.buckets.items())},
        }


class TrainingRun:
    """One leg of a training run: the model, optimiser, data plan and state, and the steps on them."""

    def __init__(self, config: TrainConfig, *, resume: bool, max_minutes: float | None, show_progress: bool):
        import torch

        from nli_check.devices import resolve_device

        self.started = time.time()  # a leg's minutes include reading the data
        self.config, self.max_minutes, self.show_progress = config, max_minutes, show_progress
        self.output = Path(config.output_dir)
        self.checkpoint = self.output / CHECKPOINT_DIR
        saved = self._check_resume(resume)
        torch.manual_seed(config.seed)
        np.random.seed(config.seed)
        self.device = resolve_device(config.device)
        self.tokenizer, self.model, self.label_index, self.new_head = build_model(
            config, self.checkpoint if saved else None)
        self.model.to(self.device).train()
        self.data, self.encoded = self.build_data()
        self.plans = plan_epochs(self.encoded, self.data.weights, config)
        self.total_steps = sum(len(p) for p in self.plans)
        self.optimizer, self.scheduler = build_optimizer(self.model, config, self.total_steps)
        self.state = RunState(patience=config.early_stopping_patience)
        if saved:
            self._restore(saved)
        logger.info("training on %d pairs, %d per epoch (%d dropped as dev/calibration overlap, %d duplicates); "
                    "%d steps in all; augmented: %s", len(self.data.labels), self.data.pairs_per_epoch(),
                    self.data.dropped_overlap, self.data.dropped_duplicates, self.total_steps, self.data.augmented)
        self.speed = Speed()
        self.last_checkpoint = time.time()
        self.loss_sum, self.loss_count = 0.0, 0
        self.leg = {"leg": len(self.state.legs) + 1, "started": _now(self.started),
                    "start_step": self.state.global_step, "start_pairs_seen": self.state.pairs_seen,
                    "ended": "interrupted"}
        self.state.legs.append(self.leg)

    def build_data(self) -> tuple[PreparedData, Encoded]:
        """The prepared, tokenised training data: read from the run's folder when an earlier leg of
        the same config on the same files saved it, else prepared (and saved for the next leg)."""
        config = self.config
        key = prepared_key(config)
        cache = self.output / PREPARED_DIR
        cached = load_prepared(cache, key)
        if cached:
            return cached
        data = prepare_data(config, set(self.label_index) | {NOT_CONTRADICTION}, self.tokenizer)
        if not data.labels:
            raise NLICheckError("no training pairs left after filtering: check the data and labels")
        encoded = encode(self.tokenizer, data, self.label_index, config.max_length,
                         windowed=config.long_pairs == "window")
        save_prepared(cache, key, data, encoded)
        return data, encoded

    def _check_resume(self, resume: bool) -> dict | None:
        if not resume:
            if self.checkpoint.exists():
                raise NLICheckError(
                    f"{self.output} holds an unfinished run: add --resume to continue it, or choose a new --output")
            return None
        if not (self.checkpoint / "state.json").exists():
            raise NLICheckError(f"nothing to resume: {self.checkpoint} holds no checkpoint; run without --resume")
        saved = json.loads((self.checkpoint / "state.json").read_text())
        previous = {k: v for k, v in saved.get("config", {}).items() if k not in RESUME_FREE_FIELDS}
        current = self.config.snapshot()
        # A field newer than the checkpoint matches when it keeps its default.
        defaults = json.loads(json.dumps(TrainConfig().snapshot(), default=str))
        changed = sorted(k for k in set(previous) | set(current)
                         if previous.get(k, defaults.get(k)) != current.get(k))
        if previous and changed:
            raise NLICheckError(
                f"the config differs from the one {self.checkpoint} was trained with ({', '.join(changed)}): "
                "resume with the same config, or train into a new --output directory")
        return saved

    def _restore(self, saved: dict) -> None:
        import torch

        self.optimizer.load_state_dict(torch.load(self.checkpoint / "optimizer.pt", weights_only=True))
        self.scheduler.load_state_dict(torch.load(self.checkpoint / "scheduler.pt", weights_only=True))
        torch.set_rng_state(torch.load(self.checkpoint / "rng.pt", weights_only=True))
        known = {f.name for f in dataclasses.fields(RunState)}
        self.state = RunState(**{k: v for k, v in saved.items() if k in known})
        logger.info("resuming at epoch %d, batch %d (step %d of %d)", self.state.epoch + 1,
                    self.state.batch_in_epoch, self.state.global_step, self.total_steps)

    # -------------------------------------------------------------- steps
    def minutes(self) -> float:
        return (time.time() - self.started) / 60

    def out_of_time(self) -> bool:
        return self.max_minutes is not None and self.minutes() >= self.max_minutes

    def run_epoch(self, epoch: int, first_batch: int, progress) -> str | None:
        """Train on one epoch's batches from ``first_batch``; returns why it stopped early, if it did."""
        batches = self.plans[epoch]
        pad_id = self.tokenizer.pad_token_id or 0
        for position in range(first_batch, len(batches)):
            idx = batches[position]
            began = time.perf_counter()
            inputs, labels = make_batch(self.encoded, idx, pad_id, self.device)
            loss = train_step(self.model, self.optimizer, self.scheduler, inputs, labels, self.config.max_grad_norm,
                              self.label_index[CONTRADICTION])
            width = int(inputs["input_ids"].shape[1])
            self.speed.add(width, len(idx), int(self.encoded.lengths[idx].sum()), time.perf_counter() - began)
            self.state.global_step += 1
            self.state.pairs_seen += len(idx)
            self.state.epoch, self.state.batch_in_epoch = epoch, position + 1
            self.loss_sum += loss * len(idx)
            self.loss_count += len(idx)
            if progress is not None:
                progress.update(1)
                progress.set_postfix(loss=f"{self.loss_sum / self.loss_count:.4f}")
            every = self.config.eval_every
            if every and self.state.global_step % every == 0 and position + 1 < len(batches) and self.evaluate():
                return "early stop"
            if (self.state.global_step % self.config.checkpoint_every == 0
                    or time.time() - self.last_checkpoint >= 60 * self.config.checkpoint_minutes):
                self.save_checkpoint()
            if self.out_of_time():
                return "time limit"
        self.state.epoch, self.state.batch_in_epoch = epoch + 1, 0
        return None

    def evaluate(self) -> bool:
        """Score the dev sets; save the model if it is the best so far. Returns True to stop early."""
        config, state = self.config, self.state
        if state.history and state.history[-1]["step"] == state.global_step:
            return False  # already evaluated at this step (a leg that ended at an epoch's last batch)
        scores = score_dev_sets(self.model, self.tokenizer, self.data.dev, self.label_index, self.device,
                                config.max_length)
        mean = scores["mean_dev_accuracy"]
        mean = -float(state.global_step) if mean is None else mean
        epoch = max(1, state.epoch if state.batch_in_epoch == 0 else state.epoch + 1)
        entry = {"epoch": epoch, "step": state.global_step,
                 "pairs_seen": state.pairs_seen, "mean_dev_accuracy": mean, "dev": scores["dev"],
                 "train_loss": self.loss_sum / max(self.loss_count, 1), "time": time.time() - self.started}
        state.history.append(entry)
        self.loss_sum, self.loss_count = 0.0, 0
        logger.info("step %d: mean dev accuracy %.4f  %s", state.global_step, mean,
                    "  ".join(f"{k}={v['accuracy']:.3f}" for k, v in scores["dev"].items()))
        if mean > state.best or not self.data.dev:
            state.best, state.best_step = mean, state.global_step
            state.patience = config.early_stopping_patience
            _save_model(self.model, self.tokenizer, self.output, config.save_dtype, config.max_shard_size)
            _write_json(self.output / CONFIG_FILE, config.to_dict())
            logger.info("saved best model to %s", self.output)
            return False
        state.patience -= 1
        return state.patience < 0

    def save_checkpoint(self, leg_status: str = "interrupted") -> None:
        """Model (fp32), optimiser, schedule, RNG and run state, swapped in atomically. The leg is
        recorded as ``leg_status`` ("interrupted" unless it ends here), so a killed leg stays listed."""
        import torch

        self._close_leg(leg_status)
        tmp = self.output / f".{CHECKPOINT_DIR}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        self.model.save_pretrained(tmp, safe_serialization=True)
        torch.save(self.optimizer.state_dict(), tmp / "optimizer.pt")
        torch.save(self.scheduler.state_dict(), tmp / "scheduler.pt")
        torch.save(torch.get_rng_state(), tmp / "rng.pt")
        _write_json(tmp / "state.json", dataclasses.asdict(self.state) | {
            "config": json.loads(json.dumps(self.config.to_dict(), default=str))})
        old = self.output / f".{CHECKPOINT_DIR}.old"
        if self.checkpoint.exists():
            os.replace(self.checkpoint, old)
        os.replace(tmp, self.checkpoint)
        if old.exists():
            shutil.rmtree(old)
        self.last_checkpoint = time.time()
        _write_json(self.output / RECORD_FILE, self.record(finished=False))
        speed = self.leg["speed"]["pairs_per_second"]
        logger.info("%s checkpoint: step %d of %d, epoch %d, %d pairs seen; leg %d: %.1f min, %s pairs/s",
                    _now(), self.state.global_step, self.total_steps, self.state.epoch + 1, self.state.pairs_seen,
                    self.leg["leg"], self.leg["minutes"], "-" if speed is None else f"{speed:.1f}")
        pause_point("train", self.state.global_step)

    def _close_leg(self, reason: str) -> None:
        state = self.state
        last = state.history[-1] if state.history else None
        self.leg.update({
            "ended": reason, "end_step": state.global_step, "steps": state.global_step - self.leg["start_step"],
            "pairs": state.pairs_seen - self.leg["start_pairs_seen"], "pairs_seen": state.pairs_seen,
            "epoch": state.epoch, "batch_in_epoch": state.batch_in_epoch, "minutes": round(self.minutes(), 1),
            "speed": self.speed.report(),
            "dev": None if last is None or last["step"] < self.leg["start_step"] else
            {"step": last["step"], "mean_dev_accuracy": last["mean_dev_accuracy"],
             "accuracy": {k: round(v["accuracy"], 4) for k, v in last["dev"].items()}},
        })

    def record(self, finished: bool) -> dict:
        data, state = self.data, self.state
        return {
            "base_model": self.config.base_model,
            "new_head": self.new_head,
            "id2label": {str(i): name for name, i in sorted(self.label_index.items(), key=lambda x: x[1])},
            "train_sources": data.sources,
            "train_pairs": len(data.labels),
            "pairs_per_epoch": data.pairs_per_epoch(),
            "dropped_dev_overlap": data.dropped_overlap,
            "dropped_duplicates": data.dropped_duplicates,
            "augmented": data.augmented,
            "windowed": data.windowed,
            "truncated_train_pairs": self.encoded.truncated,
            "dev_sources": [d.record() | {"kind": d.kind} for d in data.dev],
            "calibration_sources": [d.record() | {"kind": d.kind} for d in data.calibration],
            "config": self.config.to_dict(),
            "finished": finished,
            "total_steps": self.total_steps,
            "baseline": state.baseline,
            "legs": state.legs,
            "history": state.history,
            "best_step": state.best_step,
            "best_mean_dev_accuracy": state.best,
            "global_step": state.global_step,
            "pairs_seen": state.pairs_seen,
            "train_seconds": sum(leg.get("minutes", 0) for leg in state.legs) * 60,
            "device": str(self.device),
        }

    def finish_leg(self, reason: str) -> dict:
        """End the leg: a dev evaluation unless one just ran, then the checkpoint (kept unless the
        run is over) and the training record."""
        finished = reason in {"finished", "early stop"}
        if not self.state.history or self.state.history[-1]["step"] != self.state.global_step:
            if self.evaluate() and not finished:
                reason, finished = "early stop", True
        self._close_leg(reason)
        if finished:
            for done in (self.checkpoint, self.output / PREPARED_DIR):
                if done.exists():
                    shutil.rmtree(done)
        else:
            self.save_checkpoint(reason)
        record = self.record(finished)
        _write_json(self.output / RECORD_FILE, record)
        logger.info("leg %d %s at step %d of %d (%d pairs, %.1f min)", self.leg["leg"], reason,
                    self.state.global_step, self.total_steps, self.leg["pairs"], self.leg["minutes"])
        return record

    def run(self) -> dict:
        config, state = self.config, self.state
        self.output.mkdir(parents=True, exist_ok=True)
        if config.baseline_model and state.baseline is None:
            state.baseline = score_baseline(config.baseline_model, self.data.dev, self.device, config.max_length)
            logger.info("baseline %s: mean dev accuracy %.4f", config.baseline_model,
                        state.baseline["mean_dev_accuracy"] or 0.0)
        progress = None
        if self.show_progress:
            from tqdm.auto import tqdm

            progress = tqdm(total=self.total_steps, initial=state.global_step, desc="train", unit="step")
        reason = "finished"
        try:
            while state.epoch < config.epochs:
                stop = self.run_epoch(state.epoch, state.batch_in_epoch, progress)
                if stop:
                    reason = stop
                    break
                if state.epoch < config.epochs and self.evaluate():
                    reason = "early stop"
                    break
                if self.out_of_time() and state.epoch < config.epochs:
                    reason = "time limit"
                    break
        finally:
            if progress is not None:
                progress.close()
        if reason == "early stop":
            logger.info("early stopping: no dev improvement for %d evaluations", config.early_stopping_patience + 1)
        return self.finish_leg(reason)


def train(config: TrainConfig, *, resume: bool = False, show_progress: bool = False,
          max_minutes: float | None = None) -> dict:
    """Train per ``config`` (one leg of at most ``max_minutes``); returns the training record, also
    saved beside the model. Continue an unfinished run with ``resume=True``."""
    if max_minutes is not None and max_minutes <= 0:
        raise NLICheckError(f"max_minutes must be positive, got {max_minutes}")
    run = TrainingRun(config, resume=resume, max_minutes=max_minutes, show_progress=show_progress)
    return run.run()


_read_spec = read_spec


def average_models(sources: list[str | Path], output: str | Path, *, dtype: str = "float16") -> dict:
    """Average the weights of NLI models fine-tuned from one start ("model soup") into ``output``.

    Every source must be a local model directory with the same architecture, parameter names
    and labels (``id2label``): two runs of one recipe on different data, say. The tokenizer
    and config are the first source's. Beside the weights, ``average.json`` records the sources
    (their weights' SHA-256 and their ``training_record.json`` where there is one). Returns that
    record."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if len(sources) < 2:
        raise NLICheckError("give two or more model directories to average")
    if dtype not in {"float32", "float16", "bfloat16"}:
        raise NLICheckError(f"dtype must be float32, float16 or bfloat16, got {dtype!r}")
    for source in sources:
        if not (Path(source) / "config.json").is_file():
            raise NLICheckError(f"no model at {str(source)!r}: give a model directory (config.json and "
                                "safetensors weights)")
    models, record = [], []
    for source in sources:
        path = Path(source)
        try:
            model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True,
                                                                       use_safetensors=True, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise NLICheckError(f"cannot load {str(path)!r} as an NLI model: give a local model directory "
                                "with safetensors weights") from exc
        models.append(model)
        weights = sorted(path.glob("*.safetensors"))
        entry = {"path": str(path), "sha256": {w.name: file_sha256(w) for w in weights}}
        trained = path / "training_record.json"
        if trained.exists():
            entry["training_record"] = json.loads(trained.read_text(encoding="utf-8"))
        record.append(entry)
    first, states = models[0], [model.state_dict() for model in models]
    shapes = {name: tensor.shape for name, tensor in states[0].items()}
    for path, model, state in zip(sources[1:], models[1:], states[1:]):
        if model.config.id2label != first.config.id2label or {n: t.shape for n, t in state.items()} != shapes:
            raise NLICheckError(f"{str(path)!r} is not the same kind of model as {str(sources[0])!r} "
                                "(architecture, parameters or labels differ): only runs from one start can be averaged")
    first.load_state_dict({name: sum(state[name] for state in states) / len(states)
                           if tensor.is_floating_point() else tensor for name, tensor in states[0].items()})
    tokenizer = AutoTokenizer.from_pretrained(sources[0], local_files_only=True)
    output = Path(output)
    _save_model(first, tokenizer, output, dtype)
    summary = {"method": "mean of the weights", "dtype": dtype, "sources": record}
    _write_json(output / "average.json", summary)
    return summary


__all__ = ["TrainConfig", "DataSpec", "TrainingRun", "train", "prepare_data", "apply_overrides", "load_config_file",
           "build_model", "build_optimizer", "encode", "plan_epochs", "make_batch", "train_step", "score_dev_sets",
           "average_models",
           "CONTRADICTION", "ENTAILMENT", "NEUTRAL", "NOT_ENTAILMENT"]

