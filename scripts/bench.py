"""Benchmark nli-check's NLI stage against sentence-transformers' CrossEncoder, honestly.

Same model, same pairs (a fixed, seeded sample of held-out dev pairs), same machine, one run.
The contenders alternate in rounds (A B C A B C ...) so machine drift hits them all; each
contender's pairs/s is the median over rounds, with its accuracy on the labelled sample, so
speed never hides a quality loss. Also timed: ``nli-check --help``, a cold ``nli-check check``
on the demo, and embedding throughput against ``SentenceTransformer.encode`` defaults.

    python scripts/bench.py --output docs/bench-cpu.json
    python scripts/bench.py --n 300 --rounds 1 --model /path/to/model
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "nli-data"
#: Held-out dev data of the default model: (file, held-out fraction by pair hash, or None for all).
DEFAULT_DATA = (
    ("snli_dev.jsonl.gz", 0.2),
    ("lingnli_val.jsonl.gz", None),
    ("fever_nli_dev.jsonl.gz", 0.15),
)
DEMO = ["seeds/draft.txt", "-e", "seeds/sources"]

logger = logging.getLogger("bench")


# ---------------------------------------------------------------------------- helpers
def load_sample(files: list[tuple[Path, float | None]], n: int, seed: int):
    """``n`` pairs drawn evenly from ``files`` with a seeded RNG: (pairs, labels, set names)."""
    from nli_check.data import read_pairs, split_pairs

    per_file = [n // len(files) + (1 if i < n % len(files) else 0) for i in range(len(files))]
    pairs, labels, names = [], [], []
    for (path, holdout), count in zip(files, per_file, strict=True):
        data = read_pairs(path)
        if holdout:
            data = split_pairs(data, holdout, "dev")
        rng = random.Random(f"{seed}:{path.name}")
        picked = sorted(rng.sample(range(len(data)), min(count, len(data))))
        pairs += [(data.premises[i], data.hypotheses[i]) for i in picked]
        labels += [data.labels[i] for i in picked]
        names += [data.name] * len(picked)
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)  # interleave the sources, as a real batch would be
    return [pairs[i] for i in order], [labels[i] for i in order], [names[i] for i in order]


def accuracy(probs: np.ndarray, labels: list[str], names: list[str]) -> dict:
    """Accuracy per source set (scored by nli_check.evaluation), and over the whole sample."""
    from nli_check.evaluation import metrics_from_probabilities

    per_set, correct = {}, 0.0
    for name in sorted(set(names)):
        rows = [i for i, x in enumerate(names) if x == name]
        metrics = metrics_from_probabilities(probs[rows], [labels[i] for i in rows])
        per_set[name] = round(metrics["accuracy"], 4)
        correct += metrics["accuracy"] * len(rows)
    return {"accuracy": round(correct / len(labels), 4), "per_set": per_set}


def canonical_probs(logits: np.ndarray, label_index: dict) -> np.ndarray:
    """CrossEncoder logits (the model's order) as probabilities in nli-check's label order."""
    from nli_check.labels import LABELS

    cols = [
        logits[:, label_index[name]] if name in label_index else np.full(len(logits), -1e4)
        for name in LABELS
    ]
    z = np.stack(cols, axis=1)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def process_seconds(argv: list[str], runs: int, env: dict) -> list[float]:
    """Wall time of a fresh process, start to exit, ``runs`` times."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 3):
            raise SystemExit(
                f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-300:]}"
            )
    return times


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


