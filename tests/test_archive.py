"""``nli-check index`` and ``check --archive``: building, appending without re-embedding,
resuming after kill -9, filters, bad input, and searches while another process appends.

Embeddings come from the real all-MiniLM-L6-v2 (on torch, no ONNX export); the NLI model is the
tiny fixture model; archives are small synthetic ones from ``scripts/make_archive.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO
from scan.helpers import make_archive_module

from nli_check.archive import Archive, ArchiveFilter, build_index
from nli_check.cli import cli
from nli_check.errors import NLICheckError

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(REPO)}
CLI = [sys.executable, "-m", "nli_check", "-q"]
CPU = ["--device", "cpu", "--backend", "torch"]


def _write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _articles(sentences: int, seed: int, prefix: str) -> list[dict]:
    rows = [a for a, _ in make_archive_module().build(sentences, seed=seed)]
    for row in rows:
        row["id"] = f"{prefix}{row['id']}"
    return rows


@pytest.fixture(scope="session")
def embedder():
    from nli_check.embed import Embedder

    return Embedder(device="cpu", backend="torch")


@pytest.fixture(scope="session")
def archives(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("archives")
    return {
        "base": _write(root / "base.jsonl", _articles(120, 5, "")),
        "more": _write(root / "more.jsonl", _articles(40, 9, "more-")),
    }


@pytest.fixture(scope="session")
def built(archives, embedder, tmp_path_factory) -> Path:
    """The base archive indexed, then the second archive appended (two generations)."""
    path = tmp_path_factory.mktemp("built") / "index"
    build_index([archives["base"]], path, embedder=embedder, shard_records=4)
    build_index([archives["base"], archives["more"]], path, embedder=embedder, shard_records=4)
    return path


def _tree_digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def _copy(index: Path, target: Path) -> Path:
    shutil.copytree(index, target)
    return target


# ---------------------------------------------------------------------------- building
def test_index_holds_every_sentence_with_article_source_and_date(built, archives, embedder):
    rows = [json.loads(line) for p in archives.values() for line in p.read_text().splitlines()]
    with Archive(built, embedder=embedder) as archive:
        assert archive.generation == "gen-00002"
        assert archive.num_records == len(rows)
        assert sorted(archive.sources) == sorted({r["source"] for r in rows})
        sentences = archive.sentences(range(len(archive)))
        assert {s.article_id for s in sentences} == {r["id"] for r in rows}
        by_id = {r["id"]: r for r in rows}
        for s in sentences:
            article = by_id[s.article_id]
            assert article["text"][s.start : s.end] == s.text
            assert (s.source_name, s.date) == (article["source"], article["date"])
        # The stored vectors are the embedder's, row for row.
        sample = [0, len(archive) // 2, len(archive) - 1]
        stored = np.asarray(archive._gen.embeddings[sample])
        np.testing.assert_allclose(stored, embedder.embed([sentences[i].text for i in sample]), atol=1e-5)
        # A search for a stored sentence's words finds that sentence first.
        hits = archive.search([sentences[7].text], k=3)[0]
        assert hits[0].sentence.text == sentences[7].text and hits[0].similarity > 0.99
        assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    assert not (built / "gen-00001").exists()  # the old generation went once no one used it


def test_append_embeds_only_the_new_records(archives, embedder, tmp_path):
    path = tmp_path / "index"
    first = build_index([archives["base"]], path, embedder=embedder, shard_records=4)
    with Archive(path, embedder=embedder) as archive:
        old_vectors = np.array(archive._gen.embeddings)
        old_texts = [s.text for s in archive.sentences(range(len(archive)))]
    second = build_index([archives["base"], archives["more"]], path, embedder=embedder, shard_records=4)
    assert second["already_indexed"] == first["records"]
    assert second["appended_records"] == second["records"] - first["records"] > 0
    assert second["embedded_sentences"] == second["sentences"] - first["sentences"]
    with Archive(path, embedder=embedder) as archive:
        np.testing.assert_array_equal(np.asarray(archive._gen.embeddings[: len(old_texts)]), old_vectors)
        assert [s.text for s in archive.sentences(range(len(old_texts)))] == old_texts
    again = build_index([archives["more"]], path, embedder=embedder)
    assert again["appended_records"] == 0 and again["generation"] == second["generation"]


def test_archive_append_from_python(archives, embedder, tmp_path):
    path = tmp_path / "index"
    build_index([archives["base"]], path, embedder=embedder)
    with Archive(path, embedder=embedder) as archive:
        size = len(archive)
        summary = archive.append([
            {"id": "py-1", "text": "The ferry to Glenrock was cancelled. Storms closed the port.",
             "source": "Harbour Radio", "date": "2024-03-03"},
        ])
        assert summary["appended_records"] == 1 and len(archive) == size + 2
        [hit] = archive.search(["The ferry to Glenrock was cancelled."], k=1)[0]
        assert (hit.sentence.article_id, hit.sentence.source_name, hit.sentence.date) == (
            "py-1", "Harbour Radio", "2024-03-03")
        with pytest.raises(NLICheckError, match="missing text"):
            archive.append([{"id": "py-2", "source": "Wire"}])
        assert len(archive) == size + 2


# ---------------------------------------------------------------------------- kill -9 and resume
@pytest.mark.slow
def test_build_killed_mid_append_resumes_to_the_uninterrupted_index(built, archives, tmp_path):
    path = tmp_path / "index"
    args = [*CLI, "index", str(archives["base"]), "-o", str(path), "--shard-records", "4", *CPU]
    assert subprocess.run(args, env=ENV, capture_output=True, timeout=600).returncode == 0
    before = _tree_digest(path)
    args = [*CLI, "index", str(archives["base"]), str(archives["more"]), "-o", str(path),
            "--shard-records", "1", *CPU, "--json"]
    killed = subprocess.run(args, env={**ENV, "NLI_CHECK_INDEX_KILL_AFTER_SHARD": "2"},
                            capture_output=True, timeout=600)
    assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    # The index as it was is untouched and searchable; the build's shards wait to be resumed.
    assert {k: v for k, v in _tree_digest(path).items() if k.startswith(("index.json", "gen-00001"))} == before
    assert len(list((path / "gen-00002" / "sentences").glob("part-*.arrow"))) > 0
    with Archive(path) as archive:
        assert archive.generation == "gen-00001"
    resumed = subprocess.run(args, env=ENV, capture_output=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    summary = json.loads(resumed.stdout)
    assert summary["resumed"] and 0 < summary["embedded_sentences"]
    with Archive(path) as got, Archive(built) as want:
        assert summary["embedded_sentences"] < len(got) - len(archive_base_sentences(want))
        assert len(got) == len(want)
        assert [s.text for s in got.sentences(range(len(got)))] == [
            s.text for s in want.sentences(range(len(want)))]
        np.testing.assert_allclose(np.asarray(got._gen.embeddings), np.asarray(want._gen.embeddings), atol=1e-5)


def archive_base_sentences(archive: Archive) -> list:
    return [s for s in archive.sentences(range(len(archive))) if not s.article_id.startswith("more-")]


# ---------------------------------------------------------------------------- check --archive
def _draft(tmp_path: Path, built: Path) -> Path:
    """Two claims close to archive sentences (a changed word each, so not the same sentence)."""
    with Archive(built) as archive:
        texts = [s.text for s in archive.sentences([3, 40])]
    draft = tmp_path / "draft.txt"
    claims = [t.replace(" the ", " a ", 1) + (" Indeed." if i else "") for i, t in enumerate(texts)]
    draft.write_text(" ".join(claims) + "\n")
    return draft


def _check(*args):
    return CliRunner().invoke(cli, ["check", *map(str, args)], catch_exceptions=False)


def test_check_archive_reports_article_source_and_date_and_filters(built, tiny_model_dir, tmp_path):
    draft = _draft(tmp_path, built)
    common = [draft, "--archive", built, "--model", tiny_model_dir, *CPU, "--show", "all",
              "--threshold", "0", "--min-similarity", "0"]
    base = [*common, "-f", "json"]
    result = _check(*base)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    evidence = [f["evidence"] for f in report["findings"]]
    assert evidence and all(e["article_id"] and e["source_name"] and e["date"] for e in evidence)
    assert report["settings"]["archive"]["generation"] == "gen-00002"
    dates = sorted(e["date"] for e in evidence)
    cut = dates[len(dates) // 2]
    since = json.loads(_check(*base, "--since", cut).stdout)["findings"]
    assert since and all(f["evidence"]["date"] >= cut for f in since)
    until = json.loads(_check(*base, "--until", cut).stdout)["findings"]
    assert until and all(f["evidence"]["date"] <= cut for f in until)
    window = json.loads(_check(*base, "--date", cut, "--date-window", "30").stdout)["findings"]
    assert all(abs((np.datetime64(f["evidence"]["date"]) - np.datetime64(cut)).astype(int)) <= 30 for f in window)
    source = evidence[0]["source_name"]
    only = json.loads(_check(*base, "--source", source.upper()).stdout)["findings"]
    assert only and {f["evidence"]["source_name"] for f in only} == {source}
    without = json.loads(_check(*base, "--exclude-source", source).stdout)["findings"]
    assert without and source not in {f["evidence"]["source_name"] for f in without}
    # -e files are evidence too, ranked with the archive's sentences.
    (tmp_path / "wire.txt").write_text(draft.read_text().replace(" a ", " one ", 1))
    both = json.loads(_check(*base, "-e", tmp_path / "wire.txt").stdout)["findings"]
    assert {f["evidence"]["article_id"] is None for f in both} == {True, False}
    # Every format shows where archive evidence was published.
    for fmt, needle in (("table", "article "), ("csv", "evidence_date"), ("jsonl", "evidence_source_name"),
                        ("markdown", "article "), ("html", '<time class="date"')):
        out = _check(*common, "-f", fmt)
        assert out.exit_code == 0 and needle in out.stdout and evidence[0]["date"] in out.stdout, fmt


def test_copies_of_a_sentence_count_once_in_a_claims_archive_evidence(built, tiny_model_dir, tmp_path):
    from collections import Counter

    from nli_check import check

    with Archive(built) as archive:
        counts = Counter(s.text for s in archive.sentences(list(range(len(archive)))))
    copied, copies = counts.most_common(1)[0]
    assert copies >= 3  # the synthetic archive repeats its statements across articles
    draft = tmp_path / "copied.txt"
    draft.write_text(copied.replace(" the ", " a ", 1).rstrip(".") + ", officials said.\n")
    result = check([draft], archive=built, model=tiny_model_dir, device="cpu", backend="torch", show="all",
                   threshold=0.0, min_similarity=0.0, top_k=3, lexical_k=0)
    texts = [f.evidence.text for f in result.findings]
    # The sentence's own top-3 and the top-3 by its best view (the sentence, or what the
    # officials said): at most six, each once.
    assert 3 <= len(texts) <= 6 and len(set(texts)) == len(texts) and copied in texts


def test_python_check_with_archive(built, tiny_model_dir, tmp_path):
    from nli_check import check

    result = check([_draft(tmp_path, built)], archive=built, model=tiny_model_dir, device="cpu",
                   backend="torch", show="all", threshold=0.0, min_similarity=0.0,
                   archive_filter=ArchiveFilter(sources=("Daily Ledger",)))
    assert result.findings and {f.evidence.source_name for f in result.findings} == {"Daily Ledger"}
    assert {d.name for d in result.evidence} >= {f.evidence.article_id for f in result.findings}


def test_scan_over_an_index(built, contradiction_model_dir, tmp_path):
    from nli_check.scan import ScanConfig, SearchSettings, read_conflicts, scan

    summary = scan(ScanConfig(archives=(str(built),), output=str(tmp_path / "out"), model=str(contradiction_model_dir),
                              device="cpu", threshold=0.0, search=SearchSettings(top_k=2, min_similarity=0.5)))
    with Archive(built) as archive:
        assert summary["sentences"] == len(archive) and summary["records"] == archive.num_records
    assert "embed" not in summary["throughput"] and read_conflicts(tmp_path / "out")


# ---------------------------------------------------------------------------- bad input
def _error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in result.output
    return lines[0]


def test_bad_input_is_one_line_and_leaves_the_index_intact(built, archives, tiny_model_dir, tmp_path):
    index = _copy(built, tmp_path / "index")
    before = _tree_digest(index)
    draft = _draft(tmp_path, built)
    common = ["--model", tiny_model_dir, *CPU]
    # A folder that is not an index; a corrupt manifest.
    assert "not an nli-check index" in _error(_check(draft, "--archive", tmp_path, *common))
    broken = _copy(built, tmp_path / "broken")
    (broken / "index.json").write_text("{not json")
    assert "not an nli-check index" in _error(_check(draft, "--archive", broken, *common))
    # An index built with another embedder.
    other = _copy(built, tmp_path / "other")
    manifest = json.loads((other / "index.json").read_text())
    manifest["embedder"].update(name="other-embedder", sha256="0" * 64)
    (other / "index.json").write_text(json.dumps(manifest))
    message = _error(_check(draft, "--archive", other, *common))
    assert "other-embedder" in message and "--embedder" in message and "rebuild" in message
    runner = CliRunner()
    message = _error(runner.invoke(cli, ["index", str(archives["more"]), "-o", str(other), *CPU]))
    assert "other-embedder" in message
    # Dates that cannot be read.
    message = _error(_check(draft, "--archive", index, "--since", "last spring", *common))
    assert "--since 'last spring' is not a date" in message
    # An empty archive; a record without text: nothing indexed, the index as it was.
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert "no records" in _error(runner.invoke(cli, ["index", str(empty), "-o", str(index), *CPU]))
    bad = _write(tmp_path / "bad.jsonl", [{"id": "x1", "text": "A fine sentence."}, {"id": "x2", "source": "Wire"}])
    message = _error(runner.invoke(cli, ["index", str(bad), "-o", str(index), *CPU]))
    assert "bad.jsonl line 2" in message and "missing text" in message
    assert _tree_digest(index) == before
    assert "not an nli-check index and not empty" in _error(
        runner.invoke(cli, ["index", str(bad), "-o", str(tmp_path), *CPU]))
    # --skip-malformed leaves the bad record out and indexes the good one.
    result = runner.invoke(cli, ["index", str(bad), "-o", str(index), "--skip-malformed", "--json", *CPU])
    assert result.exit_code == 0 and json.loads(result.stdout)["appended_records"] == 1


# ---------------------------------------------------------------------------- concurrency
APPENDER = """
import json, sys
from nli_check.archive import Archive
with Archive(sys.argv[1], device="cpu", backend="torch") as archive:
    for n in range(int(sys.argv[2])):
        archive.append([{"id": f"garden-{n}-{k}", "source": "Garden Weekly", "date": "2024-06-01",
                         "text": f"Tomato plant number {k} in plot {n} grew tall this summer. Slugs ate the lettuce."}
                        for k in range(3)], shard_records=1)
        print(n, len(archive), flush=True)
