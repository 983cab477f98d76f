"""A table for the terminal: each claim and its evidence side by side, wrapped to fit."""

from __future__ import annotations

import shutil
import textwrap

from nli_check.report._fields import LABEL_NAMES, published, summary_line
from nli_check.types import CheckResult, Finding, Sentence

_HEAD = ("#", "label", "conf", "sim", "claim", "evidence")


def _describe(sentence: Sentence) -> str:
    where = f"[{sentence.source}:{sentence.start}-{sentence.end}]"
    if sentence.article_id is not None:
        where = f"[{published(sentence)}]"
    if sentence.speaker:
        return f"{sentence.text}\n— {sentence.speaker} ({sentence.cue}) {where}"
    return f"{sentence.text}\n{where}"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(textwrap.wrap(paragraph, width, break_long_words=True, break_on_hyphens=False) or [""])
    return lines


def _row(number: int, finding: Finding, widths: list[int]) -> list[str]:
    cells = [
        [str(number)],
        [LABEL_NAMES.get(finding.label, finding.label)],
        [f"{finding.confidence:.2f}"],
        [f"{finding.similarity:.2f}"],
        _wrap(_describe(finding.claim), widths[4]),
        _wrap(_describe(finding.evidence), widths[5]),
    ]
    height = max(len(c) for c in cells)
    out = []
    for line in range(height):
        parts = []
        for column, cell in enumerate(cells):
            text = cell[line] if line < len(cell) else ""
            parts.append(text.rjust(widths[column]) if column in (0, 2, 3) else text.ljust(widths[column]))
        out.append("  ".join(parts).rstrip())
    return out


def render(result: CheckResult, width: int | None = None) -> str:
    width = width or shutil.get_terminal_size(fallback=(120, 24)).columns
    width = max(width, 60)
    fixed = [max(2, len(str(len(result.findings)))), 13, 4, 4]
    text_width = max(20, (width - sum(fixed) - 2 * (len(_HEAD) - 1)) // 2)
    widths = fixed + [text_width, text_width]
    lines = []
    if result.findings:
        header = [h.rjust(w) if i in (0, 2, 3) else h.ljust(w) for i, (h, w) in enumerate(zip(_HEAD, widths))]
        lines.append("  ".join(header).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for number, finding in enumerate(result.findings, 1):
            if number > 1:
                lines.append("")
            lines.extend(_row(number, finding, widths))
        lines.append("")
    else:
        lines.append("No findings to report.")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
