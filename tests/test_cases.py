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
    assert splits == {"dev", "test", "train"}
    assert len([path for path in CASES if path.parent.name != "train"]) >= 60


def test_no_training_sentence_is_in_the_benchmark():
    """The training cases (for the NLI model) share no draft or source sentence with dev or test."""
    lines = {}
    for path in CASES:
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts = [case["draft"], *case["sources"].values()]
        found = {line.strip().lower() for text in texts for line in text.splitlines() if line.strip()}
        lines.setdefault(path.parent.name == "train", set()).update(found)
    assert not lines[True] & lines[False]


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