"""


@pytest.mark.slow
def test_checks_while_index_appends_see_whole_generations(built, tiny_model_dir, tmp_path):
    from nli_check import check

    index = _copy(built, tmp_path / "index")
    draft = _draft(tmp_path, built)

    def run():
        result = check([draft], archive=index, model=tiny_model_dir, device="cpu", backend="torch",
                       show="all", threshold=0.0, top_k=5, min_similarity=0.5)
        pairs = sorted((f.claim.text, f.evidence.article_id, f.evidence.start) for f in result.findings)
        return result.settings.archive, pairs

    _, want = run()
    with Archive(index) as archive:
        base = len(archive)
    appends = 4
    proc = subprocess.Popen([sys.executable, "-c", APPENDER, str(index), str(appends)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    deadline = time.monotonic() + 600
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            info, pairs = run()
            assert pairs == want  # the garden records never outrank the claims' own evidence
            seen.append((info["generation"], info["sentences"]))
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.wait() == 0, proc.stderr.read()[-2000:]
    info, pairs = run()
    seen.append((info["generation"], info["sentences"]))
    assert pairs == want
    # Each check saw one whole generation: its size is the base plus whole appends.
    for generation, size in seen:
        assert (size - base) % 6 == 0 and size <= base + 6 * appends, (generation, size)
    assert seen[-1][1] == base + 6 * appends
    assert len({g for g, _ in seen}) >= 2 and len(seen) >= 3


def test_a_reader_keeps_its_generation_until_it_closes(built, embedder, tmp_path):
    index = _copy(built, tmp_path / "index")
    reader = Archive(index, embedder=embedder)
    size = len(reader)
    claim = reader.sentences([5])[0].text
    with Archive(index, embedder=embedder) as writer:
        writer.append([{"id": "late-1", "text": claim.replace(" the ", " a ", 1) + " Again.", "source": "X"}])
        assert writer.generation != reader.generation
    assert (index / reader.generation).exists()  # held by the reader: not removed
    assert len(reader) == size and reader.search([claim], k=1)[0][0].sentence.text == claim
    old = reader.generation
    reader.close()
    with Archive(index, embedder=embedder) as writer:
        writer.append([{"id": "late-2", "text": "Another late article arrived today.", "source": "X"}])
    assert not (index / old).exists()


def test_faiss_index_is_built_extended_and_filtered_like_exact_search(archives, embedder, tmp_path, monkeypatch):
    import nli_check.archive as module

    monkeypatch.setattr(module, "IVF_MIN_SENTENCES", 50)
    path = tmp_path / "index"
    build_index([archives["base"]], path, embedder=embedder)
    build_index([archives["base"], archives["more"]], path, embedder=embedder)  # added to the first's
    with Archive(path, embedder=embedder) as archive:
        faiss_info = json.loads((path / archive.generation / "faiss.json").read_text())
        assert faiss_info["trained_on"] < len(archive)
        queries = np.asarray(archive._gen.embeddings[::5])
        exact, exact_sims = archive.search_vectors(queries, 3, index="exact")
        ivf, ivf_sims = archive.search_vectors(queries, 3, index="ivf")
        # The same neighbours, or as similar ones (the archive repeats sentences: ties).
        same = np.all(np.abs(ivf_sims - exact_sims) < 1e-5, axis=1)
        assert same.mean() >= 0.95 and len(queries) > 20
        assert np.mean([set(a) == set(b) for a, b in zip(exact.tolist(), ivf.tolist())]) >= 0.5
        only = ArchiveFilter(sources=(archive.sources[1],))
        for kind in ("exact", "ivf"):
            ids, _ = archive.search_vectors(queries, 3, index=kind, archive_filter=only)
            assert (ids >= 0).any() and set(archive._gen.filters["source"][ids[ids >= 0]].tolist()) == {1}
