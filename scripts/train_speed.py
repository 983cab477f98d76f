"""Training speed: pairs/s by sequence length, round-1 batching against a recipe's, in one run.

Steps:
1. Read and encode a recipe's training mix (as ``nli-check train`` does) and report its size,
   pairs per epoch and token lengths.
2. Build batches two ways from the same pairs: round 1 (32 pairs a batch, sorted by length inside
   chunks of 2,048) and the recipe's (``batch_size``/``batch_tokens``, bigger sorted chunks), and
   report the padding share of each.
3. Time real training steps (forward, backward, AdamW) of each setup, interleaved round by round
   so that a busy machine slows both alike; report pairs/s overall and by padded length, and the
   ratio. ``--freeze-layers`` adds a third setup: the recipe's batches with that many layers fixed.

``--fixed`` instead times steps of fixed shapes (all pairs L tokens long, L = 32, 64, 96, 128),
alternating the two setups step by step: round 1 (32 pairs a step, word embeddings frozen) and the
recipe (``min(batch_size, batch_tokens // L)`` pairs a step, ``freeze_layers`` frozen too), and
weighs the pairs/s by length with the recipe's length distribution (it reads the prepared data
of a run folder given with ``--prepared``, or skips that part).

Usage:
    python scripts/train_speed.py --config models/nli-minilm-l6-round2.toml --seconds 60 --rounds 4 \
        --json runs/train_speed.json
    python scripts/train_speed.py --config models/nli-minilm-l6-round2.toml --fixed --rounds 3 \
        --prepared runs/nli-round2 --json runs/train_speed_fixed.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np


def round1_batches(lengths: np.ndarray, indices: np.ndarray, seed: int) -> list[np.ndarray]:
    """The round-1 loop's batching: 32 pairs, sorted by length inside chunks of 32 x 64."""
    rng = np.random.default_rng(seed * 1000)
    order = indices[rng.permutation(len(indices))]
    batches = []
    for start in range(0, len(order), 32 * 64):
        part = order[start : start + 32 * 64]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i : i + 32] for i in range(0, len(part), 32))
    rng.shuffle(batches)
    return batches


def padding_share(batches: list[np.ndarray], lengths: np.ndarray) -> float:
    real = sum(int(lengths[b].sum()) for b in batches)
    padded = sum(int(lengths[b].max()) * len(b) for b in batches)
    return 1 - real / padded


class Setup:
    """One way of training: a model with its optimiser, and the batches it takes in turn."""

    def __init__(self, name: str, config, batches: list[np.ndarray]) -> None:
        from nli_check.training import Speed, build_model, build_optimizer

        self.name, self.config, self.batches = name, config, batches
        self.tokenizer, self.model, _, _ = build_model(config, None)
        self.model.train()
        self.optimizer, self.scheduler = build_optimizer(self.model, config, 10**6)
        self.speed = Speed()
        self.next = 0

    def run(self, encoded, seconds: float) -> None:
        import torch

        from nli_check.training import make_batch, train_step

        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            idx = self.batches[self.next % len(self.batches)]
            self.next += 1
            began = time.perf_counter()
            inputs, labels = make_batch(encoded, idx, self.tokenizer.pad_token_id or 0, torch.device("cpu"))
            train_step(self.model, self.optimizer, self.scheduler, inputs, labels, 1.0)
            self.speed.add(int(inputs["input_ids"].shape[1]), len(idx), int(encoded.lengths[idx].sum()),
                           time.perf_counter() - began)


