"""Benchmark the findings a fact-checker reads: precision and recall of reported contradictions.

Part 1, ``check``: each case in ``data/cases/<split>/`` is a draft, its sources, and gold sentence
pairs labelled contradiction or not, tagged by phenomenon. The draft is checked against its
sources with ``nli_check.check`` at the given settings (the shipped defaults unless told), and
every reported contradiction is scored: it is right when it matches a gold contradiction, and
wrong otherwise (every real contradiction of a case is in its gold list). Gives precision,
recall and F1 overall, recall per contradiction tag, the share of look-alike pairs reported per
look-alike tag, and precision/recall at a sweep of thresholds.

Part 2, ``scan`` (``--scan``): a synthetic archive from ``scripts/make_archive.py`` with
look-alike articles (same templates, other events), scanned at scan's defaults; false conflicts
per 1,000 sentences and recall of the planted conflicts. The dev and test splits scan archives of
different seeds (:data:`SCAN_SEEDS`).

    python scripts/bench_findings.py --split dev
    python scripts/bench_findings.py --split test --scan --output docs/bench-findings-test.json

``--split train --ids PATTERN`` scores training cases instead: only those a model was not
trained on mean anything (the shipped model's second stage saw ``ra``–``rh``, not ``ri``–``rp``).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTRADICTION_TAGS = ("dispute", "numbers", "dates", "opposites", "negation")
LOOKALIKE_TAGS = ("different-event", "paraphrase-numbers", "paraphrase", "hedge", "agreeing-speakers")
#: The synthetic archive's seed per split: rules are tuned on the dev archive, reported on the test one.
SCAN_SEEDS = {"dev": 13, "test": 31}
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def load_cases(split: str, ids: str | None = None) -> list[dict]:
    from nli_check.cases import load_cases as load
    from nli_check.errors import NLICheckError

    try:
        return load(REPO / "data" / "cases" / split, ids)
    except NLICheckError as exc:
        raise SystemExit(str(exc)) from None


def _matches(gold_text: str, sentence: str) -> bool:
    gold, text = _norm(gold_text), _norm(sentence)
    return gold in text or text in gold


def gold_pair(case: dict, claim: str, evidence: str) -> dict | None:
    """The gold entry for a reported (claim, evidence) pair, in either order, or None."""
    for entry in case.get("gold") or []:
        if (_matches(entry["claim"], claim) and _matches(entry["evidence"], evidence)) or (
            _matches(entry["claim"], evidence) and _matches(entry["evidence"], claim)
        ):
            return entry
    return None


def run_case(case: dict, settings: dict, model, embedder) -> list[dict]:
    """Every classified pair of the case (show all, threshold 0), as plain rows."""
    from nli_check import check
    from nli_check.types import Document

    draft = Document(name="draft.txt", text=case["draft"])
    sources = [Document(name=name, text=text) for name, text in case["sources"].items()]
    result = check([draft], evidence=sources, model=model, embedder=embedder, show="all", threshold=0.0,
                   **settings)
    return [
        {
            "label": f.label,
            "confidence": f.confidence,
            "claim": f.claim.text,
            "evidence": f.evidence.text,
            "reason": getattr(f, "reason", None),
        }
        for f in result.findings
    ]


def score(cases: list[dict], rows_by_case: list[list[dict]], threshold: float) -> dict:
    """Precision, recall and F1 of the contradictions reported at ``threshold``, with per-tag figures."""
    tp = fp = 0
    found = Counter()
    real = Counter()
    lookalike_reported = Counter()
    lookalikes = Counter()
    false_reports = []
    missed = []
    for case, rows in zip(cases, rows_by_case):
        hit: set[int] = set()
        for row in rows:
            if row["label"] != "contradiction" or row["confidence"] < threshold:
                continue
            entry = gold_pair(case, row["claim"], row["evidence"])
            if entry is not None and entry["label"] == "contradiction":
                key = id(entry)
                if key not in hit:
                    hit.add(key)
                    tp += 1
                continue
            fp += 1
            if entry is not None:
                lookalike_reported[entry["tag"]] += 1
            false_reports.append({"case": case["id"], "tag": entry["tag"] if entry else None, **row})
        for entry in case.get("gold") or []:
            if entry["label"] == "contradiction":
                real[entry["tag"]] += 1
                if id(entry) in hit:
                    found[entry["tag"]] += 1
                else:
                    missed.append({"case": case["id"], "tag": entry["tag"], "claim": entry["claim"],
                                   "evidence": entry["evidence"]})
            else:
                lookalikes[entry["tag"]] += 1
    n_real = sum(real.values())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / n_real if n_real else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    numbers_dates = sum(found[t] for t in ("numbers", "dates")), sum(real[t] for t in ("numbers", "dates"))
    n_lookalike = sum(lookalikes.values())
    return {
        "threshold": threshold,
        "reported": tp + fp,
        "true_positives": tp,
        "false_positives": fp,
        "real_contradictions": n_real,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "numbers_dates_recall": round(numbers_dates[0] / numbers_dates[1], 4) if numbers_dates[1] else None,
        "lookalikes_reported": round(sum(lookalike_reported.values()) / n_lookalike, 4) if n_lookalike else None,
        "recall_by_tag": {t: f"{found[t]}/{real[t]}" for t in CONTRADICTION_TAGS if real[t]},
        "lookalikes_reported_by_tag": {t: f"{lookalike_reported[t]}/{lookalikes[t]}" for t in LOOKALIKE_TAGS
                                       if lookalikes[t]},
        "false_reports": false_reports,
        "missed": missed,
    }


def scan_bench(workdir: Path, sentences: int, seed: int, extra: list[str]) -> dict:
    """False conflicts per 1,000 sentences and recall of planted conflicts for ``nli-check scan``."""
    archive, truth_path, out = workdir / "archive.jsonl", workdir / "truth.jsonl", workdir / "scan"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_archive.py"), "--sentences", str(sentences), "--output",
         str(archive), "--truth", str(truth_path), "--seed", str(seed), "--lookalikes", "0.5"],
        check=True, stdout=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nli_check", "scan", str(archive), "-o", str(out), "--output-format", "jsonl",
                    *extra], check=True)
    wall = time.perf_counter() - started
    truth = [json.loads(line) for line in truth_path.read_text().splitlines() if line.strip()]
    planted = {frozenset((_norm(t["a_text"]), _norm(t["b_text"]))) for t in truth}
    reported = set()
    for shard in sorted((out / "conflicts").glob("*.jsonl")):
        for line in shard.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                reported.add(frozenset((_norm(row["a_text"]), _norm(row["b_text"]))))
    summary = json.loads((out / "summary.json").read_text())
    n_sentences = _find(summary, "sentences") or sentences
    false = len(reported - planted)
    return {
        "seed": seed,
        "sentences": n_sentences,
        "planted_conflicts": len(planted),
        "planted_found": len(planted & reported),
        "planted_recall": round(len(planted & reported) / len(planted), 4) if planted else None,
        "reported_conflicts": len(reported),
        "false_conflicts": false,
        "false_per_1000_sentences": round(1000 * false / n_sentences, 3),
        "wall_seconds": round(wall, 1),
    }


def _shown(name: str) -> str:
    """A model's name as the report shows it: relative to the repository when it lies inside it."""
    try:
        return str(Path(name).resolve().relative_to(REPO))
    except ValueError:
        return name


