"""The scan's stages as plain functions, shared by the local and the Ray engine.

Each takes and returns plain rows (dicts) or arrays, so an engine only decides where and
in what order they run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from nli_check.labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from nli_check.scan.output import SIDE_FIELDS
from nli_check.scan.reader import Record
from nli_check.types import Document, Sentence

#: Columns of a record as passed between stages.
RECORD_COLUMNS = ("article", "id", "text", "source", "date", "day")
#: Sentence fields carried with a pair into the NLI stage.
PAIR_SIDE = SIDE_FIELDS + ("content", "polarity")


def record_row(record: Record, article: int) -> dict:
    return {
        "article": article,
        "id": record.id,
        "text": record.text,
        "source": record.source,
        "date": record.date,
        "day": record.day,
    }


def segment_records(records: Iterable[dict]) -> list[dict]:
    """Sentence rows (store schema, without ``sid``) of record rows, in order."""
    from nli_check.text import segment

    rows = []
    for record in records:
        document = Document(
            name=record["id"], text=record["text"], date=record["date"], id=record["id"]
        )
        for s in segment(document):
            rows.append(
                {
                    "article": record["article"],
                    "article_id": record["id"],
                    "source_name": record["source"],
                    "date": record["date"],
                    "day": record["day"],
                    "text": s.text,
                    "start": s.start,
                    "end": s.end,
                    "index": s.index,
                    "speaker": s.speaker,
                    "cue": s.cue,
                    "content": s.content,
                    "polarity": s.polarity,
                }
            )
    return rows


def pair_inputs(store, pairs: np.ndarray) -> list[dict]:
    """One row per candidate pair with both sentences' fields (``a_*``, ``b_*``) and similarity."""
    if len(pairs) == 0:
        return []
    a_ids = np.asarray(pairs["a"])
    b_ids = np.asarray(pairs["b"])
    unique, inverse = np.unique(np.concatenate([a_ids, b_ids]), return_inverse=True)
    sentences = store.take(unique)
    rows = []
    for k in range(len(pairs)):
        row = {}
        for prefix, position in (("a", inverse[k]), ("b", inverse[len(pairs) + k])):
            s = sentences[position]
            row.update(
                {
                    f"{prefix}_sentence": int(s["sid"]),
                    f"{prefix}_text": s["text"],
                    f"{prefix}_article_id": s["article_id"],
                    f"{prefix}_source": s["source_name"],
                    f"{prefix}_date": s["date"],
                    f"{prefix}_start": s["start"],
                    f"{prefix}_end": s["end"],
                    f"{prefix}_index": s["index"],
                    f"{prefix}_speaker": s["speaker"],
                    f"{prefix}_cue": s["cue"],
                    f"{prefix}_content": s["content"],
                    f"{prefix}_polarity": s["polarity"],
                }
            )
        row["similarity"] = float(pairs["sim"][k])
        rows.append(row)
    return rows


def _sentence(row: dict, prefix: str) -> Sentence:
    return Sentence(
        text=row[f"{prefix}_text"],
        source=row[f"{prefix}_article_id"],
        start=int(row[f"{prefix}_start"]),
        end=int(row[f"{prefix}_end"]),
        index=int(row[f"{prefix}_index"]),
        speaker=row[f"{prefix}_speaker"],
        cue=row[f"{prefix}_cue"],
        content=row[f"{prefix}_content"],
        polarity=int(row[f"{prefix}_polarity"]),
        date=row.get(f"{prefix}_date"),
    )


class _TokenBudget:
    """An NLI model whose ``predict_proba`` uses a fixed token budget per batch."""

    def __init__(self, model, max_tokens: int | None) -> None:
        self.model = model
        self.max_tokens = max_tokens

    def predict_proba(self, pairs, **kwargs):
        kwargs.setdefault("max_tokens", self.max_tokens)
        return self.model.predict_proba(pairs, **kwargs)


def classify_rows(
    model, rows: Sequence[dict], *, batch_size: int = 32, max_tokens: int | None = None
) -> list[dict]:
    """The NLI verdict on each pair row (both directions, reported content; see
    :func:`nli_check.pipeline.classify_pairs`): label, confidence, view and probabilities."""
    from nli_check.pipeline import classify_pairs

    if not rows:
        return []
    claims = [_sentence(r, "a") for r in rows]
    evidence = [_sentence(r, "b") for r in rows]
    pairs = [(k, k, float(r["similarity"])) for k, r in enumerate(rows)]
    findings = classify_pairs(
        _TokenBudget(model, max_tokens), claims, evidence, pairs, batch_size=batch_size, whole_documents=False
    )
    return [
        {
            "label": f.label,
            "confidence": float(f.confidence),
            "view": f.view,
            "reason": f.reason,
            "p_contradiction": float(f.probabilities.get(CONTRADICTION, 0.0)),
            "p_entailment": float(f.probabilities.get(ENTAILMENT, 0.0)),
            "p_neutral": float(f.probabilities.get(NEUTRAL, 0.0)),
        }
        for f in findings
    ]


def conflicts(
    rows: Sequence[dict], verdicts: Sequence[dict], threshold: float
) -> tuple[list[dict], dict]:
    """Conflict rows (output schema) of the pairs labelled contradiction with confidence at
    least ``threshold``, and the shard's counts."""
    labels = {CONTRADICTION: 0, ENTAILMENT: 0, NEUTRAL: 0}
    out = []
    for row, verdict in zip(rows, verdicts, strict=False):
        labels[verdict["label"]] = labels.get(verdict["label"], 0) + 1
        if verdict["label"] != CONTRADICTION or verdict["confidence"] < threshold:
            continue
        conflict = {f"{p}_{name}": row[f"{p}_{name}"] for p in ("a", "b") for name in SIDE_FIELDS}
        conflict.update(
            {
                "label": verdict["label"],
                "confidence": verdict["confidence"],
                "similarity": row["similarity"],
                "view": verdict["view"],
                "reason": verdict.get("reason"),
                "p_contradiction": verdict["p_contradiction"],
                "p_entailment": verdict["p_entailment"],
                "p_neutral": verdict["p_neutral"],
            }
        )
        out.append(conflict)
    return out, {"pairs": len(rows), "labels": labels, "conflicts": len(out)}
