"""``nli-check scan`` end to end: output, store reuse, output-directory safety, kill and resume.

The archive is a small synthetic one from ``scripts/make_archive.py``; embeddings come from
the real all-MiniLM-L6-v2; the NLI model is the tiny fixture model with its labels arranged
so that its (untrained, near-uniform) verdicts come out as contradictions, so conflicts exist.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from nli_check.cli import cli
from nli_check.scan import FieldMap, ScanConfig, SearchSettings, read_conflicts, scan

from .helpers import config, key, make_archive_module, norm


def test_clean_run_output_and_summary(baseline):
    out, summary, _ = baseline
    rows = read_conflicts(out)
    assert summary["complete"] and summary["conflicts"] == len(rows) > 0
    articles = sum(1 for _ in make_archive_module().build(120, seed=5))
    assert summary["records"] == articles and summary["sentences"] > 100
    assert summary["malformed"]["count"] == 3
    assert [(m["line"], m["reason"].split()[0]) for m in summary["malformed"]["records"]] == [
        (4, "bad"),
        (8, "missing"),
        (11, "not"),
    ]
    assert (
        summary["pairs_classified"] == summary["candidate_pairs"] == sum(summary["labels"].values())
    )
    for stage in ("segment", "embed", "search", "nli"):
        assert summary["throughput"][stage]["items"] > 0
    assert summary["settings"]["search"]["top_k"] == 3
    assert json.loads((out / "summary.json").read_text()) == summary
    keys = key(rows)
    assert len(set(keys)) == len(keys) and all(a < b for a, b in keys)
    for row in rows:
        assert row["a_article_id"] != row["b_article_id"]
        assert row["label"] == "contradiction" and row["similarity"] >= 0.5 - 1e-6
        assert row["a_text"] and row["a_source"] and row["a_date"] and row["b_end"] > row["b_start"]
    # The shards are the unit of progress: one file per pair shard, empty ones included.
    assert len(list((out / "conflicts").glob("part-*.parquet"))) == summary["shards"]


def test_store_is_reused_and_output_formats_agree(baseline, archive, contra_model_dir, tmp_path):
    out, summary, store = baseline
    again = scan(
        config(archive, tmp_path / "jsonl", contra_model_dir, store, output_format="jsonl")
    )
    assert again["run"]["store_reused"] and "embed" not in again["throughput"]
    rows = read_conflicts(tmp_path / "jsonl")
    assert norm(rows) == norm(read_conflicts(out))
    assert (tmp_path / "jsonl" / "conflicts" / "part-00000.jsonl").exists()


def test_store_hashes_sentence_texts_and_an_older_store_gets_them(baseline):
    import numpy as np

    from nli_check.scan.store import Store, text_hashes

    _, _, store_root = baseline
    [path] = list(Path(store_root).glob("*/text.npy"))
    store = Store(path.parent.parent, path.parent.name)
    written = np.load(path)
    texts = [row["text"] for row in store.take(range(store.num_sentences))]
    np.testing.assert_array_equal(written, text_hashes(texts))
    assert len(set(written.tolist())) < len(written)  # the archive repeats sentences
    path.unlink()  # as in a store finalised before text.npy existed
    np.testing.assert_array_equal(store.filters()["text"], written)
    assert path.exists()


def test_threshold_and_source_filters(baseline, archive, contra_model_dir, tmp_path):
    out, _, store = baseline
    rows = read_conflicts(out)
    cut = sorted(r["confidence"] for r in rows)[len(rows) // 2]
    high = scan(config(archive, tmp_path / "high", contra_model_dir, store, threshold=cut))
    kept = read_conflicts(tmp_path / "high")
    assert 0 < high["conflicts"] < len(rows)
    assert set(key(kept)) == {
        (r["a_sentence"], r["b_sentence"]) for r in rows if r["confidence"] >= cut
    }
    scan(
        config(
            archive,
            tmp_path / "across",
            contra_model_dir,
            store,
            search=SearchSettings(
                top_k=3, min_similarity=0.5, across_sources_only=True, date_window=3
            ),
        )
    )
    across = read_conflicts(tmp_path / "across")
    assert across and all(r["a_source"] != r["b_source"] for r in across)
    from datetime import date

    assert all(
        abs((date.fromisoformat(r["a_date"]) - date.fromisoformat(r["b_date"])).days) <= 3
        for r in across
    )


def _invoke(*args):
    return CliRunner().invoke(cli, ["scan", *map(str, args)])


def _cli_args(archive, out, model, store):
    return [
        archive,
        "-o",
        out,
        "--model",
        model,
        "--store",
        store,
        "--device",
        "cpu",
        "--threshold",
        "0",
        "--top-k",
        "3",
        "--min-similarity",
        "0.5",
        "--shard-records",
        "3",
        "--shard-pairs",
        "8",
    ]


def test_cli_rerun_is_idempotent_and_guards_the_output_dir(
    baseline, archive, contra_model_dir, tmp_path
):
    out, summary, store = baseline
    args = _cli_args(archive, tmp_path / "out", contra_model_dir, store)
    first = _invoke(*args)
    assert first.exit_code == 0, first.output
    assert first.output.startswith(
        f"{summary['conflicts']} conflict(s) among {summary['candidate_pairs']}"
    )
    assert "3 malformed record(s) skipped" in first.output
    rerun = _invoke(*args, "--json")
    assert rerun.exit_code == 0 and json.loads(rerun.output)["run"]["resumed"] is True
    assert key(read_conflicts(tmp_path / "out")) == key(read_conflicts(out))

    changed = _invoke(*[a if a != "0.5" else "0.55" for a in args])
    assert changed.exit_code == 1
    assert "different settings (search)" in changed.output and "--overwrite" in changed.output
    assert _invoke(*args, "--fail-on-contradiction").exit_code == 3

    shard = tmp_path / "out" / "conflicts" / "part-00001.parquet"
    shard.write_bytes(shard.read_bytes()[:40])
    corrupt = _invoke(*args)
    assert corrupt.exit_code == 1 and "part-00001.parquet is corrupt" in corrupt.output
    shard.unlink()  # deleting a damaged shard recomputes it
    assert _invoke(*args).exit_code == 0
    assert key(read_conflicts(tmp_path / "out")) == key(read_conflicts(out))

    (tmp_path / "out" / "scan.json").write_text("{not json")
    broken = _invoke(*args)
    assert broken.exit_code == 1 and "scan.json is corrupt" in broken.output
    replaced = _invoke(*[a if a != "0.5" else "0.55" for a in args], "--overwrite")
    assert replaced.exit_code == 0, replaced.output

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    refused = _invoke(*_cli_args(archive, foreign, contra_model_dir, store), "--overwrite")
    assert refused.exit_code == 1 and "did not write (notes.txt)" in refused.output
    assert (foreign / "notes.txt").read_text() == "mine"


def test_cli_backend_and_quantize_reach_the_models(baseline, archive, contra_model_dir, tmp_path):
    import importlib.util

    _, summary, store = baseline
    onnx = importlib.util.find_spec("onnxruntime") is not None
    # The default on a CPU: ONNX Runtime, int8, as for check.
    assert (summary["models"]["nli_backend"], summary["models"]["nli_quantize"]) == (
        ("onnx", "int8") if onnx else ("torch", "none")
    )
    result = _invoke(
        *_cli_args(archive, tmp_path / "torch", contra_model_dir, store),
        "--backend", "torch", "--quantize", "none", "--json",
    )
    assert result.exit_code == 0, result.output
    models = json.loads(result.output)["models"]
    assert (models["nli_backend"], models["nli_quantize"]) == ("torch", "none")
    assert json.loads(result.output)["settings"]["backend"] == "torch"
    bad = _invoke(*_cli_args(archive, tmp_path / "bad", contra_model_dir, store), "--quantize", "int4")
    assert bad.exit_code == 2 and "int4" in bad.output


def test_strict_refuses_the_first_malformed_record(baseline, archive, contra_model_dir, tmp_path):
    _, _, store = baseline
    result = _invoke(*_cli_args(archive, tmp_path / "o", contra_model_dir, store), "--strict")
    assert result.exit_code == 1
    assert "news.jsonl line 4: bad JSON" in result.output and "--strict" in result.output


def test_cli_help_has_an_example():
    result = CliRunner().invoke(cli, ["scan", "--help"])
    assert result.exit_code == 0 and "nli-check scan news.jsonl -o conflicts/" in result.output


def _count(path: Path, pattern: str) -> int:
    return len(list(path.glob(pattern))) if path.exists() else 0


def _run_until_paused(args, env, log: Path) -> None:
    """Start ``args``, wait until it stops itself at ``$NLI_CHECK_PAUSE_AT`` and SIGKILL it there:
    the kill lands at the same point however fast the machine is."""
    with log.open("wb") as stderr:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    _, status = os.waitpid(proc.pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status), f"the run ended instead of pausing: {log.read_text()[-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.slow
def test_sigkill_and_resume_gives_the_uninterrupted_result(
    baseline, archive, contra_model_dir, tmp_path
):
    out, summary, _ = baseline
    store = tmp_path / "store"
    args = [
        sys.executable,
        "-m",
        "nli_check",
        "-q",
        "scan",
        *map(str, _cli_args(archive, tmp_path / "out", contra_model_dir, store)),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    assert summary["shards"] > 3

    # 1. Kill while embedding: two store shards committed, the store not complete.
    _run_until_paused(args, {**env, "NLI_CHECK_PAUSE_AT": "embed:2"}, tmp_path / "run1.log")
    assert _count(store, "*/sentences/part-*.arrow") == 2
    assert not (tmp_path / "out" / "summary.json").exists()

    # 2. Resume, and kill again while classifying: three pair shards written.
    _run_until_paused(args, {**env, "NLI_CHECK_PAUSE_AT": "classify:3"}, tmp_path / "run2.log")
    assert _count(tmp_path / "out" / "conflicts", "part-*.parquet") == 3
    assert not (tmp_path / "out" / "summary.json").exists()

    # 3. Resume to the end.
    final = subprocess.run(args + ["--json"], cwd=REPO, env=env, capture_output=True, timeout=300)
    assert final.returncode == 0, final.stderr.decode()[-2000:]
    resumed = json.loads(final.stdout)
    assert (
        resumed["run"]["resumed"]
        and resumed["throughput"]["nli"]["items"] < summary["candidate_pairs"]
    )
    for name in (
        "records",
        "sentences",
        "candidate_pairs",
        "pairs_classified",
        "labels",
        "conflicts",
        "malformed",
    ):
        assert resumed[name] == summary[name], name
    got = sorted(read_conflicts(tmp_path / "out"), key=lambda r: (r["a_sentence"], r["b_sentence"]))
    want = sorted(read_conflicts(out), key=lambda r: (r["a_sentence"], r["b_sentence"]))
    assert got == want


def test_field_options_reach_the_reader(tmp_path, contra_model_dir):
    path = tmp_path / "a.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"k": f"n{i}", "story": s, "outlet": o})
            for i, (s, o) in enumerate(
                [
                    ("The factory in Ardenne will close next year.", "A"),
                    ("The factory in Ardenne will stay open next year.", "B"),
                ]
            )
        )
        + "\n"
    )
    summary = scan(
        ScanConfig(
            archives=(str(path),),
            output=str(tmp_path / "o"),
            model=str(contra_model_dir),
            store_dir=str(tmp_path / "s"),
            device="cpu",
            threshold=0.0,
            fields=FieldMap(id="k", text="story", source="outlet"),
        )
    )
    [row] = read_conflicts(tmp_path / "o")
    assert summary["candidate_pairs"] == 1
    assert (row["a_article_id"], row["a_source"], row["b_article_id"], row["b_source"]) == (
        "n0",
        "A",
        "n1",
        "B",
    )
