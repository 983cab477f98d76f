"""Markdown: a summary, then a table of findings with both sentences side by side."""

from __future__ import annotations

from nli_check.report._fields import (
    LABEL_NAMES,
    claim_key,
    published,
    summary_line,
    verdict_line,
    verdicts_by_claim,
)
from nli_check.types import CheckResult, ClaimVerdict, Sentence


def _cell(text: str) -> str:
    text = " ".join(str(text).split())
    for ch in "\\|*_`[]<>":
        text = text.replace(ch, "\\" + ch)
    return text


def _sentence(sentence: Sentence) -> str:
    where = f"{sentence.source}:{sentence.start}-{sentence.end}"
    if sentence.article_id is not None:
        where = published(sentence)
    speaker = f" — *{_cell(sentence.speaker)}* ({_cell(sentence.cue)})" if sentence.speaker else ""
    return f"{_cell(sentence.text)}<br>`{_cell(where).replace(chr(92), '')}`{speaker}"


def _verdict_row(number: int, v: ClaimVerdict) -> str:
    confidence = "" if v.confidence is None else f"{v.confidence:.2f}"
    evidence = _sentence(v.evidence.evidence) if v.evidence else ""
    if v.counter is not None:
        evidence += f"<br>but supported by: {_sentence(v.counter.evidence)}"
    return f"| {number} | {v.verdict} | {confidence} | {_sentence(v.claim)} | {evidence} |"


def render(result: CheckResult) -> str:
    lines = ["# nli-check report", "", summary_line(result).replace("|", "\\|"), ""]
    verdicts = verdicts_by_claim(result)
    if not result.findings:
        lines.append("No findings.")
    else:
        lines += [
            "| # | Label | Confidence | Similarity | Claim | Verdict | Evidence | Reason |",
            "|---|---|---:|---:|---|---|---|---|",
        ]
        for number, f in enumerate(result.findings, 1):
            v = verdicts.get(claim_key(f.claim))
            lines.append(
                f"| {number} | {LABEL_NAMES.get(f.label, f.label)} | {f.confidence:.2f} | "
                f"{f.similarity:.2f} | {_sentence(f.claim)} | {v.verdict if v else ''} | {_sentence(f.evidence)} | "
                f"{_cell(f.reason or '')} |"
            )
    if result.claims:
        lines += [
            "", "## Claims", "", verdict_line(result), "",
            "| # | Verdict | Confidence | Claim | Strongest evidence |",
            "|---|---|---:|---|---|",
        ]
        lines += [_verdict_row(n, v) for n, v in enumerate(result.claims, 1)]
    return "\n".join(lines) + "\n"
