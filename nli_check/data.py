"""Labelled premise/hypothesis pairs in, whatever their file format; labels normalised.

Files are read with the ``datasets`` library from local files only: JSON Lines, CSV, TSV and
Parquet (optionally gzipped), or a dataset saved with ``save_to_disk``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, ENTAILMENT, LABELS, NEUTRAL, NOT_ENTAILMENT, normalize_label

logger = logging.getLogger(__name__)

PREMISE_COLUMNS = ("premise", "sentence1", "evidence", "text_a", "context", "sentence_a")
HYPOTHESIS_COLUMNS = ("hypothesis", "sentence2", "claim", "text_b", "statement", "sentence_b")
LABEL_COLUMNS = ("label", "gold_label", "labels", "verdict", "class")


@dataclass
class LabelledPairs:
    """Premises, hypotheses and canonical labels read from one source."""

    premises: list[str]
    hypotheses: list[str]
    labels: list[str]
    name: str
    path: str | None = None
    sha256: str | None = None
    rows_read: int = 0
    skipped_empty: int = 0
    columns: tuple[str, str, str] = ("premise", "hypothesis", "label")
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def label_set(self) -> set[str]:
        return set(self.labels)

    @property
    def kind(self) -> str:
        """``three_way``, ``two_way`` (supports/refutes), ``entailment_vs_not`` or ``partial``."""
        labels = self.label_set
        if NOT_ENTAILMENT in labels:
            return "entailment_vs_not"
        if labels == {ENTAILMENT, CONTRADICTION}:
            return "two_way"
        if labels == set(LABELS):
            return "three_way"
        return "partial"

    @property
    def two_way(self) -> bool:
        return self.kind == "two_way"

    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.premises, self.hypotheses))

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.labels).items()))

    def subset(self, indices: Iterable[int], name: str | None = None) -> LabelledPairs:
        idx = list(indices)
        return LabelledPairs(
            premises=[self.premises[i] for i in idx],
            hypotheses=[self.hypotheses[i] for i in idx],
            labels=[self.labels[i] for i in idx],
            name=name or self.name,
            path=self.path,
            sha256=self.sha256,
            rows_read=self.rows_read,
            skipped_empty=self.skipped_empty,
            columns=self.columns,
        )

    def record(self) -> dict:
        """What a training record says about this data: where, how many, which hash."""
        return {
            "name": self.name,
            "path": self.path,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_used": len(self),
            "skipped_empty": self.skipped_empty,
            "labels": self.counts(),
        }


def parse_label_map(value: str | Mapping | None) -> dict[str, str] | None:
    """``"0=entailment,1=neutral,2=contradiction"`` (or a mapping) -> ``{"0": "entailment", ...}``."""
    if value is None or value == "":
        return None
    items = value.items() if isinstance(value, Mapping) else (
        part.split("=", 1) if "=" in part else (part, "") for part in str(value).split(",")
    )
    mapping = {}
    for raw, name in items:
        canonical = normalize_label(name)
        if canonical is None:
            raise NLICheckError(
                f"--label-map entry {raw}={name!r}: the target must be entailment, neutral, "
                "contradiction or not_entailment (e.g. --label-map 0=entailment,1=neutral,2=contradiction)"
            )
        mapping[str(raw).strip()] = canonical
    return mapping


def file_sha256(path: str | os.PathLike) -> str:
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode())
            digest.update(file_sha256(child).encode())
        return digest.hexdigest()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _load_dataset(path: Path, split: str | None):
    import datasets

    datasets.disable_progress_bars()
    if path.is_dir():
        try:
            loaded = datasets.load_from_disk(str(path))
        except FileNotFoundError as exc:
            raise NLICheckError(
                f"{path} is a directory but not a dataset saved with save_to_disk: give a .jsonl, "
                ".csv, .tsv or .parquet file"
            ) from exc
        if isinstance(loaded, datasets.DatasetDict):
            if split is None:
                if len(loaded) != 1:
                    raise NLICheckError(
                        f"{path} holds splits {sorted(loaded)}: choose one with --split"
                    )
                split = next(iter(loaded))
            if split not in loaded:
                raise NLICheckError(f"{path} has no split {split!r}; it has {sorted(loaded)}")
            return loaded[split]
        return loaded
    name = path.name.lower()
    for suffix in (".gz", ".bz2", ".xz", ".zst"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    kwargs: dict = {}
    if name.endswith((".jsonl", ".json", ".ndjson")):
        builder = "json"
    elif name.endswith(".csv"):
        builder = "csv"
    elif name.endswith(".tsv"):
        builder, kwargs = "csv", {"delimiter": "\t"}
    elif name.endswith(".parquet"):
        builder = "parquet"
    else:
        raise NLICheckError(
            f"{path}: unknown file type; use .jsonl, .json, .csv, .tsv or .parquet (optionally .gz)"
        )
    try:
        return datasets.load_dataset(builder, data_files=str(path), split="train", **kwargs)
    except Exception as exc:  # datasets raises many types for a malformed file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NLICheckError(f"cannot read {path} as {builder}: {first}") from exc


def _pick(columns: list[str], given: str | None, candidates: tuple[str, ...], what: str, option: str, path) -> str:
    if given:
        if given not in columns:
            raise NLICheckError(
                f"{path} has no column {given!r} for the {what}; its columns are: {', '.join(columns)}"
            )
        return given
    lowered = {c.lower(): c for c in columns}
    for candidate in candidates:
        if candidate in lowered:
            return lowered[candidate]
    raise NLICheckError(
        f"{path}: no {what} column found among {', '.join(columns)}; name it with {option}"
    )


def read_pairs(
    path: str | os.PathLike,
    *,
    premise_col: str | None = None,
    hypothesis_col: str | None = None,
    label_col: str | None = None,
    label_map: str | Mapping | None = None,
    strict: bool = False,
    split: str | None = None,
    name: str | None = None,
    allow_not_entailment: bool = True,
) -> LabelledPairs:
    """Read labelled pairs from one file or saved dataset, normalising labels.

    Unknown labels are an error that lists them with counts and their first row numbers.
    Rows with empty premise or hypothesis are skipped with a warning, or refused with
    ``strict=True``. Numeric labels need an explicit ``label_map``.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise NLICheckError(f"data file not found: {path}")
    dataset = _load_dataset(path, split)
    columns = list(dataset.column_names)
    p_col = _pick(columns, premise_col, PREMISE_COLUMNS, "premise", "--premise-col", path)
    h_col = _pick(columns, hypothesis_col, HYPOTHESIS_COLUMNS, "hypothesis", "--hypothesis-col", path)
    l_col = _pick(columns, label_col, LABEL_COLUMNS, "label", "--label-col", path)
    mapping = parse_label_map(label_map)

    premises, hypotheses, labels = [], [], []
    unknown: Counter = Counter()
    unknown_rows: dict[str, list[int]] = {}
    empty_rows: list[int] = []
    numeric = False
    table = dataset.select_columns([p_col, h_col, l_col]).to_dict()
    for row, (premise, hypothesis, raw) in enumerate(zip(table[p_col], table[h_col], table[l_col]), start=1):
        if mapping is not None:
            label = mapping.get(str(raw).strip())
            if label is None and isinstance(raw, float) and raw.is_integer():
                label = mapping.get(str(int(raw)))
        else:
            label = normalize_label(raw)
            if label is None and isinstance(raw, (int, float)) and not isinstance(raw, bool):
                numeric = True
        if label is None or (label == NOT_ENTAILMENT and not allow_not_entailment):
            key = repr(raw) if not isinstance(raw, str) else raw
            unknown[key] += 1
            unknown_rows.setdefault(key, [])
            if len(unknown_rows[key]) < 3:
                unknown_rows[key].append(row)
            continue
        premise = "" if premise is None else str(premise).strip()
        hypothesis = "" if hypothesis is None else str(hypothesis).strip()
        if not premise or not hypothesis:
            empty_rows.append(row)
            continue
        premises.append(premise)
        hypotheses.append(hypothesis)
        labels.append(label)
    if unknown:
        if numeric and mapping is None:
            raise NLICheckError(
                f"{path}: labels are numbers ({', '.join(sorted(unknown)[:5])}); nli-check never guesses "
                "their meaning: pass --label-map, e.g. --label-map 0=entailment,1=neutral,2=contradiction"
            )
        listed = "; ".join(
            f"{label} x{count} (rows {', '.join(map(str, unknown_rows[label]))})"
            for label, count in unknown.most_common(5)
        )
        raise NLICheckError(
            f"{path}: {sum(unknown.values())} rows have labels nli-check does not know: {listed}; "
            "fix them or map them with --label-map"
        )
    if empty_rows:
        shown = ", ".join(map(str, empty_rows[:5]))
        if strict:
            raise NLICheckError(
                f"{path}: {len(empty_rows)} rows have an empty premise or hypothesis (rows {shown}); "
                "remove them or run without --strict to skip them"
            )
        logger.warning("%s: skipped %d rows with empty text (rows %s)", path, len(empty_rows), shown)
    if not labels:
        raise NLICheckError(f"{path}: no usable labelled pairs")
    return LabelledPairs(
        premises=premises,
        hypotheses=hypotheses,
        labels=labels,
        name=name or _stem(path),
        path=str(path),
        sha256=file_sha256(path),
        rows_read=len(table[l_col]),
        skipped_empty=len(empty_rows),
        columns=(p_col, h_col, l_col),
    )


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".bz2", ".xz", ".zst", ".jsonl", ".json", ".ndjson", ".csv", ".tsv", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


