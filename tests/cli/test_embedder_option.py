"""``--embedder`` on check and scan: a named or local sentence-embedding model is used; anything
else is one line saying what to do."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from nli_check.cli import cli

DRAFT = "Russia is withdrawing its troops from the Ukrainian border.\n"
SOURCE = "Ben Wallace said he had seen no evidence that Russian troops were withdrawing from the border.\n"


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "draft.txt").write_text(DRAFT, encoding="utf-8")
    (tmp_path / "wire.txt").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "news.jsonl").write_text(
        json.dumps({"id": "a", "text": DRAFT}) + "\n" + json.dumps({"id": "b", "text": SOURCE}) + "\n"
    )
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    return tmp_path


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _not_embedders(files, tiny_model_dir):
    return {
        "an NLI classifier": (tiny_model_dir, "is a classifier"),
        "a bare encoder folder": (files / "bare", "no modules.json"),
        "a file": (files / "draft.txt", "is a file"),
        "a missing folder": (files / "nowhere", "cannot load embedding model"),
    }


@pytest.mark.parametrize("case", ["an NLI classifier", "a bare encoder folder", "a file", "a missing folder"])
@pytest.mark.parametrize("command", ["check", "scan"])
def test_an_embedder_that_is_not_one_is_a_one_line_error(files, tiny_model_dir, command, case):
    path, message = _not_embedders(files, tiny_model_dir)[case]
    if command == "check":
        args = ["check", files / "draft.txt", "-e", files / "wire.txt", "--model", tiny_model_dir,
                "--device", "cpu", "--embedder", path]
    else:
        args = ["scan", files / "news.jsonl", "-o", files / "out", "--model", tiny_model_dir, "--device", "cpu",
                "--embedder", path, "--store", files / "store"]
    result = _run(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: ") and message in last, last
    assert "directory" in last  # says what to give instead
    assert "Traceback" not in result.stderr


def test_check_uses_the_named_stock_embedder(files, contradiction_model_dir):
    result = _run("check", files / "draft.txt", "-e", files / "wire.txt", "--model", contradiction_model_dir,
                  "--device", "cpu", "--embedder", "all-MiniLM-L6-v2", "--min-similarity", "0", "-f", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["settings"]["embedding_model"] == "all-MiniLM-L6-v2"
    assert report["findings"]


def test_a_shipped_model_is_found_by_its_name(tmp_path, monkeypatch):
    import nli_check.models as models

    (tmp_path / "pairing-x").mkdir()
    (tmp_path / "pairing-x" / "config.json").write_text("{}")
    monkeypatch.setattr(models, "_model_roots", lambda: [tmp_path])
    assert models.resolve_model_name("pairing-x") == str(tmp_path / "pairing-x")
    assert models.resolve_model_name("elsewhere/pairing-x") == "elsewhere/pairing-x"
    assert models.resolve_model_name("all-MiniLM-L6-v2") == str(models.minilm_path())
