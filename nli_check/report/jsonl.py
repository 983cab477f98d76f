"""JSON Lines: one finding per line, as a flat object (see ``_fields.COLUMNS``); with
``per="claim"``, one claim verdict per line (``_fields.VERDICT_COLUMNS``)."""

from __future__ import annotations

import json

from nli_check.report._fields import flat, flat_verdict
from nli_check.types import CheckResult


def render(result: CheckResult, per: str = "finding") -> str:
    rows = [flat_verdict(v) for v in result.claims] if per == "claim" else [flat(f) for f in result.findings]
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
