"""``nli-check train``: fine-tune an NLI model on labelled pairs."""

from __future__ import annotations

import json
import logging

import click

from nli_check.cli._common import show_progress, user_errors, validate_device

logger = logging.getLogger(__name__)


@click.command("train")
@click.argument("train_files", nargs=-1, metavar="[TRAIN_FILE]...")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML, YAML or JSON training config (TrainConfig fields; see models/*.toml).")
@click.option("--dev", "dev_files", multiple=True, metavar="FILE",
              help="Dev file evaluated every epoch; the best model is kept (repeatable).")
@click.option("--base-model", default=None, metavar="DIR|HUB_ID",
              help="Encoder to fine-tune (new 3-label head) or an NLI model (labels kept). "
                   "[default: all-MiniLM-L6-v2]")
@click.option("-o", "--output", default=None, metavar="DIR", help="Where the model is saved.")
@click.option("--data-dir", default=None, metavar="DIR",
              help="Directory that relative data paths are read from.")
@click.option("--epochs", type=click.IntRange(min=1), default=None)
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=None)
@click.option("--batch-size", type=click.IntRange(min=1), default=None)
@click.option("--max-length", type=click.IntRange(16, 512), default=None)
@click.option("--seed", type=int, default=None)
@click.option("--device", default=None, metavar="auto|cpu|cuda[:N]", callback=validate_device,
              help="[default: auto]")
@click.option("--premise-col", default=None, help="Premise (evidence) column name.")
@click.option("--hypothesis-col", default=None, help="Hypothesis (claim) column name.")
@click.option("--label-col", default=None, help="Label column name.")
@click.option("--label-map", default=None, metavar="0=entailment,1=neutral,...",
              help="Meaning of numeric or unusual labels.")
@click.option("--strict", is_flag=True, default=None, help="Refuse rows with empty text instead of skipping them.")
@click.option("--swap-contradictions/--no-swap-contradictions", "symmetric", default=None,
              help="Also train on each contradiction with premise and hypothesis swapped.")
@click.option("--set", "overrides", multiple=True, metavar="FIELD=VALUE",
              help="Override any config field, e.g. --set warmup_ratio=0.1 --set train.0.limit=500.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint.")
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True), default=None, metavar="N",
              help="End this leg after N minutes with a dev evaluation and a checkpoint; continue with --resume.")
def train(train_files, config_path, dev_files, base_model, output, data_dir, epochs, learning_rate,
          batch_size, max_length, seed, device, premise_col, hypothesis_col, label_col, label_map,
          strict, symmetric, overrides, resume, max_minutes) -> None:
    """Fine-tune an NLI model on labelled premise/hypothesis pairs.

    Data files are JSONL, CSV, TSV or Parquet (optionally gzipped) or a saved
    `datasets` directory. The saved model is a standard Hugging Face model
    directory, with the resolved config (train_config.json) and a record of the
    data (rows, SHA-256) and the dev metrics (training_record.json) beside it.

    A long run goes in legs: --max-minutes ends a leg with a dev evaluation
    and a checkpoint (one is also written every checkpoint_minutes), and the
    same command with --resume continues exactly where it stopped, also after
    the process was killed. The record lists every leg.

    \b
    Examples:
        nli-check train claims.csv --dev claims-dev.csv -o my-model
        nli-check train --config models/nli-minilm-l6.toml --data-dir ../shared/nli-data
        nli-check train --config models/nli-minilm-l6-round2.toml -o runs/nli-round2 --max-minutes 150
        nli-check train --config models/nli-minilm-l6-round2.toml -o runs/nli-round2 --max-minutes 150 --resume
    """
    with user_errors():
        from nli_check.training import TrainConfig, apply_overrides, load_config_file

        data = load_config_file(config_path) if config_path else {}
        flags = {
            "base_model": base_model, "output_dir": output, "data_dir": data_dir, "epochs": epochs,
            "learning_rate": learning_rate, "batch_size": batch_size, "max_length": max_length,
            "seed": seed, "device": device, "premise_col": premise_col, "hypothesis_col": hypothesis_col,
            "label_col": label_col, "label_map": label_map, "strict": strict,
            "symmetric_contradictions": symmetric,
        }
        data.update({k: v for k, v in flags.items() if v is not None})
        if train_files:
            data["train"] = list(train_files)
        if dev_files:
            data["dev"] = list(dev_files)
        data = apply_overrides(data, list(overrides))
        if not data.get("train"):
            raise click.UsageError("give training files, or a --config with [[train]] entries")
        config = TrainConfig.from_dict(data)
        record = train_model(config, resume=resume, max_minutes=max_minutes)
        best = record.get("best_mean_dev_accuracy")
        leg = record["legs"][-1]
        summary = {
            "output_dir": config.output_dir,
            "finished": record["finished"],
            "leg": {k: leg.get(k) for k in ("leg", "ended", "steps", "pairs", "minutes")},
            "train_pairs": record["train_pairs"],
            "steps": record["global_step"],
            "total_steps": record["total_steps"],
            "best_mean_dev_accuracy": best if best is not None and best >= 0 else None,
            "dev": next((h["dev"] for h in record["history"] if h["step"] == record["best_step"]), {}),
            "seconds": round(record["train_seconds"], 1),
        }
        click.echo(json.dumps(summary, indent=2))


def train_model(config, resume: bool, max_minutes: float | None = None):
    from nli_check.training import train as run

    return run(config, resume=resume, show_progress=show_progress(), max_minutes=max_minutes)
