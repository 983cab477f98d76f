"""JSON Lines: one finding per line, as a flat object (see ``_fields.COLUMNS``)."""

from __future__ import annotations

import json

from nli_check.report._fields import flat
from nli_check.types import CheckResult


def render(result: CheckResult) -> str:
    return "".join(json.dumps(flat(f), ensure_ascii=False) + "\n" for f in result.findings)
