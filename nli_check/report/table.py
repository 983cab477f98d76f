"""A table for the terminal: each claim and its evidence side by side, wrapped to fit."""

from __future__ import annotations

import os
import re
import shutil
import textwrap

from nli_check.report._fields import LABEL_NAMES, published, summary_line, verdict_line
from nli_check.types import CheckResult, ClaimVerdict, Finding, Sentence

_HEAD = ("#", "label", "conf", "sim", "claim", "evidence")
_VERDICT_HEAD = ("#", "verdict", "conf", "claim", "strongest evidence")


def _path(source: str) -> str:
    """A source path as short as it can be: relative to the working directory when inside it."""
    if not os.path.isabs(source):
        return source
    try:
        relative = os.path.relpath(source)
    except ValueError:  # another drive (Windows)
        return source
    return source if relative.startswith("..") else relative


def _where(sentence: Sentence) -> str:
    if sentence.article_id is not None:  # an archive sentence: where and when it was published
        return f"[{published(sentence)}]"
    return f"[{_path(sentence.source)}:{sentence.start}-{sentence.end}]"


def _describe(sentence: Sentence) -> str:
    if sentence.speaker:
        return f"{sentence.text}\n— {sentence.speaker} ({sentence.cue}) {_where(sentence)}"
    return f"{sentence.text}\n{_where(sentence)}"


class _Wrapper(textwrap.TextWrapper):
    """Breaks long words after a path separator (``/`` or ``\\``) before breaking them anywhere."""

    wordsep_re = re.compile(r"(\s+|[^\s/\\]*[/\\]+(?=\S)|[^\s/\\]+)")


def _wrap(text: str, width: int) -> list[str]:
    wrapper = _Wrapper(width, break_long_words=True, break_on_hyphens=True)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        lines.extend(wrapper.wrap(paragraph) or [""])
    return lines


def _row(number: int, finding: Finding, widths: list[int]) -> list[str]:
    cells = [
        [str(number)],
        [LABEL_NAMES.get(finding.label, finding.label)],
        [f"{finding.confidence:.2f}"],
        [f"{finding.similarity:.2f}"],
        _wrap(_describe(finding.claim), widths[4]),
        _wrap(_describe(finding.evidence) + (f"\nwhy: {finding.reason}" if finding.reason else ""), widths[5]),
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
    if result.claims:
        lines.append("")
        lines.extend(_verdicts(result, width))
    return "\n".join(lines) + "\n"


def _verdict_row(number: int, verdict: ClaimVerdict, widths: list[int]) -> list[str]:
    best = verdict.evidence
    evidence = _describe(best.evidence) if best else ""
    if verdict.counter is not None:
        evidence += f"\nbut supported by: {verdict.counter.evidence.text} {_where(verdict.counter.evidence)}"
    cells = [
        [str(number)],
        [verdict.verdict],
        ["" if verdict.confidence is None else f"{verdict.confidence:.2f}"],
        _wrap(_describe(verdict.claim), widths[3]),
        _wrap(evidence, widths[4]),
    ]
    out = []
    for line in range(max(len(c) for c in cells)):
        parts = [
            (cell[line] if line < len(cell) else "").rjust(widths[i]) if i in (0, 2)
            else (cell[line] if line < len(cell) else "").ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        out.append("  ".join(parts).rstrip())
    return out


def _verdicts(result: CheckResult, width: int) -> list[str]:
    """The per-claim summary: each claim with evidence, its verdict and strongest evidence;
    then the claims without evidence, by name."""
    lines = [verdict_line(result)]
    numbered = list(enumerate(result.claims, 1))
    judged = [(n, v) for n, v in numbered if v.verdict != "no evidence"]
    missing = [(n, v) for n, v in numbered if v.verdict == "no evidence"]
    if judged:
        fixed = [max(2, len(str(len(result.claims)))), 12, 4]
        text_width = max(20, (width - sum(fixed) - 2 * (len(_VERDICT_HEAD) - 1)) // 2)
        widths = fixed + [text_width, text_width]
        header = [h.rjust(w) if i in (0, 2) else h.ljust(w) for i, (h, w) in enumerate(zip(_VERDICT_HEAD, widths))]
        lines.append("  ".join(header).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for k, (number, verdict) in enumerate(judged):
            if k:
                lines.append("")
            lines.extend(_verdict_row(number, verdict, widths))
    if missing:
        lines.append("")
        lines.append(f"No evidence found for {len(missing)} claim(s):")
        for number, verdict in missing:
            lines.extend(_wrap(f"{number:>3}. {verdict.claim.text} {_where(verdict.claim)}", max(20, width - 5)))
    return lines
