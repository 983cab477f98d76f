"""Flat fields of a finding, shared by the tabular formats (csv, jsonl, markdown, table)."""

from __future__ import annotations

from nli_check.labels import LABELS
from nli_check.types import VERDICTS, CheckResult, ClaimVerdict, Document, Finding, Sentence

#: Column order of the flat formats.
COLUMNS = (
    "label", "confidence", "similarity", "view", "reason",
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
        "reason": finding.reason,
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


# ---------------------------------------------------------------------------- claim verdicts
#: Column order of the flat formats with ``--per claim``: one row per claim sentence.
VERDICT_COLUMNS = (
    "verdict", "confidence", "pairs", "contradicting", "supporting",
    "claim", "claim_source", "claim_start", "claim_end", "claim_speaker", "claim_cue",
    "evidence", "evidence_source", "evidence_start", "evidence_end", "evidence_speaker",
    "evidence_label", "evidence_confidence", "evidence_similarity",
    "counter_evidence", "counter_source", "counter_start", "counter_end", "counter_confidence",
)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def flat_verdict(verdict: ClaimVerdict) -> dict:
    claim, best, counter = verdict.claim, verdict.evidence, verdict.counter
    row = {
        "verdict": verdict.verdict,
        "confidence": _round(verdict.confidence),
        "pairs": verdict.pairs,
        "contradicting": verdict.contradicting,
        "supporting": verdict.supporting,
        "claim": claim.text, "claim_source": claim.source, "claim_start": claim.start,
        "claim_end": claim.end, "claim_speaker": claim.speaker, "claim_cue": claim.cue,
    }
    ev = best.evidence if best else None
    row.update({
        "evidence": ev and ev.text, "evidence_source": ev and ev.source,
        "evidence_start": ev and ev.start, "evidence_end": ev and ev.end,
        "evidence_speaker": ev and ev.speaker, "evidence_label": best and best.label,
        "evidence_confidence": _round(best and best.confidence),
        "evidence_similarity": _round(best and best.similarity),
    })
    ce = counter.evidence if counter else None
    row.update({
        "counter_evidence": ce and ce.text, "counter_source": ce and ce.source,
        "counter_start": ce and ce.start, "counter_end": ce and ce.end,
        "counter_confidence": _round(counter and counter.confidence),
    })
    return row


def verdict_line(result: CheckResult) -> str:
    """"Claims: 1 contradicted, 0 disputed, 2 supported, 3 unclear, 1 no evidence (of 7)"."""
    counts = result.verdict_counts()
    parts = ", ".join(f"{counts[name]} {name}" for name in VERDICTS)
    return f"Claims: {parts} (of {len(result.claims)})"


def verdicts_by_claim(result: CheckResult) -> dict[tuple, ClaimVerdict]:
    """Each claim sentence's verdict, keyed by :func:`claim_key`."""
    return {claim_key(v.claim): v for v in result.claims}


def claim_key(sentence: Sentence) -> tuple:
    return (sentence.source, sentence.start, sentence.end, sentence.index)
