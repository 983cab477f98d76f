"""Benchmark the pairing step: does each claim reach its evidence, at what NLI cost?

Held-out claims (the dev parts of the fact-verification sets in models/nli-minilm-l6.toml whose
evidence is one sentence) each hide their gold evidence sentence among distractor sentences of
the same sets, in pools of 200 and of 10,000. For every embedder: recall of contradicting and of
supporting evidence over a grid of top-k and similarity floors, at check's and scan's
defaults (read from the commands themselves), candidate pairs per sentence (NLI calls), and
embedding throughput. Writes a JSON and PNG curves.

    python scripts/bench_pairing.py                       # stock vs shipped pairing model
    python scripts/bench_pairing.py --embedder all-MiniLM-L6-v2 --embedder /path/to/model
    python scripts/bench_pairing.py --max-per-set 200 --pools 200   # a quick look
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED_DATA = REPO.parent / "shared" / "nli-data"
#: Dev sets of models/nli-minilm-l6.toml whose pairs are a claim and its evidence.
CLAIM_SETS = ("fever", "fm2", "covidfact", "healthver", "scifact")
CACHE = REPO / "runs" / "bench-pairing-cache"

logger = logging.getLogger("bench_pairing")


# ---------------------------------------------------------------------------- steps
def dev_sets(data_dir: Path) -> list[tuple[str, Path, float]]:
    """1. The claim sets among the NLI recipe's dev entries, with their hash holdouts."""
    import tomllib

    recipe = tomllib.loads((REPO / "models" / "nli-minilm-l6.toml").read_text(encoding="utf-8"))
    found = [(d["name"], data_dir / d["path"], float(d.get("holdout", 0.0)))
             for d in recipe["dev"] if d.get("name") in CLAIM_SETS and d.get("kind", "file") == "file"]
    missing = [str(p) for _, p, _ in found if not p.exists()]
    if missing:
        raise SystemExit(f"Error: data files not found: {', '.join(missing)}; pass --data-dir")
    return found


def command_defaults() -> dict:
    """2. check's and scan's pairing defaults, from the commands' own options."""
    from nli_check.cli.check import check
    from nli_check.cli.scan import scan

    def defaults(command) -> dict:
        params = {p.name: p.default for p in command.params}
        return {"top_k": int(params["top_k"]), "lexical_k": int(params.get("lexical_k") or 0),
                "min_similarity": float(params["min_similarity"])}

    return {"check": defaults(check), "scan": defaults(scan)}


def cached_queries(sets, args):
    """The queries and pools (splitting every premise into sentences is slow), cached under runs/."""
    import dataclasses

    from nli_check.pairing_eval import Bench, Query, load_queries

    stamp = json.dumps([[n, str(p), p.stat().st_size, h] for n, p, h in sets] + [args.max_per_set, args.seed])
    path = CACHE / f"queries-{hashlib.sha256(stamp.encode()).hexdigest()[:16]}.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return Bench([Query(**q) for q in data["queries"]], data["sentences"],
                     {k: set(v) for k, v in data["golds"].items()})
    bench = load_queries(sets, max_per_set=args.max_per_set, seed=args.seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"queries": [dataclasses.asdict(q) for q in bench.queries],
                                "sentences": bench.sentences,
                                "golds": {k: sorted(v) for k, v in bench.golds.items()}}), encoding="utf-8")
    return bench


def cached_embed(embedder):
    """Embeddings cached under runs/ by model files and texts, so a rerun costs nothing."""
    source = Path(embedder.source)
    stamp = "".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns};"
                    for p in sorted(source.rglob("*.safetensors"))) if source.exists() else embedder.source

    def embed(texts: list[str]) -> np.ndarray:
        key = hashlib.sha256((stamp + "\x00".join(texts)).encode()).hexdigest()[:24]
        path = CACHE / f"{key}.npy"
        if path.exists():
            logger.info("embeddings of %s from the cache %s", embedder.name, path)
            return np.load(path)
        vectors = embedder.embed(texts, show_progress=sys.stderr.isatty())
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors

    return embed


