"""Markdown: a summary, then a table of findings with both sentences side by side."""

from __future__ import annotations

from nli_check.report._fields import LABEL_NAMES, published, summary_line
from nli_check.types import CheckResult, Sentence


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


def render(result: CheckResult) -> str:
    lines = ["# nli-check report", "", summary_line(result).replace("|", "\\|"), ""]
    if not result.findings:
        lines.append("No findings.")
        return "\n".join(lines) + "\n"
    lines += [
        "| # | Label | Confidence | Similarity | Claim | Evidence |",
        "|---|---|---:|---:|---|---|",
    ]
    for number, f in enumerate(result.findings, 1):
        lines.append(
            f"| {number} | {LABEL_NAMES.get(f.label, f.label)} | {f.confidence:.2f} | "
            f"{f.similarity:.2f} | {_sentence(f.claim)} | {_sentence(f.evidence)} |"
        )
    return "\n".join(lines) + "\n"
