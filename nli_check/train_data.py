"""The training mix: sources read, split, deduplicated, windowed, augmented and weighted.

* Dev and calibration pairs (``[[dev]]``, ``[[calibration]]``) are read first; a training pair
  whose key, in either order, occurs in any of them is dropped.
* Pairs longer than ``max_length`` tokens are windowed the way :class:`nli_check.nli.NLIModel`
  windows them at inference (:func:`nli_check.nli.window_pair`), not truncated. A neutral pair
  gives neutral windows (evidence that says nothing about the claim says nothing in any part);
  an entailment or contradiction pair keeps its label on the one window that shares the most
  words with the hypothesis, where the evidence most likely is, and its other windows are left
  out (their label is unknown).
* Each source carries a sampling ``weight``: per epoch a source contributes ``weight`` times its
  pairs (whole copies for the integer part, a fresh sample for the fraction), chosen by
  ``(seed, epoch)`` so a resumed run sees exactly the same pairs.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nli_check.data import LabelledPairs, limit_pairs, pair_key, read_pairs, split_pairs
from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, ENTAILMENT, NEUTRAL, NOT_CONTRADICTION

if TYPE_CHECKING:
    from nli_check.training import DataSpec, TrainConfig

logger = logging.getLogger(__name__)

#: At most this many windows of one long neutral pair are kept.
MAX_NEUTRAL_WINDOWS = 4


@dataclass
class PreparedData:
    """Training pairs with the source each came from, and the sets kept out of training."""

    premises: list[str]
    hypotheses: list[str]
    labels: list[str]
    sources: list[dict]
    dev: list[LabelledPairs]
    dropped_overlap: int = 0
    dropped_duplicates: int = 0
    augmented: dict = field(default_factory=dict)
    #: Index into ``sources`` of every pair.
    source_ids: list[int] = field(default_factory=list)
    calibration: list[LabelledPairs] = field(default_factory=list)
    windowed: dict = field(default_factory=dict)

    @property
    def weights(self) -> list[float]:
        return [float(s.get("weight", 1.0)) for s in self.sources]

    def pairs_per_epoch(self) -> int:
        counts = np.bincount(np.asarray(self.source_ids, dtype=np.int64), minlength=len(self.sources))
        return int(sum(_weighted_count(int(n), w) for n, w in zip(counts, self.weights)))


def read_spec(config: TrainConfig, spec: DataSpec, part: str) -> LabelledPairs:
    """One ``[[train]]``/``[[dev]]``/``[[calibration]]`` entry as labelled pairs; ``part`` is which of
    those it is: ``train`` keeps the pairs outside the ``holdout`` fraction, the others keep that fraction,
    and held-out dispute frames are used for all but ``train``."""
    from nli_check import augment

    if spec.kind == "cases":
        return _case_pairs(config, spec)
    path = config.resolve_path(spec.path)
    data = read_pairs(
        path,
        premise_col=spec.premise_col or config.premise_col,
        hypothesis_col=spec.hypothesis_col or config.hypothesis_col,
        label_col=spec.label_col or config.label_col,
        label_map=spec.label_map or config.label_map,
        strict=config.strict,
        name=spec.display_name,
    )
    if spec.holdout:
        data = split_pairs(data, float(spec.holdout), "train" if part == "train" else "dev")
    if spec.kind == "disputes":
        sentences = sorted(set(data.hypotheses) | set(data.premises))
        offset = {"train": 0, "dev": 1}.get(part, 2)
        pairs = augment.dispute_pairs(sentences, int(spec.size), seed=config.seed + offset, held_out=offset > 0)
        return _built(pairs, spec.name or f"disputes:{data.name}", data)
    if spec.kind == "topic_neutrals":
        pairs = augment.topic_neutrals(list(zip(data.premises, data.hypotheses)), int(spec.size), seed=config.seed)
        return _built(pairs, spec.name or f"topic-neutrals:{data.name}", data)
    return limit_pairs(data, spec.limit)


def _case_pairs(config: TrainConfig, spec: DataSpec) -> LabelledPairs:
    from nli_check import cases

    folder = config.spec_path(spec)
    loaded = cases.load_cases(folder, spec.ids)
    pairs = cases.case_pairs(loaded, negatives=int(spec.negatives))
    if spec.select != "all":
        pairs = [p for p in pairs if (p.label == CONTRADICTION) == (spec.select == "contradictions")]
    data = LabelledPairs([], [], [], name=spec.name or f"cases:{folder.name}:{spec.select}", path=str(folder),
                         sha256=cases.folder_sha256(folder, spec.ids), rows_read=len(loaded))
    return limit_pairs(_built(pairs, data.name, data), spec.limit)


def _built(pairs, name: str, data: LabelledPairs) -> LabelledPairs:
    return LabelledPairs(
        premises=[p.premise for p in pairs], hypotheses=[p.hypothesis for p in pairs],
        labels=[p.label for p in pairs], name=name, path=data.path, sha256=data.sha256, rows_read=data.rows_read,
    )


class _Pool:
    """Training pairs as they are accepted: no dev/calibration pair, no duplicate."""

    def __init__(self, held_keys: set[str], label_set: set[str]) -> None:
        self.held_keys, self.label_set = held_keys, label_set
        self.premises: list[str] = []
        self.hypotheses: list[str] = []
        self.labels: list[str] = []
        self.source_ids: list[int] = []
        self.seen: set[str] = set()
        self.overlap = self.duplicates = self.skipped_labels = 0

    def add(self, premise: str, hypothesis: str, label: str, source: int) -> bool:
        if label not in self.label_set:
            self.skipped_labels += 1
            return False
        key = pair_key(premise, hypothesis)
        if key in self.held_keys:
            self.overlap += 1
            return False
        if key in self.seen:
            self.duplicates += 1
            return False
        self.seen.add(key)
        self.premises.append(premise)
        self.hypotheses.append(hypothesis)
        self.labels.append(label)
        self.source_ids.append(source)
        return True


def _held_keys(sets: list[LabelledPairs]) -> set[str]:
    keys = {pair_key(p, h) for d in sets for p, h in d.pairs()}
    return keys | {pair_key(h, p) for d in sets for p, h in d.pairs()}


def prepare_data(config: TrainConfig, label_set: set[str], tokenizer=None) -> PreparedData:
    """Read, split, deduplicate, window and augment the training data; read the dev and calibration
    sets. Without a ``tokenizer`` nothing is windowed (long pairs are truncated when encoded)."""
    from nli_check import augment

    if not config.train:
        raise NLICheckError("no training data: give training files or a config with [[train]] entries")
    dev_sets = [limit_pairs(read_spec(config, spec, "dev"), config.max_dev_pairs) for spec in config.dev]
    calibration = [read_spec(config, spec, "calibration") for spec in config.calibration]
    pool = _Pool(_held_keys(dev_sets + calibration), label_set)
    window = tokenizer is not None and config.long_pairs == "window"
    windowed = {"pairs": 0, "windows": 0, "dropped_windows": 0}
    sources: list[dict] = []
    plain: list[augment.Pair] = []
    for spec in config.train:
        data = read_spec(config, spec, "train")
        source = len(sources)
        items = zip(data.premises, data.hypotheses, data.labels)
        if window:
            items = _windowed(list(items), tokenizer, config.max_length, windowed)
        used = 0
        for p, h, label in items:
            if pool.add(p, h, label, source):
                used += 1
                if spec.kind == "file":
                    plain.append(augment.Pair(p, h, label))
        sources.append(data.record() | {"rows_used": used, "kind": spec.kind, "holdout": spec.holdout,
                                        "weight": spec.weight})
        logger.info("train  %-40s %7d pairs  weight %g", data.name, used, spec.weight)
    if pool.skipped_labels:
        logger.warning("skipped %d training rows whose label the model cannot learn (e.g. not_entailment)",
                       pool.skipped_labels)
    augmented = _augment(config, plain, pool, sources)
    for d in dev_sets:
        logger.info("dev    %-40s %7d pairs (%s)", d.name, len(d), d.kind)
    if window and windowed["pairs"]:
        logger.info("windowed %d long training pairs into %d windows (%d windows of unknown label left out)",
                    windowed["pairs"], windowed["windows"], windowed["dropped_windows"])
    return PreparedData(pool.premises, pool.hypotheses, pool.labels, sources, dev_sets, pool.overlap,
                        pool.duplicates, augmented, pool.source_ids, calibration, windowed)


def _augment(config: TrainConfig, plain, pool: _Pool, sources: list[dict]) -> dict:
    """Symmetric contradictions, number edits, event and opposite pairs, each its own source of weight 1."""
    from nli_check import augment

    augmented = {}
    made = []
    if config.symmetric_contradictions:
        made.append(("symmetric_contradictions", augment.symmetric_contradictions(plain)))
    if config.number_edits:
        made.append(("number_edits", augment.number_edits(plain, config.number_edits, seed=config.seed)))
    if config.event_pairs:
        made.append(("event_pairs", augment.event_pairs(config.event_pairs, seed=config.seed)))
    if config.opposite_pairs:
        made.append(("opposite_pairs", augment.opposite_pairs(config.opposite_pairs, seed=config.seed)))
    for name, pairs in made:
        source = len(sources)
        used = sum(pool.add(p.premise, p.hypothesis, p.label, source) for p in pairs)
        augmented[name] = len(pairs)
        sources.append({"name": name, "kind": "generated", "rows_used": used, "weight": 1.0})
    return augmented


_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def _windowed(items: list[tuple[str, str, str]], tokenizer, max_length: int, counts: dict, chunk: int = 512):
    """Each pair that does not fit ``max_length`` replaced by its labelled windows (module doc).
    Texts are tokenised once, in batches, and windows cut from those token offsets."""
    from nli_check.nli import windows_from_offsets

    room = max_length - tokenizer.num_special_tokens_to_add(pair=True)
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        offsets = [tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True,
                             verbose=False)["offset_mapping"]
                   for texts in ([p for p, _, _ in part], [h for _, h, _ in part])]
        for index, (premise, hypothesis, label) in enumerate(part):
            if len(offsets[0][index]) + len(offsets[1][index]) <= room:
                yield premise, hypothesis, label
                continue
            parts = windows_from_offsets(premise, hypothesis, offsets[0][index], offsets[1][index], room)
            target = _words(hypothesis)
            ranked = sorted(parts, key=lambda window: -len(_words(window[0]) & target))
            # No window of a pair that does not contradict can contradict.
            keep = ranked[:MAX_NEUTRAL_WINDOWS] if label in (NEUTRAL, NOT_CONTRADICTION) else ranked[:1]
            counts["pairs"] += 1
            counts["windows"] += len(keep)
            counts["dropped_windows"] += len(parts) - len(keep)
            for p, h in keep:
                yield p, h, label


# ------------------------------------------------------------------ per-epoch sampling
def _weighted_count(n: int, weight: float) -> int:
    whole = int(weight)
    return whole * n + int(round((weight - whole) * n))


def epoch_sample(source_ids: np.ndarray, weights: list[float], seed: int, epoch: int) -> np.ndarray:
    """Indices of the pairs one epoch trains on: each source ``weight`` times (see the module doc)."""
    rng = np.random.default_rng([seed, epoch, 7])
    parts = []
    for source, weight in enumerate(weights):
        idx = np.flatnonzero(source_ids == source)
        whole = int(weight)
        parts.extend([idx] * whole)
        extra = _weighted_count(len(idx), weight) - whole * len(idx)
        if extra:
            parts.append(rng.choice(idx, extra, replace=False))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def length_grouped_batches(indices: np.ndarray, lengths: np.ndarray, batch_size: int, batch_tokens: int | None,
                           seed: int, epoch: int) -> list[np.ndarray]:
    """``indices`` cut into batches of pairs of near-equal length, in a random order fixed by
    ``(seed, epoch)``. A batch holds at most ``batch_size`` pairs and, with ``batch_tokens``, at most
    that many tokens once padded to its longest pair (short pairs share a step, long ones don't).

    Pairs are shuffled, then sorted by length inside chunks of a few thousand, so a batch's pairs
    come from all over the data while padding stays a few per cent.
    """
    rng = np.random.default_rng([seed, epoch, 11])
    order = indices[rng.permutation(len(indices))]
    chunk = max(batch_size * 128, 4096)
    batches: list[np.ndarray] = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(_cut(part, lengths, batch_size, batch_tokens))
    rng.shuffle(batches)
    return batches


def _cut(part: np.ndarray, lengths: np.ndarray, batch_size: int, batch_tokens: int | None) -> list[np.ndarray]:
    """Batches from ``part`` (sorted by length, shortest first)."""
    if not batch_tokens:
        return [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    out, start = [], 0
    while start < len(part):
        end = min(start + batch_size, len(part))
        # Sorted ascending: the batch's longest pair is its last; shrink until it fits the budget.
        while end - start > 1 and (end - start) * int(lengths[part[end - 1]]) > batch_tokens:
            end = start + max(1, min(end - start - 1, batch_tokens // int(lengths[part[end - 1]])))
        out.append(part[start:end])
        start = end
    return out


__all__ = ["PreparedData", "prepare_data", "read_spec", "epoch_sample", "length_grouped_batches",
           "CONTRADICTION", "ENTAILMENT", "NEUTRAL"]


# ------------------------------------------------------------------ a leg's prepared data, reused
def prepared_key(config: TrainConfig) -> str:
    """A hash of everything that decides the prepared, tokenised data: the data options of the
    config and the content (SHA-256) of every file it reads. Content, not modification times: a
    data folder copied or mounted afresh between legs still matches its prepared data."""
    import hashlib
    import json

    from nli_check.cases import folder_sha256
    from nli_check.data import file_sha256

    fields = ("base_model", "train", "dev", "calibration", "max_length", "long_pairs", "seed",
              "symmetric_contradictions", "number_edits", "event_pairs", "opposite_pairs", "max_dev_pairs", "strict",
              "premise_col", "hypothesis_col", "label_col", "label_map")
    # A field left at its default is left out, so that data prepared before it existed is reused.
    optional = ("event_pairs", "opposite_pairs")
    data = {name: getattr(config, name) for name in fields if name not in optional or getattr(config, name)}
    files = []
    for spec in [*config.train, *config.dev, *config.calibration]:
        path = config.spec_path(spec)
        digest = (folder_sha256(path, spec.ids) if path.is_dir() and spec.kind == "cases"
                  else file_sha256(path) if path.exists() else None)
        files.append([path.name, digest])

    def plain(o):
        return o.as_dict() if hasattr(o, "as_dict") else getattr(o, "__dict__", str(o))

    text = json.dumps([data, files], default=plain, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _pairs_dict(d: LabelledPairs) -> dict:
    return {"premises": d.premises, "hypotheses": d.hypotheses, "labels": d.labels, "name": d.name, "path": d.path,
            "sha256": d.sha256, "rows_read": d.rows_read, "skipped_empty": d.skipped_empty}


def save_prepared(directory: Path, key: str, data: PreparedData, encoded) -> None:
    """Write the prepared data and its token ids (numpy arrays, no pickles) for the next leg."""
    import json
    import os
    import shutil

    tmp = directory.with_name(f".{directory.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    offsets = np.zeros(len(encoded.ids) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(encoded.lengths)
    arrays = {"ids": np.concatenate([np.asarray(x, dtype=np.int32) for x in encoded.ids]), "offsets": offsets,
              "lengths": encoded.lengths, "targets": encoded.targets, "source_ids": encoded.source_ids}
    if encoded.types is not None:
        arrays["types"] = np.concatenate([np.asarray(x, dtype=np.int8) for x in encoded.types])
    np.savez(tmp / "encoded.npz", **arrays)
    meta = {"key": key, "labels": data.labels, "sources": data.sources, "dev": [_pairs_dict(d) for d in data.dev],
            "calibration": [_pairs_dict(d) for d in data.calibration], "dropped_overlap": data.dropped_overlap,
            "dropped_duplicates": data.dropped_duplicates, "augmented": data.augmented, "windowed": data.windowed,
            "truncated": encoded.truncated}
    (tmp / "prepared.json").write_text(json.dumps(meta), encoding="utf-8")
    if directory.exists():
        shutil.rmtree(directory)
    os.replace(tmp, directory)


def load_prepared(directory: Path, key: str):
    """``(PreparedData, Encoded)`` saved by :func:`save_prepared` under the same key, else ``None``."""
    import json

    from nli_check.training import Encoded

    meta_file = directory / "prepared.json"
    if not meta_file.exists():
        return None
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta.get("key") != key:
        logger.info("the prepared data in %s is for another config or other files: preparing again", directory)
        return None
    with np.load(directory / "encoded.npz", allow_pickle=False) as arrays:
        offsets = arrays["offsets"]
        ids = np.split(arrays["ids"].astype(np.int64), offsets[1:-1])
        types = np.split(arrays["types"].astype(np.int64), offsets[1:-1]) if "types" in arrays else None
        encoded = Encoded(ids, types, arrays["lengths"], arrays["targets"], arrays["source_ids"], meta["truncated"])
    sets = {part: [LabelledPairs(**d) for d in meta[part]] for part in ("dev", "calibration")}
    data = PreparedData([], [], meta["labels"], meta["sources"], sets["dev"], meta["dropped_overlap"],
                        meta["dropped_duplicates"], meta["augmented"], encoded.source_ids.tolist(),
                        sets["calibration"], meta["windowed"])
    logger.info("read the prepared data of %d pairs from %s", len(data.labels), directory)
    return data, encoded
