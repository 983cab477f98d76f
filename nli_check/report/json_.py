"""JSON: one object with the settings, the documents read, every finding, and a verdict per claim."""

from __future__ import annotations

import json

from nli_check.report._fields import counts, document_info
from nli_check.types import CheckResult


def to_data(result: CheckResult) -> dict:
    """The JSON report as plain data (documents are listed by name and size, not text)."""
    return {
        "created": result.created,
        "settings": result.settings.to_dict(),
        "documents": {
            "claims": [document_info(d) for d in result.claim_documents],
            "evidence": [document_info(d) for d in result.evidence],
        },
        "pairs_compared": result.pairs_compared,
        "counts": counts(result),
        "findings": [f.to_dict() for f in result.findings],
        "verdicts": result.verdict_counts(),
        "claims": [v.to_dict() for v in result.claims],
    }


def render(result: CheckResult) -> str:
    return json.dumps(to_data(result), ensure_ascii=False, indent=2) + "\n"
