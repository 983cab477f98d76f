"""What a new user meets first: file modes, unusable paths, bad devices, no network, the first
CPU run, help text, packaging, wide tables, ``--show all``, large and unpunctuated input."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import stat
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, build_tiny_nli_model

from nli_check.cli import cli

DRAFT = "Russia is withdrawing its troops from the Ukrainian border.\nThe harvest was good.\n"
SOURCE = (
    "Ben Wallace said he had seen no evidence that Russian troops were withdrawing from the border.\n"
    "Bananas are a good source of potassium.\n"
)
ROWS = [
    ("Troops are leaving the border.", "Troops are staying at the border.", "contradiction"),
    ("Prices rose by four percent.", "Prices went up.", "entailment"),
    ("Prices rose by four percent.", "The minister resigned.", "neutral"),
]


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "draft.txt").write_text(DRAFT, encoding="utf-8")
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "wire.md").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, **kwargs)


def check_args(files, model):
    return ["check", files / "draft.txt", "-e", files / "sources", "--model", model, "--device", "cpu"]


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------------------- file modes
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640)])
def test_check_reports_honour_the_umask(files, contradiction_model_dir, mask, expected):
    target = files / "report.json"
    with umask(mask):
        result = run(*check_args(files, contradiction_model_dir), "-f", "json", "-o", target)
    assert result.exit_code == 0, result.output
    assert mode(target) == expected


def test_eval_metrics_honour_the_umask(tmp_path, tiny_model_dir):
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps(dict(zip(("premise", "hypothesis", "label"), r))) + "\n" for r in ROWS))
    target = tmp_path / "metrics.json"
    with umask(0o022):
        result = run("eval", dev, "--model", tiny_model_dir, "--device", "cpu", "-o", target)
    assert result.exit_code == 0, result.output
    assert mode(target) == 0o644


# ---------------------------------------------------------------------------- -o paths
def test_output_under_a_file_is_one_line_error_before_any_model_loads(files):
    blocker = files / "not-a-dir"
    blocker.write_text("x")
    # The model does not exist either: the output is refused first, before any model is looked at.
    result = run(*check_args(files, files / "no-such-model"), "-o", blocker / "report.json")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: cannot write the report to {blocker / 'report.json'}: {blocker} is a file, not a directory"
    ]
    assert blocker.read_text() == "x"


def test_output_that_is_a_directory_is_refused(files):
    result = run(*check_args(files, files / "no-such-model"), "-o", files / "sources")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: cannot write the report to {files / 'sources'}")


def test_eval_output_under_a_file_is_refused_before_the_model_loads(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    dev = tmp_path / "dev.jsonl"
    dev.write_text("")
    result = run("eval", dev, "--model", tmp_path / "no-such-model", "-o", blocker / "m.json")
    assert result.exit_code == 1
    assert "is a file, not a directory" in result.stderr and "no-such-model" not in result.stderr


def test_a_missing_output_directory_is_created_and_said(files, contradiction_model_dir):
    target = files / "new" / "deeper" / "report.md"
    result = run(*check_args(files, contradiction_model_dir), "-f", "markdown", "-o", target)
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("# nli-check report")
    assert f"Created the directory {target.parent} for the report" in result.stderr


# ---------------------------------------------------------------------------- --device
@pytest.mark.parametrize("command", [
    ["check", "missing-draft.txt", "-e", "missing-sources"],
    ["eval", "missing-dev.jsonl"],
    ["calibrate", "missing-model", "missing-dev.jsonl"],
    ["scan", "missing-archive.jsonl", "-o", "out"],
    ["train", "missing-train.jsonl"],
])
def test_bad_device_is_a_usage_error_before_anything_is_read(command, tmp_path):
    result = run(*command, "--device", "tpu")
    assert result.exit_code == 2, result.output
    assert "--device" in result.stderr and "'tpu' is not a device" in result.stderr
    assert "missing-" not in result.stderr  # nothing was read
    assert "Traceback" not in result.stderr


def test_bad_device_in_the_library_is_refused_before_reading():
    from nli_check.errors import NLICheckError
    from nli_check.pipeline import check

    with pytest.raises(NLICheckError, match="unknown device 'tpu'"):
        check(["missing-draft.txt"], ["missing-sources"], device="tpu")


# ---------------------------------------------------------------------------- hub ids offline
NO_NETWORK_SCRIPT = textwrap.dedent("""
    import os, sys, time
    os.environ.pop("HF_HUB_OFFLINE", None)
    os.environ.pop("TRANSFORMERS_OFFLINE", None)
    import torch, transformers, huggingface_hub  # imported before the clock starts
    from click.testing import CliRunner
    from nli_check.cli import cli
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["check", sys.argv[1], "-e", sys.argv[2], "--model",
                                      "nli-check-tests/no-such-model", "--device", "cpu"])
    print(result.exit_code, round(time.perf_counter() - start, 2))
    print(result.stderr.strip().splitlines()[-1])
