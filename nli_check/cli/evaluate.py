"""``nli-check eval``: score an NLI model on labelled sets."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from nli_check.cli._common import prepare_output, show_progress, user_errors, validate_device, write_atomic

logger = logging.getLogger(__name__)


def data_options(func):
    """Column, label-map and strictness options shared by ``eval`` and ``calibrate``."""
    options = [
        click.option("--premise-col", default=None, help="Premise (evidence) column name."),
        click.option("--hypothesis-col", default=None, help="Hypothesis (claim) column name."),
        click.option("--label-col", default=None, help="Label column name."),
        click.option("--label-map", default=None, metavar="0=entailment,1=neutral,...",
                     help="Meaning of numeric or unusual labels."),
        click.option("--strict", is_flag=True,
                     help="Refuse rows with empty text instead of skipping them."),
        click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), default=None,
                     help="Training config (TOML/YAML/JSON): use its [[dev]] sets, in full."),
        click.option("--data-dir", default=None, metavar="DIR",
                     help="Directory the config's relative data paths are read from."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def load_sets(data_files, config_path, data_dir, premise_col, hypothesis_col, label_col, label_map,
              strict, section: str = "dev") -> tuple[list, object | None]:
    """Labelled sets from files and/or a config's ``[[dev]]`` (or other ``section``) entries; the config."""
    from nli_check.data import read_pairs
    from nli_check.evaluation import load_config_dev_sets

    sets, config = [], None
    if config_path:
        sets, config = load_config_dev_sets(config_path, data_dir, section)
    for path in data_files:
        sets.append(read_pairs(path, premise_col=premise_col, hypothesis_col=hypothesis_col,
                               label_col=label_col, label_map=label_map, strict=strict))
    for data in sets:
        logger.info("%-24s %7d pairs (%s)", data.name, len(data), data.kind)
    return sets, config


def _num(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def format_table(report: dict) -> str:
    """One row per set, then the macro mean over sets."""
    header = ["set", "kind", "pairs", "acc", "macro-F1", "F1 contr", "F1 entail", "F1 neutral",
              "ECE", "C thr", "C F1", "pairs/s"]
    rows = []
    for m in report["sets"]:
        f1 = {name: scores["f1"] for name, scores in m["per_class"].items()}
        c = m["contradiction"] or {}
        rows.append([
            m["name"], m["kind"], str(m["pairs"]), _num(m["accuracy"]), _num(m["macro_f1"]),
            _num(f1.get("contradiction")), _num(f1.get("entailment")), _num(f1.get("neutral")),
            _num(m["ece"]), _num(c.get("best_threshold")), _num(c.get("best_f1")),
            _num(m["pairs_per_second"], 1),
        ])
    s = report["summary"]
    if len(report["sets"]) > 1:
        rows.append(["macro mean", "", str(s["pairs"]), _num(s["accuracy"]), _num(s["macro_f1"]),
                     "", "", "", _num(s["ece"]), "", _num(s["contradiction_best_f1"]),
                     _num(s["pairs_per_second"], 1)])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [f"model: {report['model']}  (temperature {report['temperature']:.3f}, {report['device']})",
           line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows[: len(report["sets"])]]
    if len(rows) > len(report["sets"]):
        out += ["  ".join("-" * w for w in widths), line(rows[-1])]
    out.append("C thr / C F1: the contradiction-probability threshold with the best F1, and that F1. "
               "ECE: 15 equal-width bins.")
    return "\n".join(out) + "\n"


@click.command("eval")
@click.argument("data_files", nargs=-1, metavar="[DATA]...", type=click.Path())
@click.option("--model", metavar="DIR|HUB_ID", default=None,
              help="NLI model to score. [default: the shipped nli-minilm-l6; with --config, the "
                   "config's output_dir when it holds a model]")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda[:N]",
              callback=validate_device, help="Where to run the model; auto uses CUDA when present.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Pairs per model batch.")
@data_options
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON (one object per set).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the metrics as JSON to this file.")
@click.option("--plots", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Write PNGs per set: confusion matrix, reliability diagram, contradiction "
                   "precision-recall curve.")
@click.pass_context
def eval_command(ctx: click.Context, data_files, model, device, batch_size, premise_col, hypothesis_col,
                 label_col, label_map, strict, config_path, data_dir, as_json, output, plots) -> None:
    """Score an NLI model on labelled sets.

    DATA files are JSONL, CSV, TSV or Parquet (optionally gzipped) or a saved
    `datasets` directory, with premise, hypothesis and label columns. For each set:
    accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix, ECE
    (15 equal-width bins), and the contradiction precision-recall curve with the
    threshold that maximises F1; pairs per second too. Two-way sets
    (supports/refutes) are scored as entailment vs contradiction, and
    not_entailment sets as entailment vs not. A table goes to stdout, or JSON
    with --json; logs go to stderr.

    \b
    Examples:
        nli-check eval claims-dev.csv
        nli-check eval dev.jsonl fever.jsonl --model my-model --json
        nli-check eval scores.tsv --label-map 0=entailment,1=neutral,2=contradiction
        nli-check eval --config models/nli-minilm-l6.toml --data-dir ../shared/nli-data \\
            --plots card/ -o card/metrics.json
    """
    if not data_files and not config_path:
        raise click.UsageError("give labelled DATA files, or --config with [[dev]] sets")
    prepare_output(output, "the metrics")
    with user_errors():
        from nli_check.nli import NLIModel

        sets, config = load_sets(data_files, config_path, data_dir, premise_col, hypothesis_col,
                                 label_col, label_map, strict)
        if model is None and config is not None and (Path(config.output_dir) / "config.json").exists():
            model = config.output_dir
        nli = NLIModel(model, device=device)
        logger.info("Evaluating %s", nli.name)
        report = run_eval(nli, sets, batch_size=batch_size, plots=plots, progress=show_progress(ctx))
        text = json.dumps(report, indent=2)
        if output:
            write_atomic(output, text + "\n")
            logger.info("Wrote metrics to %s", output)
        click.echo(text if as_json else format_table(report), nl=as_json)


def run_eval(model, sets, *, batch_size: int = 64, plots: str | None = None, progress: bool = False) -> dict:
    """Evaluate ``model`` on ``sets``; write plots when asked. Returns the metrics dict."""
    from nli_check.evaluation import evaluate_sets, write_plots

    report = evaluate_sets(model, sets, batch_size=batch_size, show_progress=progress)
    if plots:
        for metrics in report["sets"]:
            paths = write_plots(metrics, plots, metrics["name"])
            logger.info("Plots for %s: %s", metrics["name"], ", ".join(str(p) for p in paths))
    return report
