"""Benchmark ``nli-check index`` and ``check --archive`` on synthetic archives.

Steps (``--steps``, in this order; each adds its figures to the ``--output`` JSON):

1. ``archives``: the 100,000-sentence archive (``scripts/make_archive.py``), 1,000 more
   records to append (new ids), a 30-sentence draft and 1,000 query sentences (other seeds).
2. ``build``: ``nli-check index`` of the archive in a fresh process: wall and CPU time, peak
   memory; extrapolated to 1M sentences (linear in sentences).
   ``profile``: CPU time of the stages other than embedding (reading and segmenting, training
   the faiss index), for the README's GPU extrapolation (only embedding moves to a GPU).
3. ``check``: ``nli-check check DRAFT --archive`` in a fresh process (cold: imports, model
   loading, index opening), then the same check again in one process (warm); peak memory.
4. ``quality``: for each query sentence, the top-k from the faiss IVF index against exact
   search, on the first 10,000 sentences of the index and on all of it.
5. ``append``: ``nli-check index`` of the new records (``--append-records``) into the index,
   against the full build's wall and CPU time.

    nice -n 10 python scripts/bench_archive.py --workdir runs/bench-archive --output docs/bench-archive.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STEPS = ("archives", "build", "profile", "check", "quality", "append")


def _run(args: list[str], **kwargs) -> dict:
    """Run a command in a fresh process: wall seconds, peak RSS (MB), exit status, stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    # The child has been reaped by communicate(); its rusage is in RUSAGE_CHILDREN (the max over
    # children so far), so each measured command runs before any bigger one.
    import resource

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err.decode()[-3000:]}")
    return {"seconds": round(wall, 2), "peak_rss_mb_children_so_far": round(peak, 1),
            "stdout": out.decode(), "stderr": err.decode()}


def _peak_of(args: list[str]) -> dict:
    """Run a command under ``/usr/bin/time -v`` (its own peak RSS) when available."""
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    if timer is None:
        return _run(args)
    result = _run([timer, "-v", *args])
    cpu = 0.0
    for line in result["stderr"].splitlines():
        if "Maximum resident set size" in line:
            result["peak_rss_mb"] = round(int(line.split(":")[1]) / 1024, 1)
        if "User time (seconds)" in line or "System time (seconds)" in line:
            cpu += float(line.split(":")[1])
    result["cpu_seconds"] = round(cpu, 1)
    return result


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nli_check", "-q", *args]


