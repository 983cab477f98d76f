"""``nli-check check`` through click's CliRunner: formats, exit codes, bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nli_check.cli import COMMANDS, cli
from nli_check.pairing import CHECK_TOP_K

REPO = Path(__file__).resolve().parents[2]
DRAFT = "Russia is withdrawing its troops from the Ukrainian border.\nThe harvest was good.\n"
SOURCE = (
    "Ben Wallace said he had seen no evidence that Russian troops were withdrawing from the border.\n"
    "Bananas are a good source of potassium.\n"
)


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "draft.txt").write_text(DRAFT, encoding="utf-8")
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "wire.md").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def run(*args, input=None):
    result = CliRunner().invoke(cli, list(map(str, args)), input=input, catch_exceptions=False)
    return result


def _ok_args(files, model):
    # The fixture models call every pair a contradiction: a floor keeps the unrelated pairs out.
    return ["check", files / "draft.txt", "-e", files / "sources", "--model", model, "--device", "cpu",
            "--min-similarity", "0.4"]


def test_help_lists_every_command_and_each_has_help():
    result = run("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
    result = run("check", "--help")
    assert result.exit_code == 0
    for needle in ("--evidence", "--model", "--device", "--top-k", "--min-similarity", "--threshold",
                   "--show", "--format", "--output", "--encoding", "--batch-size",
                   "--fail-on-contradiction", "Exit codes", "nli-check check draft.txt"):
        assert needle in result.output


def test_every_available_command_has_help_text():
    from nli_check.cli import LazyGroup

    group = cli
    ctx = group.make_context("nli-check", ["--help"], resilient_parsing=True)
    for name in LazyGroup.list_commands(group, ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"the module of command {name!r} does not import"
        assert (command.help or "").strip(), name
        assert run(name, "--help").exit_code == 0


def test_table_by_default_with_both_sentences_and_speaker(files, contradiction_model_dir):
    result = run(*_ok_args(files, contradiction_model_dir))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "contradiction" in out and "Russia is withdrawing" in out
    assert "Ben Wallace" in out and "wire.md" in out
    assert "1 contradiction(s)" in out
    assert "Bananas" not in out  # unrelated sentence was never paired
    assert "Traceback" not in result.output


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "markdown", "table"])
def test_each_format_parses(files, contradiction_model_dir, fmt):
    result = run(*_ok_args(files, contradiction_model_dir), "--format", fmt)
    assert result.exit_code == 0, result.output
    out = result.stdout
    if fmt == "json":
        data = json.loads(out)
        [finding] = data["findings"]
        assert finding["label"] == "contradiction"
        assert finding["evidence"]["speaker"] == "Ben Wallace"
        assert data["settings"]["top_k"] == CHECK_TOP_K and data["counts"]["contradiction"] == 1
        assert data["documents"]["claims"][0]["name"].endswith("draft.txt")
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in out.splitlines()]
        assert len(rows) == 1 and rows[0]["claim_start"] == 0 and rows[0]["evidence_speaker"] == "Ben Wallace"
        assert DRAFT[rows[0]["claim_start"] : rows[0]["claim_end"]] == rows[0]["claim"]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert len(rows) == 1 and rows[0]["label"] == "contradiction"
        assert float(rows[0]["confidence"]) > 0.99 and rows[0]["evidence_cue"] == "no evidence that"
    elif fmt == "markdown":
        assert out.startswith("# nli-check report")
        assert "| 1 | contradiction |" in out
    else:
        import re

        lines = out.splitlines()
        assert lines[0].split() == ["#", "label", "conf", "sim", "claim", "evidence"]
        assert set(lines[1].replace(" ", "")) == {"-"}
        assert re.match(r"\s*1  contradiction\s+1\.00\s+0\.\d\d  Russia is withdrawing", lines[2]), lines[2]
        assert "Ben Wallace" in out and "wire.md" in out
        assert any(line.startswith("1 contradiction(s), 0 support(s) reported from 1 pair(s)") for line in lines)


def test_html_format_dispatches_to_the_html_report(files, contradiction_model_dir):
    result = run(*_ok_args(files, contradiction_model_dir), "--format", "html")
    assert result.exit_code == 0, result.output
    assert "<html" in result.stdout.lower()


def test_stdin_and_show_all(files, tiny_model_dir):
    result = run("check", "-", "-e", files / "sources", "--model", tiny_model_dir, "--device", "cpu",
                 "--show", "all", "--threshold", "0", "-f", "jsonl", input=DRAFT)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(r["claim_source"] == "<stdin>" for r in rows)


def test_output_file_and_exit_code_3(files, contradiction_model_dir):
    target = files / "out" / "report.json"
    result = run(*_ok_args(files, contradiction_model_dir), "-f", "json", "-o", target,
                 "--fail-on-contradiction")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert json.loads(target.read_text())["counts"]["contradiction"] == 1
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind


def test_fail_on_contradiction_exits_0_when_none_reported(files, contradiction_model_dir):
    result = run(*_ok_args(files, contradiction_model_dir), "--fail-on-contradiction", "--show", "support")
    assert result.exit_code == 0
    assert "No findings" in result.stdout


def test_failing_run_leaves_existing_output_untouched(files, contradiction_model_dir):
    target = files / "report.csv"
    target.write_text("previous report\n")
    result = run("check", files / "missing.txt", "-e", files / "sources", "--model",
                 contradiction_model_dir, "-o", target, "-f", "csv")
    assert result.exit_code == 1
    assert target.read_text() == "previous report\n"


def test_a_write_that_fails_part_way_leaves_the_old_file(tmp_path):
    from nli_check.cli._common import write_atomic

    target = tmp_path / "report.md"
    target.write_text("previous report\n")
    text = "# nli-check report\n" + "| 1 | contradiction |\n" * 5000 + "\ud800"  # unencodable at the end
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, text)
    assert target.read_text() == "previous report\n"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind
    write_atomic(target, "new report\n")
    assert target.read_text() == "new report\n"


def _bad_inputs(tmp: Path) -> dict[str, tuple[list, str]]:
    (tmp / "empty_dir").mkdir()
    (tmp / "blank.txt").write_text("   \n\n")
    (tmp / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp / "latin1.txt").write_bytes("Les troupes se retirent, a déclaré le ministère.".encode("latin-1"))
    (tmp / "not_a_model").mkdir()
    (tmp / "not_a_model" / "config.json").write_text("{}")
    return {
        "missing file": ([tmp / "nope.txt"], "no such file or directory"),
        "directory without text files": ([tmp / "empty_dir"], "holds no .txt or .md files"),
        "whitespace-only document": ([tmp / "blank.txt"], "is empty"),
        "binary file": ([tmp / "image.txt"], "looks like a binary file"),
        "non-UTF-8 file": ([tmp / "latin1.txt"], "latin1.txt is not valid utf-8.*--encoding"),
        "unknown encoding": (["--encoding", "klingon"], "unknown encoding"),
        "one document, no evidence": (["--no-evidence"], "--evidence"),
        "model directory without weights": (["--model", tmp / "not_a_model"], "safetensors"),
        "cuda without a GPU": (["--device", "cuda"], "no CUDA GPU"),
    }


BAD_CASES = [
    "missing file", "directory without text files", "whitespace-only document", "binary file",
    "non-UTF-8 file", "unknown encoding", "one document, no evidence",
    "model directory without weights", "cuda without a GPU",
]  # an unknown --device is a usage error (exit 2): tests/cli/test_first_use.py


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_one_line_error_exit_1(files, tiny_model_dir, case):
    import re

    import torch

    if case == "cuda without a GPU" and torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    (files / "bad").mkdir()
    extra, message = _bad_inputs(files / "bad")[case]
    args = ["check", files / "draft.txt", "-e", files / "sources", "--model", tiny_model_dir]
    if extra and extra[0] == "--no-evidence":
        args = ["check", files / "draft.txt", "--model", tiny_model_dir]
    elif extra and str(extra[0]).startswith("--"):
        args += extra
    else:
        args = ["check", *extra, "-e", files / "sources", "--model", tiny_model_dir]
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ")
    assert re.search(message, lines[-1]), lines[-1]
    assert "Traceback" not in result.stderr


def test_model_that_is_not_an_nli_classifier(files, tmp_path):
    from conftest import build_tiny_nli_model

    path = build_tiny_nli_model(tmp_path / "sentiment", id2label={0: "negative", 1: "positive"})
    result = run(*_ok_args(files, path))
    assert result.exit_code == 1
    assert "is not an NLI classifier" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "option, value",
    [("--top-k", "0"), ("--min-similarity", "1.5"), ("--min-similarity", "-1.2"),
     ("--threshold", "1.5"), ("--show", "everything"), ("--format", "pdf"), ("--batch-size", "0")],
)
def test_bad_option_values_are_usage_errors(files, option, value):
    result = run("check", files / "draft.txt", "-e", files / "sources", option, value)
    assert result.exit_code == 2
    assert option in result.stderr
    assert "Traceback" not in result.stderr


def test_stdin_twice_is_a_usage_error(files):
    result = run("check", "-", "-e", "-", input=DRAFT)
    assert result.exit_code == 2
    assert "only once" in result.stderr


def test_no_model_installed_names_the_option(files, monkeypatch, tmp_path):
    import nli_check.models
    import nli_check.pipeline

    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("NLI_CHECK_MODELS", str(tmp_path / "empty"))
    monkeypatch.setattr(nli_check.models, "_model_roots", lambda: [tmp_path / "empty"])
    monkeypatch.setattr(nli_check.pipeline, "_MODELS", {})  # no default model loaded earlier
    result = run("check", files / "draft.txt", "-e", files / "sources", "--device", "cpu")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "Error: the default NLI model (nli-minilm-l6) is not installed: "
        "pass --model with a local NLI model directory or a hub id"
    )


@pytest.mark.slow
def test_demo_with_shipped_model(shipped_model_dir):
    result = run("check", REPO / "seeds" / "draft.txt", "-e", REPO / "seeds" / "sources", "--show", "all",
                 "-f", "json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    labels = {f["label"] for f in json.loads(result.stdout)["findings"]}
    assert "contradiction" in labels
