"""CSV: a header row, then one finding per row (columns in ``_fields.COLUMNS``)."""

from __future__ import annotations

import csv
import io

from nli_check.report._fields import COLUMNS, flat
from nli_check.types import CheckResult


def render(result: CheckResult) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for finding in result.findings:
        writer.writerow({k: ("" if v is None else v) for k, v in flat(finding).items()})
    return buffer.getvalue()
