"""One case per phenomenon through ``nli-check check`` at its defaults, with the shipped model.

Each case is a one-sentence draft and a one-sentence source, in the project's own words. A
contradiction must be reported, with its reason where figures or dates decide it; a look-alike
must not be.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from nli_check.cli import cli

pytestmark = pytest.mark.slow

CONTRADICTIONS = {
    "numbers": ("Harwick Foods will cut about 120 jobs at its Dunford bakery.",
                "Harwick Foods told the union that 450 jobs will go at its Dunford bakery.",
                "about 120 jobs vs 450 jobs"),
    "dates": ("The Dunford bakery will close for good on Thursday.",
              "The Dunford bakery will close for good on Friday 13 March 2026.",
              "Thursday vs 13 March 2026 (a Friday)"),
    "negation": ("The minister attended the summit in Brenford.",
                 "The minister did not attend the summit in Brenford.", "'attended' vs 'not attend'"),
    "dispute": ("The water company said the tap water was safe to drink.",
                "Health officials said they had seen no evidence that the tap water was safe to drink.", None),
    "opposites": ("The Tarrant bridge reopened to traffic on Monday.",
                  "The Tarrant bridge remains closed to all vehicles.", "'reopened' vs 'closed'"),
}
LOOKALIKES = {
    "different-event": ("The council in Ashby approved 240 new homes on Tuesday.",
                        "The council in Kelsey approved 75 new homes last month.", "Ashby vs Kelsey"),
    "paraphrase-numbers": ("A quarter of staff at the plant will lose their jobs.",
                           "25% of employees at the plant will be made redundant.", "A quarter of staff = 25%"),
    "hedge": ("More than 200 homes were flooded in Aldwick.", "Some 240 homes were flooded in Aldwick.",
              "More than 200 homes = Some 240 homes"),
    "paraphrase": ("Power was cut to homes across the region.", "Households across the region lost electricity.",
                   None),
}


def _check(tmp_path, draft: str, source: str, *extra: str) -> dict:
    (tmp_path / "draft.txt").write_text(draft + "\n", encoding="utf-8")
    (tmp_path / "wire.txt").write_text(source + "\n", encoding="utf-8")
    args = ["check", str(tmp_path / "draft.txt"), "-e", str(tmp_path / "wire.txt"), "--device", "cpu", "-f", "json",
            *extra]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(("draft", "source", "reason"), CONTRADICTIONS.values(), ids=CONTRADICTIONS.keys())
def test_contradiction_is_reported_with_its_reason(shipped_model_dir, tmp_path, draft, source, reason):
    report = _check(tmp_path, draft, source)
    [finding] = [f for f in report["findings"] if f["label"] == "contradiction"]
    assert finding["claim"]["text"] == draft
    assert finding["evidence"]["text"] == source
    assert finding["reason"] == reason


@pytest.mark.parametrize(("draft", "source", "reason"), LOOKALIKES.values(), ids=LOOKALIKES.keys())
def test_lookalike_is_not_reported(shipped_model_dir, tmp_path, draft, source, reason):
    assert _check(tmp_path, draft, source)["findings"] == []
    [pair] = _check(tmp_path, draft, source, "--show", "all", "--threshold", "0")["findings"]
    assert pair["reason"] == reason
    if reason is not None:  # the facts decided: never a contradiction, at any threshold
        assert pair["label"] != "contradiction"