""")


@pytest.mark.parametrize("offline", [False, True])
def test_hub_id_without_network_fails_in_seconds_saying_how_to_run_offline(files, offline):
    """This machine has no network: the hub client alone retries for half a minute."""
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    script = NO_NETWORK_SCRIPT if not offline else NO_NETWORK_SCRIPT.replace(
        'os.environ.pop("HF_HUB_OFFLINE", None)', 'os.environ["HF_HUB_OFFLINE"] = "1"')
    done = subprocess.run(
        [sys.executable, "-c", script, str(files / "draft.txt"), str(files / "sources")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    status, last = done.stdout.strip().splitlines()[-2:]
    code, seconds = status.split()
    assert code == "1"
    assert float(seconds) < 3.0, status
    assert last.startswith("Error: cannot load model 'nli-check-tests/no-such-model'")
    assert "HF_HUB_OFFLINE=1" in last


# ---------------------------------------------------------------------------- the first CPU run
def test_first_cpu_run_prints_one_preparing_line(files, tmp_path, monkeypatch):
    from nli_check import nli

    monkeypatch.setenv("NLI_CHECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(nli, "_PREPARING_ANNOUNCED", [])
    model = build_tiny_nli_model(tmp_path / "fresh-model", seed=3)  # never exported before
    result = run(*check_args(files, model), "--backend", "onnx", "--quantize", "int8")
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    preparing = [line for line in lines if line.startswith("Preparing the CPU model once, about 15 s")]
    assert len(preparing) == 1
    assert not any(re.search(r"[Qq]uantiz|MatMul|tensor", line) for line in lines), lines
    assert len(lines) <= 5, lines
    assert list((tmp_path / "cache" / "onnx").rglob("*-int8*.onnx"))


# ---------------------------------------------------------------------------- help and packaging
def test_backend_help_does_not_ask_for_an_extra():
    result = run("check", "--help")
    text = " ".join(result.stdout.split())
    assert "nli-check[onnx]" not in text
    assert "onnx (ONNX Runtime, CPU only; installed with nli-check)" in text


def test_onnx_runtime_is_a_core_dependency_and_no_extra_repeats_it():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("onnxruntime") for d in project["dependencies"])
    assert "onnx" not in project["optional-dependencies"]


def test_license_is_an_spdx_string_setuptools_reads_without_deprecation():
    import setuptools
    import tomllib
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert int(setuptools.__version__.split(".")[0]) >= 77  # the first to read SPDX strings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist = apply_configuration(Distribution(), REPO / "pyproject.toml")
    deprecations = [str(w.message) for w in caught if "license" in str(w.message).lower()]
    assert deprecations == []
    assert dist.metadata.license_expression == "Apache-2.0"


# ---------------------------------------------------------------------------- the table
def test_table_paths_are_relative_and_wrap_at_separators(tmp_path, contradiction_model_dir, monkeypatch):
    deep = tmp_path / "newsroom-archive" / "international-desk" / "eastern-europe-wires"
    deep.mkdir(parents=True)
    (deep / "mod-statement.txt").write_text(SOURCE, encoding="utf-8")
    (tmp_path / "draft.txt").write_text(DRAFT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "93")  # 30 characters a text column
    result = run("check", tmp_path / "draft.txt", "-e", deep, "--model", contradiction_model_dir, "--device", "cpu")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert str(tmp_path) not in out  # shortened to the working directory
    lines = [line.rstrip() for line in out.splitlines()]
    # Each directory ends its line: the path breaks only after a separator.
    for segment in ("[newsroom-archive/", "international-desk/", "eastern-europe-wires/", "mod-statement.txt:0-94]"):
        assert any(line.endswith(segment) or segment in line for line in lines), segment
    assert any(line.endswith("international-desk/") for line in lines)


def test_wrap_breaks_long_paths_after_a_separator():
    from nli_check.report.table import _wrap

    path = "[/data/newsroom/international/eastern/statement.txt:0-121]"
    assert _wrap(path, 24) == ["[/data/newsroom/", "international/eastern/", "statement.txt:0-121]"]
    assert _wrap("a-very-long-word-without-separators-at-all", 10)[0] == "a-very-"


# ---------------------------------------------------------------------------- --show all
def test_show_all_lists_every_pair_whatever_the_threshold(files, tiny_model_dir):
    result = run(*check_args(files, tiny_model_dir), "--show", "all", "--threshold", "1", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pairs_compared"] >= 1
    assert len(data["findings"]) == data["pairs_compared"]
    assert all(f["confidence"] < 1.0 for f in data["findings"])
    assert "every pair compared" in " ".join(run("check", "--help").stdout.split())


# ---------------------------------------------------------------------------- large input
@pytest.fixture(scope="module")
def embedder():
    from nli_check.embed import Embedder

    return Embedder(device="cpu")


def test_progress_bars_on_stderr_for_each_stage_of_a_long_run(tiny_model, embedder, capfd, monkeypatch):
    from nli_check import progress
    from nli_check.pipeline import check
    from nli_check.types import Document

    draft, source = Document("d.txt", DRAFT), Document("s.txt", SOURCE)
    check([draft], [source], model=tiny_model, embedder=embedder, device="cpu", show_progress=True)
    assert capfd.readouterr().err == ""  # a run shorter than the delay shows no bar
    monkeypatch.setattr(progress, "DELAY_S", 0.0)  # every stage now counts as long
    result = check([draft], [source], model=tiny_model, embedder=embedder, device="cpu", show_progress=True)
    captured = capfd.readouterr()
    assert result.pairs_compared >= 1
    assert captured.out == ""
    for stage in ("Segmenting", "Embedding", "Classifying"):
        assert stage in captured.err


def test_repeated_evidence_sentences_are_embedded_and_classified_once(tiny_model, embedder, caplog):
    from nli_check.pipeline import check
    from nli_check.types import Document

    seen: list[list[str]] = []
    encode = embedder.encoder.encode

    def recording(texts, *args):
        seen.append(list(texts))
        return encode(texts, *args)

    embedder.encoder.encode = recording
    try:
        wires = [Document(f"wire{i}.txt", SOURCE) for i in range(4)]  # the same story four times
        with caplog.at_level(logging.INFO, logger="nli_check.pipeline"):
            result = check([Document("d.txt", DRAFT)], wires, model=tiny_model, embedder=embedder,
                           device="cpu", show="all", top_k=4)
    finally:
        embedder.encoder.encode = encode
    evidence_batch = seen[-1] if len(seen) == 2 else seen[1]
    assert sorted(evidence_batch) == sorted(SOURCE.split("\n")[:2])  # 8 sentences, 2 distinct
    assert result.pairs_compared == 4  # the claim meets each copy
    [inputs] = re.findall(r"Classifying 4 pairs \((\d+) model inputs\)", caplog.text)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="nli_check.pipeline"):
        check([Document("d.txt", DRAFT)], wires[:1], model=tiny_model, embedder=embedder, device="cpu")
    assert f"Classifying 1 pairs ({inputs} model inputs)" in caplog.text  # four copies cost one


def test_large_input_suggests_scan_once(tiny_model, embedder, caplog, monkeypatch):
    from nli_check import pipeline
    from nli_check.types import Document

    monkeypatch.setattr(pipeline, "LARGE_INPUT_SENTENCES", 3)
    many = Document("archive.txt", " ".join(f"Item {i} was sold on day {i}." for i in range(5)))
    with caplog.at_level(logging.INFO):
        pipeline.check([Document("d.txt", DRAFT)], [many], model=tiny_model, embedder=embedder, device="cpu")
    suggestions = [r for r in caplog.records if "nli-check scan" in r.getMessage()]
    assert len(suggestions) == 1
    assert suggestions[0].getMessage().startswith("5 evidence sentences: above 3,")


# ---------------------------------------------------------------------------- no punctuation
def test_text_without_punctuation_gives_one_summary_warning(caplog):
    from nli_check.text import MAX_SENTENCE_CHARS, segment
    from nli_check.types import Document

    words = " ".join(f"word{i}" for i in range(40_000))  # about 300 KB, not one full stop
    with caplog.at_level(logging.WARNING, logger="nli_check.text"):
        sentences = segment(Document("dump.txt", words))
    assert len(sentences) > 100 and all(len(s.text) <= MAX_SENTENCE_CHARS for s in sentences)
    assert " ".join(s.text for s in sentences) == words  # nothing dropped
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert message.startswith("dump.txt: ") and "without sentence punctuation" in message


# ---------------------------------------------------------------------------- the README
def test_readme_says_the_shared_data_is_not_public_and_how_to_use_your_own():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The shipped model", 1)[1].split("\n## ", 1)[0]
    assert "../shared/nli-data" in section
    assert "not part of the public repository" in section
    assert "nli-check train my-data/train.jsonl --dev my-data/dev.jsonl -o my-model" in section
    assert "nli-check train --config my-recipe.toml --data-dir my-data/" in section
