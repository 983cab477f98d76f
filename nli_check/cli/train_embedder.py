"""``nli-check train-embedder``: fine-tune the sentence embedder that pairs claims with evidence."""

from __future__ import annotations

import json

import click

from nli_check.cli._common import show_progress, user_errors


@click.command("train-embedder")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML, YAML or JSON recipe (EmbedderTrainConfig fields; see models/pairing-minilm-l6.toml).")
@click.option("--base-model", default=None, metavar="DIR|HUB_ID",
              help="Sentence-transformers model to fine-tune. [default: all-MiniLM-L6-v2]")
@click.option("-o", "--output", default=None, metavar="DIR", help="Where the model is saved.")
@click.option("--data-dir", default=None, metavar="DIR",
              help="Directory that relative data paths are read from.")
@click.option("--checkpoint-dir", default=None, metavar="DIR",
              help="Where checkpoints are written (keep it out of git).")
@click.option("--loss", type=click.Choice(["mnrl", "cached_mnrl", "gist"]), default=None,
              help="Contrastive loss: MultipleNegativesRankingLoss, its cached variant, or GISTEmbed.")
@click.option("--epochs", type=click.IntRange(min=1), default=None)
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=None)
@click.option("--batch-size", type=click.IntRange(min=2), default=None)
@click.option("--max-examples", type=click.IntRange(min=2), default=None,
              help="Train on at most this many (shuffled) examples.")
@click.option("--device", default=None, metavar="auto|cpu|cuda[:N]", help="[default: auto]")
@click.option("--set", "overrides", multiple=True, metavar="FIELD=VALUE",
              help="Override any config field, e.g. --set hard_negatives=false --set train.0.limit=500.")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its last checkpoint.")
@click.option("--export-checkpoint", "export", default=None, metavar="DIR",
              help="Do not train: save this checkpoint of the run (e.g. runs/embedder/checkpoint-30) as the "
                   "model, for a run stopped early.")
def train_embedder(config_path, base_model, output, data_dir, checkpoint_dir, loss, epochs, learning_rate,
                   batch_size, max_examples, device, overrides, resume, export) -> None:
    """Fine-tune a pairing embedder: claims close to evidence that supports OR contradicts them.

    Entailment and contradiction pairs are the positives, the rest of the batch and
    one mined hard negative per example the negatives. The saved model is a
    sentence-transformers folder usable as `check --embedder DIR`, with the
    resolved config (train_config.json) and a record of data and steps
    (training_record.json) beside it. Prints a JSON summary on stdout.

    \b
    Examples:
        nli-check train-embedder --config models/pairing-minilm-l6.toml --data-dir ../shared/nli-data
        nli-check train-embedder -c models/pairing-minilm-l6.toml --max-examples 512 -o /tmp/tiny
        nli-check train-embedder -c models/pairing-minilm-l6.toml --resume
        nli-check train-embedder -c models/pairing-minilm-l6.toml --export-checkpoint runs/embedder/checkpoint-30
    """
    with user_errors():
        from nli_check.embedder_training import load_embedder_config
        from nli_check.embedder_training import train_embedder as run

        config = load_embedder_config(
            config_path, list(overrides), base_model=base_model, output_dir=output, data_dir=data_dir,
            checkpoint_dir=checkpoint_dir, loss=loss, epochs=epochs, learning_rate=learning_rate,
            batch_size=batch_size, max_examples=max_examples, device=device,
        )
        if export:
            from nli_check.embedder_training import export_checkpoint

            record = export_checkpoint(config, export)
            click.echo(json.dumps({k: record[k] for k in ("exported_from_checkpoint", "global_step", "max_steps",
                                                          "examples_seen")} | {"output_dir": config.output_dir},
                                  indent=2))
            return
        if not config.train:
            raise click.UsageError("give a --config with [[train]] entries")
        record = run(config, resume=resume, show_progress=show_progress())
        summary = {k: record[k] for k in ("examples", "global_step", "train_loss", "train_seconds",
                                          "examples_per_second", "mining_seconds")}
        summary["output_dir"] = config.output_dir
        click.echo(json.dumps(summary, indent=2))
