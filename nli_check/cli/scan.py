"""``nli-check scan``: contradictions across an archive of articles."""

from __future__ import annotations

import logging

import click

from nli_check.cli._common import MIN_SIMILARITY_HELP, show_progress, user_errors, validate_device
from nli_check.labels import SCAN_THRESHOLD
from nli_check.models import DEFAULT_EMBEDDER
from nli_check.pairing import MIN_SIMILARITY, SCAN_TOP_K

logger = logging.getLogger(__name__)


@click.command("scan")
@click.argument("archives", nargs=-1, required=True, metavar="ARCHIVE...")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False),
    help="Output directory (conflict shards, summary.json). Rerun the same command to resume.",
)
@click.option(
    "--model",
    metavar="DIR|HUB_ID",
    default=None,
    help="NLI model directory or hub id. [default: the shipped nli-minilm-l6]",
)
@click.option(
    "--embedder",
    "--embedding-model",
    "embedding_model",
    metavar="DIR|NAME",
    default=None,
    help="Sentence-embedding model that pairs sentences: a sentence-transformers directory, or "
    f"all-MiniLM-L6-v2 for the stock one. [default: {DEFAULT_EMBEDDER}]",
)
@click.option(
    "--id-field", default=None, help="Record field with the article id. [default: guessed]"
)
@click.option(
    "--text-field", default=None, help="Record field with the article text. [default: guessed]"
)
@click.option(
    "--source-field", default=None, help="Record field with the source. [default: guessed]"
)
@click.option("--date-field", default=None, help="Record field with the date. [default: guessed]")
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    default=SCAN_TOP_K,
    show_default=True,
    help="Nearest neighbours per sentence that become candidate pairs.",
)
@click.option(
    "--min-similarity",
    type=click.FloatRange(-1.0, 1.0),
    default=MIN_SIMILARITY,
    show_default=True,
    help=MIN_SIMILARITY_HELP,
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=SCAN_THRESHOLD,
    show_default=True,
    help="Minimum contradiction confidence of a reported conflict.",
)
@click.option(
    "--across-sources-only", is_flag=True, help="Pair only sentences from different sources."
)
@click.option(
    "--date-window",
    type=click.FloatRange(min=0),
    default=None,
    metavar="DAYS",
    help="Pair only articles dated at most DAYS apart (undated articles are not paired).",
)
@click.option("--within-articles", is_flag=True, help="Also pair sentences of the same article.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Read at most this many records."
)
@click.option(
    "--strict", is_flag=True, help="Stop at the first malformed record instead of skipping it."
)
@click.option(
    "--output-format",
    type=click.Choice(["parquet", "jsonl"]),
    default="parquet",
    show_default=True,
    help="Format of the conflict shards.",
)
@click.option(
    "--overwrite", is_flag=True, help="Replace a scan with other settings in the output directory."
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    metavar="auto|cpu|cuda[:N]",
    callback=validate_device,
    help="Where to run the embedding and NLI models.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Sentences or pairs per model batch.",
)
@click.option(
    "--max-tokens",
    type=click.IntRange(min=16),
    default=None,
    help="Token budget per NLI batch (bounds GPU memory). [default: batch size x 128]",
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "torch", "onnx"]),
    default="auto",
    show_default=True,
    help="Inference backend of the NLI model and the embedder; onnx is ONNX Runtime (CPU). "
    "auto: the fastest that kept accuracy.",
)
@click.option(
    "--quantize",
    type=click.Choice(["auto", "int8", "none"]),
    default="auto",
    show_default=True,
    help="int8 dynamic quantisation of the NLI model (CPU only).",
)
@click.option(
    "--index",
    type=click.Choice(["auto", "exact", "ivf"]),
    default="auto",
    show_default=True,
    help="Neighbour search: exact, a faiss IVF index, or exact up to 50k sentences.",
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where embeddings are kept for reuse. [default: ~/.cache/nli-check/scan]",
)
@click.option(
    "--shard-records",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Records per committed store shard.",
)
@click.option(
    "--shard-pairs",
    type=click.IntRange(min=1),
    default=4096,
    show_default=True,
    help="Candidate pairs per committed output shard.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Run here, or on Ray Data (pip install 'nli-check[ray]').",
)
@click.option(
    "--ray-address",
    default=None,
    metavar="ADDRESS",
    help="Ray cluster to join (e.g. ray://head:10001, auto); 'local' starts one here.",
)
@click.option(
    "--ray-actors",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Actors per Ray pool (embedding, NLI); each takes a GPU with --device cuda.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON on stdout.")
@click.option(
    "--fail-on-contradiction", is_flag=True, help="Exit with status 3 when conflicts were found."
)
@click.pass_context
def scan(
    ctx: click.Context,
    archives: tuple[str, ...],
    output: str,
    model,
    embedding_model,
    id_field,
    text_field,
    source_field,
    date_field,
    top_k,
    min_similarity,
    threshold,
    across_sources_only,
    date_window,
    within_articles,
    limit,
    strict,
    output_format,
    overwrite,
    device,
    batch_size,
    max_tokens,
    backend,
    quantize,
    index,
    store_dir,
    shard_records,
    shard_pairs,
    engine,
    ray_address,
    ray_actors,
    as_json,
    fail_on_contradiction,
) -> None:
    """Find statements in an archive that contradict each other.

    ARCHIVE is JSONL, CSV or Parquet (one article per record), a directory
    of .txt files, or an index folder written by nli-check index. Sentences
    are embedded (kept on disk for the next run), paired with their nearest
    neighbours in other articles, and labelled by
    an NLI model; contradictions go to OUTPUT/conflicts/ and a run summary to
    OUTPUT/summary.json. A killed run resumes when the same command is run
    again.

    \b
    Examples:
        nli-check scan news.jsonl -o conflicts/
        nli-check scan news.parquet -o out/ --across-sources-only --date-window 7
        nli-check scan news.jsonl -o out/ --device cuda --batch-size 256 --max-tokens 65536
        nli-check scan s3-mirror/ -o out/ --engine ray --ray-address auto --device cuda
        nli-check scan news-index/ -o out/
    """
    if ctx.find_root().params.get("verbose", 0) < 2:
        # One "Classifying N pairs" line per shard is noise over an archive.
        logging.getLogger("nli_check.pipeline").setLevel(logging.WARNING)
    with user_errors():
        from nli_check.scan import FieldMap, ScanConfig, SearchSettings
        from nli_check.scan import scan as run_scan
        from nli_check.scan.engine import summary_json

        config = ScanConfig(
            archives=archives,
            output=output,
            model=model,
            embedding_model=embedding_model,
            fields=FieldMap(id=id_field, text=text_field, source=source_field, date=date_field),
            search=SearchSettings(
                top_k=top_k,
                min_similarity=min_similarity,
                across_sources_only=across_sources_only,
                date_window=date_window,
                within_articles=within_articles,
                index=index,
            ),
            threshold=threshold,
            limit=limit,
            strict=strict,
            output_format=output_format,
            overwrite=overwrite,
            device=device,
            batch_size=batch_size,
            max_tokens=max_tokens,
            backend=backend,
            quantize=quantize,
            store_dir=store_dir,
            shard_records=shard_records,
            shard_pairs=shard_pairs,
            engine=engine,
            ray_address=ray_address,
            ray_actors=ray_actors,
        )
        summary = run_scan(config, show_progress=show_progress(ctx))
    if as_json:
        click.echo(summary_json(summary))
    else:
        malformed = summary["malformed"]["count"]
        click.echo(
            f"{summary['conflicts']} conflict(s) among {summary['candidate_pairs']} candidate pair(s) "
            f"from {summary['sentences']} sentence(s) in {summary['records']} record(s)"
            + (f", {malformed} malformed record(s) skipped" if malformed else "")
            + f": {output}"
        )
    if fail_on_contradiction and summary["conflicts"]:
        ctx.exit(3)
