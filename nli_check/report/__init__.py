"""Reports: one formatter per output format, each ``render(result) -> str``.

Example::

    from nli_check.report import render
    print(render(result, "markdown"))
"""

from __future__ import annotations

import importlib

from nli_check.errors import NLICheckError
from nli_check.types import CheckResult

FORMATS = ("table", "json", "jsonl", "csv", "markdown", "html")
#: What one row is in the row-per-line formats: a finding (a pair), or a claim and its verdict.
PER = ("finding", "claim")
#: Formats with one row per finding or per claim (``per``); the others show both.
ROW_FORMATS = ("jsonl", "csv")

#: format -> module holding its ``render(result) -> str`` (imported only when used)
_MODULES = {
    "table": "nli_check.report.table",
    "json": "nli_check.report.json_",
    "jsonl": "nli_check.report.jsonl",
    "csv": "nli_check.report.csv_",
    "markdown": "nli_check.report.markdown",
    "html": "nli_check.report.html",
}


def render(result: CheckResult, fmt: str, per: str = "finding") -> str:
    """The result as text in one of :data:`FORMATS`; ``per="claim"`` makes jsonl and csv one
    row per claim verdict instead of one per finding."""
    if fmt not in _MODULES:
        raise NLICheckError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if per not in PER:
        raise NLICheckError(f"unknown per {per!r}: use one of {', '.join(PER)}")
    if per != "finding" and fmt not in ROW_FORMATS:
        raise NLICheckError(
            f"per {per} applies to {' and '.join(ROW_FORMATS)}: {fmt} shows findings and claims together"
        )
    module = importlib.import_module(_MODULES[fmt])
    return module.render(result, per=per) if fmt in ROW_FORMATS else module.render(result)
