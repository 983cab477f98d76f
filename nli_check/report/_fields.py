"""Flat fields of a finding, shared by the tabular formats (csv, jsonl, markdown, table)."""

from __future__ import annotations

from nli_check.labels import LABELS
from nli_check.types import CheckResult, Document, Finding, Sentence

#: Column order of the flat formats.
COLUMNS = (
    "label", "confidence", "similarity", "view",
    "claim", "claim_source", "claim_start", "claim_end", "claim_speaker", "claim_cue",
    "evidence", "evidence_source", "evidence_start", "evidence_end", "evidence_speaker",
    "evidence_cue", "evidence_article_id", "evidence_source_name", "evidence_date",
) + tuple(f"p_{name}" for name in LABELS)

#: How labels are named to a reader.
LABEL_NAMES = {"contradiction": "contradiction", "entailment": "support", "neutral": "neutral"}


def flat(finding: Finding) -> dict:
    row = {
        "label": finding.label,
        "confidence": round(finding.confidence, 4),
        "similarity": round(finding.similarity, 4),
        "view": finding.view,
    }
    for prefix, sentence in (("claim", finding.claim), ("evidence", finding.evidence)):
        row[prefix] = sentence.text
        row[f"{prefix}_source"] = sentence.source
        row[f"{prefix}_start"] = sentence.start
        row[f"{prefix}_end"] = sentence.end
        row[f"{prefix}_speaker"] = sentence.speaker
        row[f"{prefix}_cue"] = sentence.cue
    row["evidence_article_id"] = finding.evidence.article_id
    row["evidence_source_name"] = finding.evidence.source_name
    row["evidence_date"] = finding.evidence.date
    for name in LABELS:
        row[f"p_{name}"] = round(finding.probabilities.get(name, 0.0), 4)
    return row


def document_info(document: Document) -> dict:
    return {"name": document.name, "date": document.date, "id": document.id,
            "characters": len(document.text)}


def sentence_dict(sentence: Sentence) -> dict:
    return sentence.to_dict()


def counts(result: CheckResult) -> dict[str, int]:
    out = {name: 0 for name in LABELS}
    for finding in result.findings:
        out[finding.label] = out.get(finding.label, 0) + 1
    return out


def summary_line(result: CheckResult) -> str:
    c = counts(result)
    parts = [f"{c['contradiction']} contradiction(s)", f"{c['entailment']} support(s)"]
    if result.settings.show == "all":
        parts.append(f"{c['neutral']} neutral")
    return (
        f"{', '.join(parts)} reported from {result.pairs_compared} pair(s) compared "
        f"(show={result.settings.show}, threshold={result.settings.threshold:g}, "
        f"model={result.settings.model})"
    )


def published(sentence: Sentence) -> str:
    """"article a0000022, Coastal Times, 2024-05-21" for an archive sentence, else ""."""
    if sentence.article_id is None:
        return ""
    parts = [f"article {sentence.article_id}"]
    parts += [x for x in (sentence.source_name, sentence.date) if x]
    return ", ".join(parts)


def who(sentence: Sentence) -> str:
    """"draft.txt:10-55, speaker: Ben Wallace (no evidence of)"."""
    where = f"{sentence.source}:{sentence.start}-{sentence.end}"
    if sentence.speaker:
        return f"{where}, speaker: {sentence.speaker} ({sentence.cue})"
    return where
