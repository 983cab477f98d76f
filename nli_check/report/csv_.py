"""CSV: a header row, then one finding per row (columns in ``_fields.COLUMNS``); with
``per="claim"``, one claim verdict per row (``_fields.VERDICT_COLUMNS``)."""

from __future__ import annotations

import csv
import io

from nli_check.report._fields import COLUMNS, VERDICT_COLUMNS, flat, flat_verdict
from nli_check.types import CheckResult


def render(result: CheckResult, per: str = "finding") -> str:
    if per == "claim":
        columns, rows = VERDICT_COLUMNS, [flat_verdict(v) for v in result.claims]
    else:
        columns, rows = COLUMNS, [flat(f) for f in result.findings]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()