def _find(tree, key: str):
    """The first value under ``key`` anywhere in a nested JSON object."""
    if isinstance(tree, dict):
        if isinstance(tree.get(key), int):
            return tree[key]
        for value in tree.values():
            found = _find(value, key)
            if found is not None:
                return found
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", choices=["dev", "test", "train"])
    parser.add_argument("--ids", default=None,
                        help="only the cases whose id matches this pattern, e.g. 'r[i-p]*' (train cases a model "
                             "was not trained on)")
    parser.add_argument("--threshold", type=float, default=None, help="default: check's default threshold")
    parser.add_argument("--model", default=None, help="NLI model (default: the shipped model)")
    parser.add_argument("--embedder", default=None, help="embedding model (default: check's default)")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--quantize", default="auto")
    parser.add_argument("--top-k", type=int, default=None)
    parser.add_argument("--lexical-k", type=int, default=None)
    parser.add_argument("--min-similarity", type=float, default=None)
    parser.add_argument("--scan", action="store_true", help="also benchmark scan on a synthetic archive")
    parser.add_argument("--scan-sentences", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the synthetic archive; default: 13 with --split dev, 31 with --split test, "
                             "so that the test figures come from an archive the rules were not tuned on")
    parser.add_argument("--show-errors", action="store_true", help="list false and missed contradictions")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    import inspect

    from nli_check import check
    from nli_check.pipeline import _load_embedder, _load_model

    # Step 1: the settings check runs with (its own defaults unless given here).
    defaults = {k: p.default for k, p in inspect.signature(check).parameters.items()
                if p.default is not inspect.Parameter.empty}
    threshold = defaults["threshold"] if args.threshold is None else args.threshold
    settings = {"backend": args.backend, "quantize": args.quantize}
    if args.top_k is not None:
        settings["top_k"] = args.top_k
    if args.min_similarity is not None:
        settings["min_similarity"] = args.min_similarity
    if args.lexical_k is not None:
        settings["lexical_k"] = args.lexical_k
    model = _load_model(args.model, "cpu", args.backend, args.quantize)
    embedder = _load_embedder(args.embedder, "cpu", 64, args.backend)

    # Step 2: every case, every classified pair.
    cases = load_cases(args.split, args.ids)
    started = time.perf_counter()
    rows = [run_case(case, settings, model, embedder) for case in cases]
    seconds = time.perf_counter() - started

    # Step 3: scores at the threshold, and a sweep.
    result = score(cases, rows, threshold)
    sweep = [{k: v for k, v in score(cases, rows, t).items() if k in
              ("threshold", "precision", "recall", "f1", "lookalikes_reported", "numbers_dates_recall")}
             for t in SWEEP]
    report = {
        "split": args.split,
        **({"ids": args.ids} if args.ids else {}),
        "cases": len(cases),
        "settings": {**{k: v for k, v in defaults.items() if k in ("top_k", "lexical_k", "min_similarity")}, **settings,
                     "threshold": threshold, "model": _shown(model.name), "embedder": _shown(embedder.name)},
        "seconds": round(seconds, 1),
        **{k: v for k, v in result.items() if k not in ("false_reports", "missed")},
        "sweep": sweep,
    }
    if args.scan:
        with tempfile.TemporaryDirectory() as tmp:
            chosen = [*(["--model", args.model] if args.model else []),
                      *(["--embedder", args.embedder] if args.embedder else [])]
            seed = args.seed if args.seed is not None else SCAN_SEEDS.get(args.split, SCAN_SEEDS["dev"])
            report["scan"] = scan_bench(Path(tmp), args.scan_sentences, seed,
                                        ["--backend", args.backend, "--quantize", args.quantize, *chosen])

    # Step 4: report.
    if args.show_errors:
        for row in result["false_reports"]:
            print(f"FALSE [{row['case']}:{row['tag']}] {row['confidence']:.2f} {row['reason'] or ''}\n"
                  f"   {row['claim']}\n   {row['evidence']}", file=sys.stderr)
        for row in result["missed"]:
            print(f"MISSED [{row['case']}:{row['tag']}]\n   {row['claim']}\n   {row['evidence']}", file=sys.stderr)
    report["false_reports"] = result["false_reports"]
    report["missed"] = result["missed"]
    text = json.dumps(report, indent=2)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n", encoding="utf-8")
    summary = {k: v for k, v in report.items() if k not in ("false_reports", "missed", "sweep")}
    print(json.dumps(summary, indent=2))
    for row in sweep:
        print(f"threshold {row['threshold']:.2f}: P {row['precision']:.2f} R {row['recall']:.2f} "
              f"F1 {row['f1']:.2f} look-alikes {row['lookalikes_reported']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
