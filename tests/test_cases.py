"""The findings benchmark's cases are well formed: every gold sentence is in its texts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CASES = sorted((Path(__file__).resolve().parents[1] / "data" / "cases").glob("*/*.yaml"))
CONTRADICTION_TAGS = {"dispute", "numbers", "dates", "opposites", "negation"}
LOOKALIKE_TAGS = {"different-event", "paraphrase-numbers", "paraphrase", "hedge", "agreeing-speakers"}


def test_both_halves_have_cases():
    splits = {path.parent.name for path in CASES}
    assert splits == {"dev", "test"}
    assert len(CASES) >= 60


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case(path):
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert case["id"] == path.stem
    assert isinstance(case["draft"], str) and case["draft"].strip()
    assert case["sources"] and all(isinstance(t, str) and t.strip() for t in case["sources"].values())
    for entry in case["gold"]:
        assert entry["claim"] in case["draft"], entry["claim"]
        assert any(entry["evidence"] in text for text in case["sources"].values()), entry["evidence"]
        tags = CONTRADICTION_TAGS if entry["label"] == "contradiction" else LOOKALIKE_TAGS
        assert entry["label"] in {"contradiction", "not-contradiction"}
        assert entry["tag"] in tags