# ---------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default=None, help="NLI model directory [default: the shipped model]"
    )
    parser.add_argument(
        "--data",
        nargs="+",
        type=Path,
        default=None,
        help="labelled pair files [default: held-out snli_dev, lingnli_val, fever_nli_dev "
        "from ../shared/nli-data]",
    )
    parser.add_argument("--n", type=int, default=5000, help="pairs in the sample")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of the alternating contenders"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda[:N]")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--cold-runs", type=int, default=3, help="fresh processes per start-up timing"
    )
    parser.add_argument("--skip-cli", action="store_true", help="skip the start-up timings")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for noisy in ("nli_check", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # no progress bars or load notices
    import transformers

    transformers.logging.disable_progress_bar()

    import torch
    from sentence_transformers import CrossEncoder, SentenceTransformer

    from nli_check.devices import resolve_device
    from nli_check.embed import Embedder
    from nli_check.models import DEFAULT_EMBEDDER, default_model_path, resolve_model_name
    from nli_check.nli import NLIModel, cpu_threads, default_mode, onnxruntime_available

    # 1. Model, device and data.
    model_dir = Path(args.model) if args.model else default_model_path()
    device = resolve_device(args.device)
    if args.data:
        files = [(path, None) for path in args.data]
    else:
        if not SHARED_DATA.is_dir():
            print(
                f"bench: {SHARED_DATA} is absent: the dev pairs live in ../shared/nli-data; "
                "pass --data FILE... with labelled pair files",
                file=sys.stderr,
            )
            return 1
        files = [(SHARED_DATA / name, holdout) for name, holdout in DEFAULT_DATA]
    pairs, labels, names = load_sample(files, args.n, args.seed)
    logger.info("Sample: %d pairs from %s", len(pairs), ", ".join(sorted(set(names))))

    # 2. The contenders, each loaded once (load time recorded) and warmed up.
    cuda = device.type == "cuda"
    modes = [("torch", None)] if cuda else [("torch", None), ("torch", "int8")]
    if not cuda and onnxruntime_available():
        modes += [("onnx", None), ("onnx", "int8")]
    contenders: dict[str, dict] = {}
    load_s, baseline = timed(
        lambda: CrossEncoder(
            str(model_dir), device=str(device), local_files_only=True,
            model_kwargs={"dtype": torch.float32},  # weights saved as fp16: fp16 on a CPU is slow
        )
    )
    first = NLIModel(model_dir, device=str(device))
    baseline.max_length = first.max_length  # the same truncation length for both
    label_index = first.label_index
    contenders["CrossEncoder.predict (baseline)"] = {
        "run": lambda: canonical_probs(
            baseline.predict(pairs, batch_size=32, show_progress_bar=False), label_index
        ),
        "load_seconds": load_s,
        "mode": "sentence-transformers, batch_size=32",
    }
    for backend, quantize in modes:
        load_s, model = timed(
            lambda b=backend, q=quantize: NLIModel(
                model_dir, device=str(device), backend=b, quantize=q
            )
        )
        label = f"nli-check {backend} {quantize or ('bf16' if cuda else 'fp32')}"
        # On a GPU, larger token-budget batches keep it busy; on the CPU the defaults.
        kwargs = {"batch_size": 256, "max_tokens": 32768} if cuda else {}
        contenders[label] = {
            "run": lambda m=model, k=kwargs: m.predict_proba(pairs, **k),
            "load_seconds": load_s,
            "mode": f"backend={backend} quantize={quantize or 'none'}",
            "model": model,
        }
    for entry in contenders.values():
        warm = pairs[:64]
        if "model" in entry:
            entry["model"].predict_proba(warm)
        else:
            baseline.predict(warm, batch_size=32, show_progress_bar=False)

    # 3. Rounds: A B C ... A B C ..., every contender on all pairs each round.
    for round_index in range(args.rounds):
        for name, entry in contenders.items():
            seconds, probs = timed(entry["run"])
            entry.setdefault("seconds", []).append(seconds)
            entry["probs"] = probs
            logger.info(
                "round %d  %-34s %8.1f pairs/s", round_index + 1, name, len(pairs) / seconds
            )

    # 4. Speed and accuracy per contender.
    results, reference = {}, None
    for name, entry in contenders.items():
        median = statistics.median(entry["seconds"])
        acc = accuracy(entry["probs"], labels, names)
        if reference is None and "model" in entry:
            reference = entry["probs"]
        results[name] = {
            "mode": entry["mode"],
            "pairs_per_second": len(pairs) / median,
            "seconds": entry["seconds"],
            "load_seconds": entry["load_seconds"],
            **acc,
        }
    base = results["CrossEncoder.predict (baseline)"]
    fp32 = next(r for n, r in results.items() if n.startswith("nli-check torch"))
    for name, entry in contenders.items():
        r = results[name]
        r["speedup"] = r["pairs_per_second"] / base["pairs_per_second"]
        r["accuracy_delta_points"] = round(100 * (r["accuracy"] - fp32["accuracy"]), 2)
        r["argmax_agreement_with_fp32"] = float(
            (entry["probs"].argmax(1) == reference.argmax(1)).mean()
        )

    # The fastest nli-check mode whose accuracy is within 0.5 points of fp32: the default to use.
    keeps = [
        n
        for n, r in results.items()
        if "model" in contenders[n] and abs(r["accuracy_delta_points"]) <= 0.5
    ]
    recommended = max(keeps, key=lambda n: results[n]["pairs_per_second"])
    best = contenders[recommended]["model"]
    recommended_mode = {
        "contender": recommended,
        "backend": best.backend,
        "quantize": best.quantize or "none",
    }

    # 5. Threads: the fastest nli-check mode at 1 thread and at the default count (CPU only).
    threads = {}
    if not cuda:
        fastest = max(
            (n for n in results if n.startswith("nli-check")),
            key=lambda n: results[n]["pairs_per_second"],
        )
        subset = pairs[: min(len(pairs), 1000)]
        default_threads = cpu_threads()
        for count in sorted({1, default_threads, os.cpu_count() or default_threads}):
            torch.set_num_threads(count)
            model = contenders[fastest]["model"]
            if model.backend == "onnx":
                model = NLIModel(model_dir, device="cpu", backend="onnx", quantize=model.quantize)
            seconds, _ = timed(lambda m=model: m.predict_proba(subset))
            threads[str(count)] = len(subset) / seconds
        torch.set_num_threads(default_threads)
        threads = {"mode": fastest, "pairs": len(subset), "pairs_per_second_by_threads": threads}

    # 5b. Batches: the fastest mode at several token budgets a batch (the CPU default is
    #     nli_check.nli.CPU_TOKEN_BUDGET); and how much int8 scores depend on the batch-mates.
    budgets, batch_dependence = {}, {}
    if not cuda:
        model = contenders[fastest]["model"]
        for budget in (512, 1024, 2048, 4096, 8192):
            seconds, _ = timed(lambda b=budget: model.predict_proba(subset, batch_size=256, max_tokens=b))
            budgets[str(budget)] = len(subset) / seconds
        budgets = {"mode": fastest, "pairs": len(subset), "pairs_per_second_by_max_tokens": budgets}
        for name, entry in contenders.items():
            m = entry.get("model")
            if m is None or m.quantize != "int8":
                continue
            few = pairs[: min(len(pairs), 300)]
            alone, batched = m.predict_proba(few, batch_size=1), m.predict_proba(few)
            flipped = alone.argmax(1) != batched.argmax(1)
            batch_dependence[name] = {
                "pairs": len(few),
                "mean_abs_diff": float(np.abs(alone - batched).mean()),
                "max_abs_diff": float(np.abs(alone - batched).max()),
                "labels_changed": int(flipped.sum()),
                "max_confidence_of_changed": float(batched[flipped].max(1).max()) if flipped.any() else None,
            }

    # 6. Embedding throughput: nli-check's Embedder (each backend) against
    #    SentenceTransformer.encode defaults, alternating, on the sample's distinct sentences.
    sentences = list(dict.fromkeys(s for pair in pairs for s in pair))[:2000]
    # The default embedder's folder, its fp16 weights in fp32 as nli-check's Embedder runs them.
    st = SentenceTransformer(resolve_model_name(DEFAULT_EMBEDDER), device=str(device), local_files_only=True,
                             model_kwargs={"dtype": torch.float32})
    encoders = {"SentenceTransformer.encode": lambda: st.encode(sentences)}
    embed_backends = ["torch"] + (["onnx"] if not cuda and onnxruntime_available() else [])
    embedders = {b: Embedder(device=str(device), backend=b) for b in embed_backends}
    for b, e in embedders.items():
        encoders[f"Embedder ({b})"] = lambda e=e: e.embed(sentences)
    reference_vectors = st.encode(sentences[:64], normalize_embeddings=True)
    embed_drift = {}
    for e in embedders.values():  # warm up, and check the vectors are sentence-transformers'
        vectors = e.embed(sentences[:64])
        drift = float(np.abs(vectors - reference_vectors).max())
        cosine = float((vectors * reference_vectors).sum(1).min())
        embed_drift[e.backend] = {"max_abs_diff": drift, "min_cosine": cosine}
        # fp32 on the CPU matches to rounding; bf16 autocast on a GPU to about three digits.
        if (drift > 1e-4) if not cuda else (cosine < 0.999):
            raise SystemExit(f"bench: Embedder({e.backend}) differs from SentenceTransformer by {drift}")
    rates: dict[str, list[float]] = {k: [] for k in encoders}
    for _ in range(max(1, args.rounds)):
        for key, fn in encoders.items():
            rates[key].append(len(sentences) / timed(fn)[0])
    embed = {
        "sentences": len(sentences),
        "sentences_per_second": {k: statistics.median(v) for k, v in rates.items()},
        "default_backend": Embedder(device=str(device)).backend,
        "vs_sentence_transformers": embed_drift,
    }

    # 7. Report: written now, and again once the start-up timings are in.
    auto_backend, auto_quantize = default_mode(device)
    report = {
        "command": " ".join(["python", "scripts/bench.py", *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": cpu_threads(),
            "device": str(device),
            "gpu": torch.cuda.get_device_name(device) if cuda else None,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "onnxruntime": _version("onnxruntime"),
            "transformers": _version("transformers"),
            "sentence_transformers": _version("sentence_transformers"),
        },
        "model": str(model_dir),
        "max_length": first.max_length,
        "sample": {
            "pairs": len(pairs),
            "seed": args.seed,
            "rounds": args.rounds,
            "files": [{"path": str(p), "held_out_fraction": h} for p, h in files],
            "sets": {name: names.count(name) for name in sorted(set(names))},
        },
        "default_mode": {"backend": auto_backend, "quantize": auto_quantize or "none"},
        "recommended_mode": recommended_mode,
        "contenders": results,
        "threads": threads,
        "token_budgets": budgets,
        "int8_batch_dependence": batch_dependence,
        "embedding": embed,
        "startup": None,  # filled in below; a run cut short during start-up timings keeps the rest
    }
    _write(args.output, report)

    # 8. Start-up: `nli-check --help` and a cold `nli-check check` on the demo, fresh processes.
    startup = {}
    if not args.skip_cli:
        script = Path(sys.executable).parent / "nli-check"  # the installed entry point
        exe = [str(script)] if script.exists() else [sys.executable, "-m", "nli_check"]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        model_args = ["--model", str(model_dir)] if args.model else []
        startup["help_seconds"] = statistics.median(process_seconds([*exe, "--help"], 5, env))
        runs = {
            "default": [],
            f"{recommended_mode['backend']} {recommended_mode['quantize']}": [
                "--backend",
                recommended_mode["backend"],
                "--quantize",
                recommended_mode["quantize"],
            ],
            "torch none": ["--backend", "torch", "--quantize", "none"],
        }
        for extra in runs.values():  # once untimed, so an ONNX export is cached before timing
            subprocess.run(
                [*exe, "-q", "check", *DEMO, "--device", str(device), *model_args, *extra],
                cwd=REPO,
                env=env,
                capture_output=True,
            )
        for label, extra in runs.items():
            argv = [*exe, "-q", "check", *DEMO, "--device", str(device), *model_args, *extra]
            startup[f"check_demo_seconds ({label})"] = statistics.median(
                process_seconds(argv, args.cold_runs, env)
            )

    report["startup"] = startup
    _write(args.output, report)
    rows = [
        [
            name,
            r["mode"],
            f"{r['pairs_per_second']:.1f}",
            f"{r['speedup']:.2f}x",
            f"{100 * r['accuracy']:.2f}",
            f"{r['accuracy_delta_points']:+.2f}",
        ]
        for name, r in results.items()
    ]
    print(
        f"NLI on {device} ({report['machine']['processor']}, {os.cpu_count()} CPUs, "
        f"{cpu_threads()} threads): {len(pairs)} pairs, median of {args.rounds} round(s), "
        f"model {model_dir.name}"
    )
    print(
        table(
            rows, ["contender", "mode", "pairs/s", "vs baseline", "accuracy %", "Δ vs fp32 (pts)"]
        )
    )
    if threads:
        print(
            f"\nthreads ({threads['mode']}, {threads['pairs']} pairs): "
            + ", ".join(
                f"{k}: {v:.1f} pairs/s" for k, v in threads["pairs_per_second_by_threads"].items()
            )
        )
    if budgets:
        print(
            f"token budget a batch ({budgets['mode']}, {budgets['pairs']} pairs): "
            + ", ".join(f"{k}: {v:.1f} pairs/s" for k, v in budgets["pairs_per_second_by_max_tokens"].items())
        )
    for name, d in batch_dependence.items():
        print(
            f"{name}, batched vs one pair at a time ({d['pairs']} pairs): mean |Δp| {d['mean_abs_diff']:.3f}, "
            f"max {d['max_abs_diff']:.3f}, {d['labels_changed']} label(s) changed"
            + (f", none above confidence {d['max_confidence_of_changed']:.2f}" if d["labels_changed"] else "")
        )
    print(
        f"\nembedding, sentences/s over {embed['sentences']} sentences "
        f"(Embedder's default backend: {embed['default_backend']}): "
        + ", ".join(f"{k} {v:.1f}" for k, v in embed["sentences_per_second"].items())
    )
    for key, value in startup.items():
        print(f"{key}: {value:.2f} s")
    print(
        f"default mode on {device.type}: backend={auto_backend} "
        f"quantize={auto_quantize or 'none'}; "
        f"fastest within 0.5 accuracy points of fp32: {recommended}"
    )
    if args.output:
        logger.info("Wrote %s", args.output)
    return 0


def _write(path: Path | None, report: dict) -> None:
    """Write the report as it stands (atomically), so a run stopped part-way keeps what it measured."""
    from nli_check.cli._common import write_atomic

    if path is not None:
        write_atomic(path, json.dumps(report, indent=2) + "\n")


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


if __name__ == "__main__":
    sys.exit(main())