def run_embedder(name: str, bench, pools: list[int], defaults: dict, args) -> dict:
    """3. One embedder: load time, throughput, recall grid per pool."""
    from nli_check.embed import Embedder
    from nli_check.pairing_eval import summarise

    started = time.perf_counter()
    embedder = Embedder(name, device=args.device, backend=args.backend)
    load_seconds = time.perf_counter() - started
    probe = [q.claim for q in bench.queries[:512]]
    embedder.embed(probe[:32])  # warm up
    started = time.perf_counter()
    embedder.embed(probe)
    throughput = len(probe) / (time.perf_counter() - started)

    from nli_check.pairing_eval import measure

    check_setting = defaults["check"]
    hybrid = (check_setting["top_k"], check_setting["lexical_k"], check_setting["min_similarity"])
    results, embedding = measure(bench, cached_embed(embedder), pools, seed=args.seed,
                                 hybrid=hybrid if hybrid[1] else None)
    out = {"embedder": name, "source": embedder.source, "backend": embedder.backend,
           "load_seconds": round(load_seconds, 2),
           "sentences_per_second": round(throughput, 1), "bench_embedding": embedding, "pools": {}}
    for size, result in results.items():
        summary = summarise(result)
        for command, setting in defaults.items():
            k, lex, floor = setting["top_k"], setting["lexical_k"], setting["min_similarity"]
            candidates = (float(result.hybrid_candidates.mean()) if lex and result.hybrid == (k, lex, floor)
                          else result.candidates_per_sentence(k, floor))
            summary[f"at_{command}_defaults"] = {
                "top_k": k, "lexical_k": lex, "min_similarity": floor,
                "contradiction_recall": round(result.recall(k, floor, "contradiction", lexical_k=lex), 4),
                "entailment_recall": round(result.recall(k, floor, "entailment", lexical_k=lex), 4),
                "candidates_per_sentence": round(candidates, 2),
                "by_set": {name: {label: round(result.recall(k, floor, label, name, lexical_k=lex), 4)
                                  for label in ("contradiction", "entailment")}
                           for name in sorted(set(result.datasets.tolist()))},
            }
            if lex:  # the same top-k by meaning alone, for comparison
                summary[f"at_{command}_defaults"]["by_meaning_only"] = {
                    "contradiction_recall": round(result.recall(k, floor, "contradiction"), 4),
                    "entailment_recall": round(result.recall(k, floor, "entailment"), 4),
                    "candidates_per_sentence": round(result.candidates_per_sentence(k, floor), 2),
                }
        out["pools"][str(size)] = summary
    return out


