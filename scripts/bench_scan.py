"""Benchmark ``nli-check scan`` on synthetic archives: throughput per stage and peak memory.

For each size, builds an archive with ``scripts/make_archive.py``, runs the scan from one
command in a fresh process (so its peak memory is its own), and collects from its
``summary.json``: sentences/s for embedding, candidate pairs/s for search, pairs/s for NLI,
wall time and peak RSS. Memory at each size shows whether it stays flat as the archive grows.

    python scripts/bench_scan.py --sizes 10000 100000 --workdir runs/bench --output runs/bench.json
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _archive(size: int, workdir: Path, seed: int) -> Path:
    path = workdir / f"archive-{size}.jsonl"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "make_archive.py"),
                "--sentences",
                str(size),
                "--output",
                str(path),
                "--truth",
                str(workdir / f"truth-{size}.jsonl"),
                "--seed",
                str(seed),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def _rate(summary: dict, stage: str) -> float | None:
    entry = summary["throughput"].get(stage) or {}
    return next((v for k, v in entry.items() if k.endswith("_per_second")), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10_000, 100_000],
        help="archive sizes in sentences, smallest first",
    )
    parser.add_argument("--workdir", type=Path, default=REPO / "runs" / "bench-scan")
    parser.add_argument(
        "--output", type=Path, default=None, help="metrics JSON [default: WORKDIR/bench.json]"
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--keep-store",
        action="store_true",
        help="reuse an earlier run's embeddings (default: embed again, so it is timed)",
    )
    parser.add_argument(
        "scan_args",
        nargs=argparse.REMAINDER,
        help="after --, options passed to nli-check scan (e.g. -- --device cuda --model DIR)",
    )
    args = parser.parse_args()
    extra = [a for a in args.scan_args if a != "--"]
    args.workdir.mkdir(parents=True, exist_ok=True)
    output = args.output or args.workdir / "bench.json"

    results = []
    for size in sorted(args.sizes):
        # Step 1: the archive.
        archive = _archive(size, args.workdir, args.seed)
        # Step 2: the scan, from one command, in its own process, with fresh store and output.
        out = args.workdir / f"out-{size}"
        store = args.workdir / f"store-{size}"
        if not args.keep_store:
            subprocess.run(["rm", "-rf", str(store)], check=True)
        command = [
            sys.executable,
            "-m",
            "nli_check",
            "-q",
            "scan",
            str(archive),
            "-o",
            str(out),
            "--store",
            str(store),
            "--overwrite",
            "--json",
            *extra,
        ]
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-4000:])
            raise SystemExit(f"scan failed on the {size}-sentence archive (exit {done.returncode})")
        summary = json.loads(done.stdout)
        children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # Step 3: the figures.
        results.append(
            {
                "sentences_requested": size,
                "records": summary["records"],
                "sentences": summary["sentences"],
                "candidate_pairs": summary["candidate_pairs"],
                "conflicts": summary["conflicts"],
                "embed_sentences_per_second": _rate(summary, "embed"),
                "segment_sentences_per_second": _rate(summary, "segment"),
                "search_pairs_per_second": _rate(summary, "search"),
                "search_index": summary["throughput"].get("search", {}).get("index"),
                "nli_pairs_per_second": _rate(summary, "nli"),
                "wall_seconds": round(wall, 1),
                "peak_rss_mb": summary["run"]["peak_rss_mb"],
                "children_peak_rss_mb": round(max(before, children_peak) / 1024, 1),
                "throughput": summary["throughput"],
                "command": " ".join(command),
            }
        )
        sys.stderr.write(
            json.dumps({k: v for k, v in results[-1].items() if k != "throughput"}) + "\n"
        )

    # Step 4: the metrics JSON.
    report = {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor(),
        },
        "scan_options": extra,
        "results": results,
    }
    if len(results) >= 2:
        report["memory_growth"] = {
            "from_sentences": results[0]["sentences"],
            "to_sentences": results[-1]["sentences"],
            "peak_rss_mb": [results[0]["peak_rss_mb"], results[-1]["peak_rss_mb"]],
            "ratio": round(results[-1]["peak_rss_mb"] / results[0]["peak_rss_mb"], 2),
        }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {
                "output": str(output),
                "results": [
                    {
                        k: r[k]
                        for k in (
                            "sentences",
                            "embed_sentences_per_second",
                            "search_pairs_per_second",
                            "nli_pairs_per_second",
                            "wall_seconds",
                            "peak_rss_mb",
                        )
                    }
                    for r in results
                ],
            }
        )
    )


if __name__ == "__main__":
    main()
