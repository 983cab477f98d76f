"""Claim verdicts in every output format of ``nli-check check``, through click's CliRunner."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from nli_check.cli import cli

DRAFT = (
    "Russia is withdrawing its troops from the Ukrainian border.\n"
    "The football final ended in a draw after extra time.\n"
)
SOURCE = (
    "Ben Wallace said he had seen no evidence that Russian troops were withdrawing from the border.\n"
    "Bananas are a good source of potassium.\n"
)
WITHDRAW, FOOTBALL = DRAFT.splitlines()


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "draft.txt").write_text(DRAFT, encoding="utf-8")
    (tmp_path / "wire.txt").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def run(files, model, *args):
    argv = ["check", files / "draft.txt", "-e", files / "wire.txt", "--model", model, "--device", "cpu", *args]
    return CliRunner().invoke(cli, list(map(str, argv)), catch_exceptions=False)


def test_json_has_a_claims_list_beside_findings(files, contradiction_model_dir):
    result = run(files, contradiction_model_dir, "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(c["claim"]["text"], c["verdict"]) for c in data["claims"]] == [
        (WITHDRAW, "contradicted"), (FOOTBALL, "no evidence"),
    ]
    assert data["claims"][0]["confidence"] > 0.99 and data["claims"][1]["confidence"] is None
    assert data["verdicts"]["contradicted"] == 1 and data["verdicts"]["no evidence"] == 1
    assert len(data["findings"]) == 1


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_per_claim_gives_one_row_per_claim(files, contradiction_model_dir, fmt):
    result = run(files, contradiction_model_dir, "-f", fmt, "--per", "claim", "--show", "support")
    assert result.exit_code == 0, result.output
    if fmt == "jsonl":
        rows = [json.loads(line) for line in result.stdout.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["claim"], r["verdict"]) for r in rows] == [(WITHDRAW, "contradicted"), (FOOTBALL, "no evidence")]
    assert rows[0]["evidence_speaker"] == "Ben Wallace" and rows[0]["evidence_label"] == "contradiction"
    assert rows[1]["evidence"] in (None, "")
    assert DRAFT[int(rows[1]["claim_start"]) : int(rows[1]["claim_end"])] == FOOTBALL


def test_per_finding_is_still_the_default(files, contradiction_model_dir):
    result = run(files, contradiction_model_dir, "-f", "jsonl")
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["label"] == "contradiction" and "verdict" not in row


def test_per_claim_with_another_format_is_a_usage_error(files, contradiction_model_dir):
    result = run(files, contradiction_model_dir, "-f", "table", "--per", "claim")
    assert result.exit_code == 2
    assert "--per claim" in result.stderr


def test_table_ends_with_a_per_claim_summary_naming_claims_without_evidence(files, contradiction_model_dir):
    result = run(files, contradiction_model_dir)
    assert result.exit_code == 0, result.output
    out = result.stdout
    findings, claims = out.split("Claims: ", 1)
    assert "contradiction" in findings and FOOTBALL not in findings
    assert claims.startswith("1 contradicted, 0 disputed, 0 supported, 0 unclear, 1 no evidence (of 2)")
    assert "verdict" in claims and "contradicted" in claims
    missing = claims.split("No evidence found for 1 claim(s):", 1)[1]
    assert FOOTBALL in missing and "draft.txt:" in missing
    assert WITHDRAW not in missing


def test_markdown_has_a_verdict_column_and_a_claims_table(files, contradiction_model_dir):
    result = run(files, contradiction_model_dir, "-f", "markdown")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "| # | Label | Confidence | Similarity | Claim | Verdict | Evidence |" in out
    assert "| contradicted |" in out.split("## Claims")[0]
    claims = out.split("## Claims", 1)[1]
    assert "| 1 | contradicted | 1.00 | Russia is withdrawing" in claims
    assert "| 2 | no evidence |  | The football final" in claims