def fixed_shapes(config, rounds: int, lengths_of_epoch: np.ndarray | None) -> dict:
    """Pairs/s of round-1 and recipe steps on batches of fixed length, alternated step by step."""
    import dataclasses

    import torch

    from nli_check.training import build_model, build_optimizer, train_step

    setups = {"round1": dataclasses.replace(config, freeze_layers=0, learning_rate=1e-6),
              "recipe": dataclasses.replace(config, learning_rate=1e-6)}
    built = {}
    for name, cfg in setups.items():
        _, model, _, _ = build_model(cfg, None)
        model.train()
        built[name] = (model, *build_optimizer(model, cfg, 10**6))
    out: dict = {}
    for length in (32, 64, 96, 128):
        sizes = {"round1": 32, "recipe": max(1, min(config.batch_size, (config.batch_tokens or 10**9) // length))}
        seconds = {name: 0.0 for name in setups}
        pairs = {name: 0 for name in setups}
        for step in range(rounds + 1):
            for name in setups:
                n = sizes[name]
                inputs = {"input_ids": torch.randint(1000, 20000, (n, length)),
                          "attention_mask": torch.ones(n, length, dtype=torch.long)}
                labels = torch.randint(0, 3, (n,))
                began = time.perf_counter()
                train_step(*built[name], inputs, labels, 1.0)
                if step:  # the first step of each shape warms up
                    seconds[name] += time.perf_counter() - began
                    pairs[name] += n
        out[length] = {name: {"pairs_per_step": sizes[name], "pairs_per_second": pairs[name] / seconds[name]}
                       for name in setups}
        out[length]["ratio"] = out[length]["recipe"]["pairs_per_second"] / out[length]["round1"]["pairs_per_second"]
        print(f"length {length}: " + "  ".join(f"{name} {out[length][name]['pairs_per_second']:.1f} pairs/s"
                                              for name in setups) + f"  ratio {out[length]['ratio']:.2f}", flush=True)
    report = {"by_length": out}
    if lengths_of_epoch is not None:
        # Each pair costs about what a pair of the next measured length costs.
        buckets = np.minimum(np.ceil(lengths_of_epoch / 32).astype(int) * 32, 128)
        buckets = np.maximum(buckets, 32)
        for name in setups:
            seconds = sum((buckets == L).sum() / out[L][name]["pairs_per_second"] for L in (32, 64, 96, 128))
            report[f"{name}_pairs_per_second_on_the_mix"] = len(buckets) / seconds
        report["ratio_on_the_mix"] = report["recipe_pairs_per_second_on_the_mix"] / report[
            "round1_pairs_per_second_on_the_mix"]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seconds", type=float, default=60, help="Seconds per setup per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--freeze-layers", type=int, default=0, help="Also time the recipe with N layers fixed.")
    parser.add_argument("--json", default=None, help="Write the measurements here.")
    parser.add_argument("--fixed", action="store_true", help="Time fixed-shape steps (see above).")
    parser.add_argument("--prepared", default=None, help="A run folder whose prepared data gives the lengths.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.fixed:
        from nli_check.train_data import epoch_sample
        from nli_check.training import PREPARED_DIR, TrainConfig

        config = TrainConfig.from_file(args.config)
        lengths = None
        if args.prepared:
            with np.load(Path(args.prepared) / PREPARED_DIR / "encoded.npz") as arrays:
                sources, lengths = arrays["source_ids"], arrays["lengths"]
            meta = json.loads((Path(args.prepared) / PREPARED_DIR / "prepared.json").read_text())
            lengths = lengths[epoch_sample(sources, [s["weight"] for s in meta["sources"]], config.seed, 0)]
        report = fixed_shapes(config, args.rounds, lengths)
        print(json.dumps(report, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return

    import dataclasses

    import torch

    from nli_check.labels import LABELS
    from nli_check.training import TrainConfig, encode, epoch_sample, length_grouped_batches, prepare_data

    # 1. the mix
    config = TrainConfig.from_file(args.config)
    if args.data_dir:
        config.data_dir = args.data_dir
    from transformers import AutoTokenizer

    from nli_check.models import resolve_model_name

    tokenizer = AutoTokenizer.from_pretrained(resolve_model_name(config.base_model))
    label_index = {name: i for i, name in enumerate(LABELS)}
    began = time.time()
    data = prepare_data(config, set(LABELS), tokenizer)
    encoded = encode(tokenizer, data, label_index, config.max_length, windowed=config.long_pairs == "window")
    sample = epoch_sample(encoded.source_ids, data.weights, config.seed, 0)
    lengths = encoded.lengths
    report: dict = {
        "config": args.config, "threads": torch.get_num_threads(), "prepare_seconds": round(time.time() - began),
        "train_pairs": len(data.labels), "pairs_per_epoch": int(len(sample)), "windowed": data.windowed,
        "tokens_per_pair": {"mean_all": float(lengths.mean()), "mean_epoch": float(lengths[sample].mean()),
                            "p50": int(np.percentile(lengths[sample], 50)),
                            "p90": int(np.percentile(lengths[sample], 90)),
                            "share_at_max_length": float((lengths[sample] >= config.max_length).mean())},
    }
    print(json.dumps(report, indent=2), flush=True)

    # 2. batches
    old_batches = round1_batches(lengths, sample, config.seed)
    new_batches = length_grouped_batches(sample, lengths, config.batch_size, config.batch_tokens, config.seed, 0)
    report["padding_share"] = {"round1": padding_share(old_batches, lengths),
                               "recipe": padding_share(new_batches, lengths)}
    report["batches_per_epoch"] = {"round1": len(old_batches), "recipe": len(new_batches)}

    # 3. timed steps, interleaved
    old_config = dataclasses.replace(config, batch_size=32, batch_tokens=None, freeze_layers=0, learning_rate=1e-5)
    setups = [Setup("round1", old_config, old_batches),
              Setup("recipe", dataclasses.replace(config, learning_rate=1e-5), new_batches)]
    if args.freeze_layers:
        frozen = dataclasses.replace(config, freeze_layers=args.freeze_layers, learning_rate=1e-5)
        setups.append(Setup(f"recipe+freeze{args.freeze_layers}", frozen, new_batches))
    for r in range(args.rounds):
        for setup in setups:
            setup.run(encoded, args.seconds)
        print(f"round {r + 1}: " + "  ".join(f"{s.name} {s.speed.report()['pairs_per_second']:.1f} pairs/s"
                                            for s in setups), flush=True)
    report["speed"] = {s.name: s.speed.report() for s in setups}
    base = report["speed"]["round1"]["pairs_per_second"]
    report["ratio_to_round1"] = {s.name: report["speed"][s.name]["pairs_per_second"] / base for s in setups}
    print(json.dumps({k: report[k] for k in ("padding_share", "batches_per_epoch", "speed", "ratio_to_round1")},
                     indent=2))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