def _make(size: int, path: Path, seed: int) -> dict:
    if not path.exists():
        subprocess.run([sys.executable, str(REPO / "scripts" / "make_archive.py"), "--sentences", str(size),
                        "--output", str(path), "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    records = sum(1 for _ in open(path, encoding="utf-8"))
    return {"path": str(path), "records": records}


def step_archives(work: Path, results: dict, sentences: int, append_records: int) -> None:
    main = _make(sentences, work / f"archive-{sentences}.jsonl", 13)
    extra = work / "append-source.jsonl"
    _make(max(12_000, 12 * append_records), extra, 29)
    append = work / f"append-{append_records}.jsonl"
    with open(extra, encoding="utf-8") as src, open(append, "w", encoding="utf-8") as out:
        for n, line in enumerate(src):
            if n == append_records:
                break
            row = json.loads(line)
            row["id"] = f"new-{row['id']}"
            out.write(json.dumps(row) + "\n")
    # Query sentences: sentences of another synthetic archive (seed 31).
    queries_src = work / "queries-source.jsonl"
    _make(3_000, queries_src, 31)
    from nli_check.text import segment
    from nli_check.types import Document

    texts = []
    for line in open(queries_src, encoding="utf-8"):
        row = json.loads(line)
        texts.extend(s.text for s in segment(Document(name=row["id"], text=row["text"])))
    rng = random.Random(7)
    rng.shuffle(texts)
    (work / "queries.json").write_text(json.dumps(texts[:1000]))
    (work / "draft.txt").write_text(" ".join(texts[1000:1030]) + "\n", encoding="utf-8")
    results["archives"] = {"archive": main, "sentences_requested": sentences, "append_records": append_records,
                           "queries": 1000, "draft_sentences": 30}


def _index_summary(stdout: str) -> dict:
    return json.loads(stdout)


def step_build(work: Path, results: dict, sentences: int, gpu_speedup: float) -> None:
    index = work / f"index-{sentences}"
    shutil.rmtree(index, ignore_errors=True)
    run = _peak_of(_cli("index", str(work / f"archive-{sentences}.jsonl"), "-o", str(index), "--json"))
    summary = _index_summary(run["stdout"])
    embed_share = None
    profile = work / "build-profile.json"
    if profile.exists():
        embed_share = json.loads(profile.read_text()).get("embed_share")
    seconds = run["seconds"]
    per_sentence = seconds / summary["sentences"]
    results["build"] = {
        "sentences": summary["sentences"],
        "records": summary["records"],
        "seconds": seconds,
        "sentences_per_second": round(summary["sentences"] / seconds, 1),
        "peak_rss_mb": run.get("peak_rss_mb"),
        "extrapolated_1m_sentences_seconds": round(per_sentence * 1_000_000, 0),
        "cpu_seconds_per_1000_sentences": (round(1000 * run["cpu_seconds"] / summary["sentences"], 2)
                                           if run.get("cpu_seconds") else None),
        "gpu_speedup_assumed": gpu_speedup,
        "extrapolated_1m_sentences_gpu_seconds": round(per_sentence * 1_000_000 / gpu_speedup, 0),
        "embed_share": embed_share,
        "cpu_seconds": run.get("cpu_seconds"),
        "index_bytes": sum(p.stat().st_size for p in index.rglob("*") if p.is_file()),
    }


def step_profile(work: Path, results: dict, sentences: int) -> None:
    """CPU seconds of the build's stages other than embedding: reading and segmenting (one core)
    and training the faiss index; for the GPU extrapolation, where only embedding moves."""
    import numpy as np

    from nli_check.scan.reader import read_archive
    from nli_check.scan.search import build_ivf_index
    from nli_check.scan.stages import record_row, segment_records

    start = time.process_time()
    records = [record_row(r, i) for i, r in enumerate(read_archive([work / f"archive-{sentences}.jsonl"]))]
    rows = segment_records(records)
    segment = time.process_time() - start
    index = work / f"index-{sentences}"
    current = json.loads((index / "index.json").read_text())["current"]
    embeddings = np.load(index / current / "embeddings.npy", mmap_mode="r")
    start = time.process_time()
    build_ivf_index(embeddings)
    ivf = time.process_time() - start
    results["profile"] = {"sentences": len(rows), "read_segment_cpu_seconds": round(segment, 2),
                          "ivf_cpu_seconds": round(ivf, 2)}


def step_check(work: Path, results: dict, sentences: int) -> None:
    index, draft = work / f"index-{sentences}", work / "draft.txt"
    args = _cli("check", str(draft), "--archive", str(index), "-f", "json", "-o", str(work / "report.json"))
    _run(args)  # once, so model graphs exported on first use are on disk: "cold" is a new process
    cold = [_peak_of(args) for _ in range(2)]
    warm_script = (
        "import json, sys, time\n"
        "from nli_check import check\n"
        "times, cpu = [], []\n"
        "for _ in range(4):\n"
        "    start, start_cpu = time.perf_counter(), time.process_time()\n"
        "    result = check([sys.argv[1]], archive=sys.argv[2])\n"
        "    times.append(time.perf_counter() - start)\n"
        "    cpu.append(time.process_time() - start_cpu)\n"
        "print(json.dumps({'seconds': times, 'cpu_seconds': cpu, 'claims': len(result.claims)}))\n"
    )
    warm = _peak_of([sys.executable, "-c", warm_script, str(draft), str(index)])
    warm_out = json.loads(warm["stdout"])
    times = warm_out["seconds"]
    report = json.loads((work / "report.json").read_text())
    results["check"] = {
        "draft_sentences": warm_out["claims"],
        "archive_sentences": report["settings"]["archive"]["sentences"],
        "cold_seconds": [r["seconds"] for r in cold],
        "cold_peak_rss_mb": max(r.get("peak_rss_mb") or 0 for r in cold),
        "warm_seconds": [round(t, 2) for t in times[1:]],
        "warm_cpu_seconds": [round(t, 2) for t in warm_out.get("cpu_seconds", [])[1:]],
        "cold_cpu_seconds": [r.get("cpu_seconds") for r in cold],
        "first_in_process_seconds": round(times[0], 2),
        "warm_process_peak_rss_mb": warm.get("peak_rss_mb"),
    }


def _embeddings(work: Path, sentences: int):
    """The index's embeddings and text hashes (memory-mapped), or the embeddings its unfinished
    build committed (and no hashes)."""
    import numpy as np

    index = work / f"index-{sentences}"
    manifest = index / "index.json"
    if manifest.exists():
        current = json.loads(manifest.read_text())["current"]
        return (np.load(index / current / "embeddings.npy", mmap_mode="r"),
                np.load(index / current / "text.npy", mmap_mode="r"))
    parts = sorted(index.glob("gen-*/sentences/part-*.npy"))
    return np.concatenate([np.load(p) for p in parts]), None


def step_quality(work: Path, results: dict, sentences: int, k: int) -> None:
    import numpy as np

    from nli_check.embed import Embedder
    from nli_check.scan.search import build_ivf_index, exact_top_k, ivf_top_k

    queries = Embedder().embed(json.loads((work / "queries.json").read_text()))
    embeddings, texts = _embeddings(work, sentences)
    out = {"k": k, "queries": len(queries), "from_finished_index": texts is not None}
    for size in sorted({min(10_000, len(embeddings)), len(embeddings)}):
        matrix = np.ascontiguousarray(embeddings[:size])
        index = build_ivf_index(matrix)
        exact, exact_sims = exact_top_k(queries, matrix, k, -1.0)
        start = time.perf_counter()
        approx, approx_sims = ivf_top_k(index, queries, matrix, k, -1.0, oversample=max(4 * k, k + 32))
        seconds = time.perf_counter() - start
        # A claim's top-k matches when its k similarities are exact search's: the same sentences,
        # or copies of them (the synthetic archive repeats sentences word for word: ties).
        same = np.all(np.abs(approx_sims - exact_sims) < 1e-5, axis=1)
        same_ids = [set(a) == set(b) for a, b in zip(approx.tolist(), exact.tolist())]
        recall = np.mean([len(set(a) & set(b)) / k for a, b in zip(approx.tolist(), exact.tolist())])
        if texts is not None:  # the same sentences' words, in whichever copies
            hashes = np.asarray(texts[:size])
            out.setdefault("claims_with_the_same_texts", {})[str(size)] = round(float(np.mean(
                [sorted(hashes[a].tolist()) == sorted(hashes[b].tolist()) for a, b in zip(approx, exact)])), 4)
        out[str(size)] = {
            "claims_with_exact_top_k": round(float(np.mean(same)), 4),
            "claims_with_the_same_ids": round(float(np.mean(same_ids)), 4),
            "recall_at_k": round(float(recall), 4),
            "nlist": int(index.nlist),
            "nprobe": int(index.nprobe),
            "ivf_query_ms": round(1000 * seconds / len(queries), 3),
        }
    results["quality"] = out


def step_append(work: Path, results: dict, sentences: int, append_records: int) -> None:
    index = work / f"index-{sentences}"
    run = _peak_of(_cli("index", str(work / f"append-{append_records}.jsonl"), "-o", str(index), "--json"))
    summary = json.loads(run["stdout"])
    build = results.get("build", {})
    results["append"] = {
        "records": summary["appended_records"],
        "sentences": summary["embedded_sentences"],
        "seconds": run["seconds"],
        "cpu_seconds": run.get("cpu_seconds"),
        "peak_rss_mb": run.get("peak_rss_mb"),
        "share_of_build_seconds": round(run["seconds"] / build["seconds"], 4) if build.get("seconds") else None,
        "share_of_build_cpu": (round(run["cpu_seconds"] / build["cpu_seconds"], 4)
                               if build.get("cpu_seconds") and run.get("cpu_seconds") else None),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO / "runs" / "bench-archive")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "bench-archive.json")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--gpu-speedup", type=float, default=50.0,
                        help="assumed embedding speed of a GPU over these CPU cores, for the extrapolation")
    parser.add_argument("--sentences", type=int, default=100_000, help="size of the synthetic archive")
    parser.add_argument("--append-records", type=int, default=1000, help="records appended in the append step")
    parser.add_argument("--k", type=int, default=5, help="neighbours compared in the quality step")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = json.loads(args.output.read_text()) if args.output.exists() else {}
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()}
    for step in STEPS:
        if step not in args.steps:
            continue
        print(f"step {step}", file=sys.stderr, flush=True)
        if step == "archives":
            step_archives(args.workdir, results, args.sentences, args.append_records)
        elif step == "build":
            step_build(args.workdir, results, args.sentences, args.gpu_speedup)
        elif step == "profile":
            step_profile(args.workdir, results, args.sentences)
        elif step == "check":
            step_check(args.workdir, results, args.sentences)
        elif step == "quality":
            step_quality(args.workdir, results, args.sentences, args.k)
        elif step == "append":
            step_append(args.workdir, results, args.sentences, args.append_records)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