def plot(report: dict, size: str, path: Path) -> None:
    """4. Recall against the floor (at each command's top-k) and against top-k (at its floor)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    command = "check" if int(size) < 1000 else "scan"
    setting = report["defaults"][command]
    fig, axes = plt.subplots(2, 3 if command == "scan" else 2, figsize=(15 if command == "scan" else 10, 8))
    for run in report["embedders"]:
        pool = run["pools"][size]
        floors, ks = pool["floors"], pool["top_ks"]
        k_col = ks.index(setting["top_k"]) if setting["top_k"] in ks else None
        f_row = min(range(len(floors)), key=lambda i: abs(floors[i] - setting["min_similarity"]))
        for col, label in enumerate(("contradiction", "entailment")):
            grid = np.array(pool["recall"][label])
            if k_col is not None:
                axes[0, col].plot(floors, grid[:, k_col], marker=".", label=run["embedder_label"])
            axes[1, col].plot(ks, grid[f_row, :], marker=".", label=run["embedder_label"])
        if command == "scan":
            cost = np.array(pool["candidates_per_sentence"])
            if k_col is not None:
                axes[0, 2].plot(floors, cost[:, k_col], marker=".", label=run["embedder_label"])
            axes[1, 2].plot(ks, cost[f_row, :], marker=".", label=run["embedder_label"])
    for col, label in enumerate(("contradiction", "entailment")):
        axes[0, col].set(title=f"{label} recall vs floor (top-{setting['top_k']})", xlabel="min similarity",
                         ylabel="recall", ylim=(0, 1.01))
        axes[0, col].axvline(setting["min_similarity"], color="grey", linestyle=":")
        axes[1, col].set(title=f"{label} recall vs top-k (floor {setting['min_similarity']})", xlabel="top-k",
                         ylabel="recall", ylim=(0, 1.01), xscale="log")
        axes[1, col].axvline(setting["top_k"], color="grey", linestyle=":")
        for row in (0, 1):
            axes[row, col].axhline(0.95 if command == "check" else 0.90, color="red", linewidth=0.6)
            axes[row, col].grid(alpha=0.3)
    if command == "scan":
        axes[0, 2].set(title=f"candidate pairs per sentence (top-{setting['top_k']})", xlabel="min similarity")
        axes[1, 2].set(title=f"candidate pairs per sentence (floor {setting['min_similarity']})", xlabel="top-k",
                       xscale="log")
        for row in (0, 1):
            axes[row, 2].axhline(10, color="red", linewidth=0.6)
            axes[row, 2].grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"Pairing recall, pools of {int(size):,} evidence sentences ({command}'s defaults dotted)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedder", action="append", default=None,
                        help="Embedder to score (repeatable). [default: all-MiniLM-L6-v2 and the shipped default]")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--pools", type=int, nargs="+", default=[200, 10_000])
    parser.add_argument("--max-per-set", type=int, default=None, help="Queries per set (seeded sample).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "bench-pairing.json")
    parser.add_argument("--plots", type=Path, default=REPO / "docs", help="Folder for the PNG curves.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from nli_check.models import DEFAULT_EMBEDDER
    names = args.embedder or ["all-MiniLM-L6-v2", DEFAULT_EMBEDDER]
    names = list(dict.fromkeys(names))
    sets = dev_sets(args.data_dir)
    bench = cached_queries(sets, args)
    defaults = command_defaults()
    report = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "sets": [{"name": n, "path": p.name, "holdout": h} for n, p, h in sets],
        "queries": len(bench.queries),
        "queries_by_set": dict(sorted(Counter(f"{q.dataset} {q.label}" for q in bench.queries).items())),
        "defaults": defaults,
        "embedders": [],
    }
    for name in names:
        logger.info("== %s", name)
        run = run_embedder(name, bench, args.pools, defaults, args)
        run["embedder_label"] = Path(name).name if os.sep in name else name
        report["embedders"].append(run)
        for size, pool in run["pools"].items():
            for command in ("check", "scan"):
                d = pool[f"at_{command}_defaults"]
                logger.info("  pool %6s at %s's defaults (top-%d + %d by words, floor %.2f): contradiction %.3f, "
                            "entailment %.3f, %.1f candidates/sentence", size, command, d["top_k"], d["lexical_k"],
                            d["min_similarity"], d["contradiction_recall"], d["entailment_recall"],
                            d["candidates_per_sentence"])
                by_set = ", ".join(f"{set_name} {r['contradiction']:.3f} / {r['entailment']:.3f}"
                                   for set_name, r in d["by_set"].items())
                logger.info("    by set (contradiction / entailment): %s", by_set)
        logger.info("  %.1f sentences/s, loaded in %.2f s", run["sentences_per_second"], run["load_seconds"])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    for size in map(str, args.pools):
        plot(report, size, args.plots / f"pairing-recall-{size}.png")
    logger.info("Wrote %s and %s", args.output, ", ".join(f"pairing-recall-{s}.png" for s in args.pools))


if __name__ == "__main__":
    main()
