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

#: format -> module holding its ``render(result) -> str`` (imported only when used)
_MODULES = {
    "table": "nli_check.report.table",
    "json": "nli_check.report.json_",
    "jsonl": "nli_check.report.jsonl",
    "csv": "nli_check.report.csv_",
    "markdown": "nli_check.report.markdown",
    "html": "nli_check.report.html",
}


def render(result: CheckResult, fmt: str) -> str:
    """The result as text in one of :data:`FORMATS`."""
    if fmt not in _MODULES:
        raise NLICheckError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return importlib.import_module(_MODULES[fmt]).render(result)
