"""``nli-check index``: build or extend a searchable archive for ``check --archive``."""

from __future__ import annotations

import json
import logging

import click

from nli_check.cli._common import show_progress, user_errors

logger = logging.getLogger(__name__)


@click.command("index")
@click.argument("archives", nargs=-1, required=True, metavar="ARCHIVE...")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Index folder: created, or extended with the records it does not hold yet.")
@click.option("--embedder", metavar="DIR", default=None,
              help="Sentence-embedding model for pairing; an index is searched with the model that "
                   "built it. [default: the default embedder]")
@click.option("--id-field", default=None, help="Record field with the article id. [default: guessed]")
@click.option("--text-field", default=None, help="Record field with the article text. [default: guessed]")
@click.option("--source-field", default=None, help="Record field with the source. [default: guessed]")
@click.option("--date-field", default=None, help="Record field with the date. [default: guessed]")
@click.option("--skip-malformed", is_flag=True,
              help="Leave out records that cannot be read (no text, bad JSON, bad date) instead of "
                   "stopping at the first.")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda[:N]",
              help="Where to run the embedder.")
@click.option("--backend", type=click.Choice(["auto", "torch", "onnx"]), default="auto",
              show_default=True, help="Inference backend of the embedder.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Sentences per embedding batch.")
@click.option("--shard-records", type=click.IntRange(min=1), default=500, show_default=True,
              help="Records per committed shard (the unit of resumed progress).")
@click.option("--json", "as_json", is_flag=True, help="Print the build summary as JSON on stdout.")
@click.pass_context
def index(ctx: click.Context, archives: tuple[str, ...], output: str, embedder: str | None,
          id_field: str | None, text_field: str | None, source_field: str | None,
          date_field: str | None, skip_malformed: bool, device: str, backend: str,
          batch_size: int, shard_records: int, as_json: bool) -> None:
    """Index an archive's sentences for check --archive (and scan).

    ARCHIVE is JSONL, CSV or Parquet files (one article per record: id, text,
    source, date) or a folder of .txt files. The index holds each sentence with
    its article id, source, date and offsets, its embedding and a faiss index.
    Run again with new records: only the articles whose id the index does not
    hold are read, segmented and embedded. A killed run resumes where it
    stopped; searches running meanwhile keep the index as it was.

    \b
    Examples:
        nli-check index news.jsonl -o news-index/
        nli-check index news.jsonl today.jsonl -o news-index/
        nli-check check draft.txt --archive news-index/ --since 2022-01-01
    """
    with user_errors():
        from nli_check.archive import build_index
        from nli_check.scan.reader import FieldMap

        summary = build_index(
            list(archives),
            output,
            embedder=embedder,
            fields=FieldMap(id=id_field, text=text_field, source=source_field, date=date_field),
            device=device,
            backend=backend,
            batch_size=batch_size,
            shard_records=shard_records,
            skip_malformed=skip_malformed,
            show_progress=show_progress(ctx),
        )
    if summary.get("malformed"):
        logger.info("Left out %d malformed record(s)", summary["malformed"])
    logger.info(
        "%s: %d record(s) appended (%d already indexed); %d records, %d sentences in %s (%.1f s)",
        summary["index"], summary["appended_records"], summary["already_indexed"],
        summary.get("records", 0), summary.get("sentences", 0), summary.get("generation"),
        summary["seconds"],
    )
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
