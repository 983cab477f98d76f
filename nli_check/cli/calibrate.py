"""``nli-check calibrate``: fit temperature scaling on dev data and store it with the model."""

from __future__ import annotations

import json
import logging

import click

from nli_check.cli._common import prepare_output, show_progress, user_errors, validate_device, write_atomic
from nli_check.cli.evaluate import data_options, load_sets

logger = logging.getLogger(__name__)


def format_report(report: dict) -> str:
    lines = [
        f"temperature  {report['temperature']:.4f}",
        f"ECE          {report['ece_before']:.4f} -> {report['ece_after']:.4f}",
        f"NLL          {report['nll_before']:.4f} -> {report['nll_after']:.4f}",
        f"pairs        {report['pairs']}",
    ]
    if len(report["data"]) > 1:
        width = max(len(r["name"]) for r in report["data"])
        lines.append("")
        lines.append(f"{'set'.ljust(width)}  {'pairs':>6}  {'ECE before':>10}  {'ECE after':>9}")
        for r in report["data"]:
            lines.append(f"{r['name'].ljust(width)}  {r['pairs']:>6}  {r['ece_before']:>10.4f}  "
                         f"{r['ece_after']:>9.4f}")
    if report.get("file"):
        lines.append(f"saved to {report['file']}")
    return "\n".join(lines) + "\n"


@click.command("calibrate")
@click.argument("model_dir", type=click.Path(), metavar="MODEL_DIR")
@click.argument("data_files", nargs=-1, metavar="[DEV_DATA]...", type=click.Path())
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda[:N]",
              callback=validate_device, help="Where to run the model; auto uses CUDA when present.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Pairs per model batch.")
@data_options
@click.option("--json", "as_json", is_flag=True, help="Print the calibration report as JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the report as JSON to this file.")
@click.option("--dry-run", is_flag=True, help="Fit and report, but leave calibration.json as it is.")
@click.pass_context
def calibrate(ctx: click.Context, model_dir, data_files, device, batch_size, premise_col, hypothesis_col,
              label_col, label_map, strict, config_path, data_dir, as_json, output, dry_run) -> None:
    """Fit temperature scaling on labelled dev data and store it with the model.

    The model's logits are divided by one temperature T, fitted by minimising
    the negative log-likelihood of the dev labels; the winning label never
    changes, only the confidence. T is saved in MODEL_DIR/calibration.json, with
    the expected calibration error (ECE, 15 bins) and NLL before and after, and
    every later load of the model (check, eval) applies it. Two-way dev sets
    (supports/refutes) are fitted on contradiction vs entailment only. With
    --config, the config's [[calibration]] sets are used where it has them (kept
    out of training and dev, so the reported dev numbers stay unseen), else its
    [[dev]] sets.

    \b
    Examples:
        nli-check calibrate my-model claims-dev.csv
        nli-check calibrate models/nli-minilm-l6 --config models/nli-minilm-l6.toml \\
            --data-dir ../shared/nli-data
    """
    if not data_files and not config_path:
        raise click.UsageError("give labelled DEV_DATA files, or --config with [[dev]] sets")
    prepare_output(output)
    with user_errors():
        from nli_check.calibration import calibrate as fit

        section = "dev"
        if config_path:
            from nli_check.training import TrainConfig

            section = "calibration" if TrainConfig.from_file(config_path).calibration else "dev"
            logger.info("fitting on the config's [[%s]] sets", section)
        sets, _ = load_sets(data_files, config_path, data_dir, premise_col, hypothesis_col,
                            label_col, label_map, strict, section)
        report = fit(model_dir, sets, device=device, batch_size=batch_size,
                     show_progress=show_progress(ctx), write=not dry_run)
        if output:
            write_atomic(output, json.dumps(report, indent=2) + "\n")
            logger.info("Wrote the report to %s", output)
        click.echo(json.dumps(report, indent=2) if as_json else format_report(report), nl=as_json)
