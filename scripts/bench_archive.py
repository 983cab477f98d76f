"""Benchmark ``nli-check index`` and ``check --archive`` on synthetic archives.

Steps (``--steps``, in this order; each adds its figures to the ``--output`` JSON):

1. ``archives``: the 100,000-sentence archive (``scripts/make_archive.py``), 1,000 more
   records to append (new ids), a 30-sentence draft and 1,000 query sentences (other seeds).
2. ``build``: ``nli-check index`` of the 100k archive in a fresh process: wall time, peak
   memory; extrapolated to 1M sentences (linear in sentences) and to a GPU (embedding time
   divided by a GPU/CPU embedding speed ratio given with ``--gpu-speedup``: an extrapolation,
   not a measurement).
3. ``check``: ``nli-check check DRAFT --archive`` in a fresh process (cold: imports, model
   loading, index opening), then the same check again in one process (warm); peak memory.
4. ``quality``: for each query sentence, the top-k from the faiss IVF index against exact
   search, on the first 10,000 sentences of the index and on all of it.
5. ``append``: ``nli-check index`` of the 1,000 new records into the 100k index, against the
   full build's time.

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
STEPS = ("archives", "build", "check", "quality", "append")


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
    for line in result["stderr"].splitlines():
        if "Maximum resident set size" in line:
            result["peak_rss_mb"] = round(int(line.split(":")[1]) / 1024, 1)
    return result


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nli_check", "-q", *args]


def _make(size: int, path: Path, seed: int) -> dict:
    if not path.exists():
        subprocess.run([sys.executable, str(REPO / "scripts" / "make_archive.py"), "--sentences", str(size),
                        "--output", str(path), "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    records = sum(1 for _ in open(path, encoding="utf-8"))
    return {"path": str(path), "records": records}


def step_archives(work: Path, results: dict) -> None:
    main = _make(100_000, work / "archive-100k.jsonl", 13)
    extra = work / "append-source.jsonl"
    _make(12_000, extra, 29)
    append = work / "append-1000.jsonl"
    with open(extra, encoding="utf-8") as src, open(append, "w", encoding="utf-8") as out:
        for n, line in enumerate(src):
            if n == 1000:
                break
            row = json.loads(line)
            row["id"] = f"new-{row['id']}"
            out.write(json.dumps(row) + "\n")
    # Query sentences: sentences of another synthetic archive (seed 31).
    queries_src = work / "queries-source.jsonl"
    _make(3_000, queries_src, 31)
    from nli_check.text import segment
    from nli_check.types import Document

    sentences = []
    for line in open(queries_src, encoding="utf-8"):
        row = json.loads(line)
        sentences.extend(s.text for s in segment(Document(name=row["id"], text=row["text"])))
    rng = random.Random(7)
    rng.shuffle(sentences)
    (work / "queries.json").write_text(json.dumps(sentences[:1000]))
    (work / "draft.txt").write_text(" ".join(sentences[1000:1030]) + "\n", encoding="utf-8")
    results["archives"] = {"archive": main, "append_records": 1000, "queries": 1000, "draft_sentences": 30}


def _index_summary(stdout: str) -> dict:
    return json.loads(stdout)


def step_build(work: Path, results: dict, gpu_speedup: float) -> None:
    index = work / "index-100k"
    shutil.rmtree(index, ignore_errors=True)
    run = _peak_of(_cli("index", str(work / "archive-100k.jsonl"), "-o", str(index), "--json"))
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
        "gpu_speedup_assumed": gpu_speedup,
        "extrapolated_1m_sentences_gpu_seconds": round(per_sentence * 1_000_000 / gpu_speedup, 0),
        "embed_share": embed_share,
        "index_bytes": sum(p.stat().st_size for p in index.rglob("*") if p.is_file()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO / "runs" / "bench-archive")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "bench-archive.json")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--gpu-speedup", type=float, default=50.0,
                        help="assumed embedding speed of a GPU over these CPU cores, for the extrapolation")
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
            step_archives(args.workdir, results)
        elif step == "build":
            step_build(args.workdir, results, args.gpu_speedup)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