_NON_WORD = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=1 << 16)
def _normalised(text: str) -> str:
    # Cached: long evidence recurs across many pairs (tables, FEVER pages, shared premises).
    return _SPACES.sub(" ", _NON_WORD.sub("", text.lower())).strip()


def pair_key(premise: str, hypothesis: str) -> str:
    """A normalised key for deduplication: lower case, no punctuation, collapsed spaces."""
    return f"{_normalised(premise)}\u241f{_normalised(hypothesis)}"


def hash_fraction(premise: str, hypothesis: str) -> float:
    """A stable number in [0, 1) per pair, for deterministic held-out splits."""
    digest = hashlib.blake2b(pair_key(premise, hypothesis).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split_pairs(data: LabelledPairs, holdout: float, part: str) -> LabelledPairs:
    """Keep the held-out fraction (``part="dev"``) or the rest (``part="train"``), by pair hash."""
    if not 0.0 <= holdout < 1.0:
        raise NLICheckError(f"holdout must be in [0, 1), got {holdout}")
    if holdout == 0.0:
        return data if part == "train" else data.subset([])
    fractions = [hash_fraction(p, h) for p, h in zip(data.premises, data.hypotheses)]
    if part == "dev":
        keep = [i for i, f in enumerate(fractions) if f < holdout]
    else:
        keep = [i for i, f in enumerate(fractions) if f >= holdout]
    return data.subset(keep)


def limit_pairs(data: LabelledPairs, limit: int | None) -> LabelledPairs:
    """At most ``limit`` pairs, chosen deterministically by pair hash (not file order)."""
    if limit is None or len(data) <= limit:
        return data
    order = sorted(range(len(data)), key=lambda i: hash_fraction(data.premises[i], data.hypotheses[i]) * 7919 % 1)
    return data.subset(sorted(order[:limit]))


__all__ = [
    "LabelledPairs",
    "read_pairs",
    "parse_label_map",
    "pair_key",
    "split_pairs",
    "limit_pairs",
    "file_sha256",
    "CONTRADICTION",
    "ENTAILMENT",
    "NEUTRAL",
]
