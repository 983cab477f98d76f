"""``nli-check check``: claims in drafts against the evidence in their sources."""

from __future__ import annotations

import logging
import sys

import click

from nli_check.cli._archive import archive_arguments, archive_options
from nli_check.cli._common import (
    MIN_SIMILARITY_HELP,
    prepare_output,
    show_progress,
    user_errors,
    validate_device,
    write_atomic,
)
from nli_check.labels import DEFAULT_THRESHOLD
from nli_check.models import DEFAULT_EMBEDDER
from nli_check.pairing import CHECK_LEXICAL_K, CHECK_TOP_K, MIN_SIMILARITY

logger = logging.getLogger(__name__)

FORMATS = ("table", "json", "jsonl", "csv", "markdown", "html")


@click.command("check")
@click.argument("claims", nargs=-1, required=True, metavar="CLAIMS...")
@click.option("-e", "--evidence", multiple=True, metavar="PATH",
              help="Evidence file or directory of .txt/.md files (repeatable). "
                   "Without it, every CLAIMS document is checked against every other.")
@archive_options
@click.option("--model", metavar="DIR|HUB_ID", default=None,
              help="NLI model: a local Hugging Face model directory or hub id. "
                   "[default: the shipped nli-minilm-l6]")
@click.option("--embedder", metavar="DIR|NAME", default=None,
              help="Sentence-embedding model that pairs claims with evidence: a sentence-transformers "
                   f"directory, or all-MiniLM-L6-v2 for the stock one. [default: {DEFAULT_EMBEDDER}]")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda[:N]",
              callback=validate_device, help="Where to run the models; auto uses CUDA when present.")
@click.option("--backend", type=click.Choice(["auto", "torch", "onnx"]), default="auto",
              show_default=True,
              help="Inference backend of the NLI model and the embedder: torch, or onnx (ONNX Runtime, "
                   "CPU only; installed with nli-check). auto: the fastest that kept accuracy.")
@click.option("--quantize", type=click.Choice(["auto", "int8", "none"]), default="auto",
              show_default=True, help="int8 dynamic quantisation of the NLI model (CPU only).")
@click.option("--top-k", type=click.IntRange(min=1), default=CHECK_TOP_K, show_default=True,
              help="Evidence sentences compared with each claim, the most similar in meaning.")
@click.option("--lexical-k", type=click.IntRange(min=0), default=CHECK_LEXICAL_K, show_default=True,
              help="Also compare each claim with this many evidence sentences that share the most "
                   "rare words with it (BM25), when not among the --top-k; 0 for none.")
@click.option("--min-similarity", type=click.FloatRange(-1.0, 1.0), default=MIN_SIMILARITY, show_default=True,
              help=MIN_SIMILARITY_HELP)
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=DEFAULT_THRESHOLD, show_default=True,
              help="Minimum confidence of a reported finding: about the share of findings at that "
                   "confidence that are real.")
@click.option("--show", type=click.Choice(["contradiction", "support", "all"]),
              default="contradiction", show_default=True,
              help="Which findings to list: contradictions or supports at --threshold or above, or "
                   "'all': every pair compared, whatever its label and confidence. Claim verdicts "
                   "cover every claim whatever this says.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table",
              show_default=True, help="Output format.")
@click.option("--per", type=click.Choice(["finding", "claim"]), default="finding", show_default=True,
              help="jsonl and csv: one row per finding (a claim and one piece of evidence), or one "
                   "per claim with its verdict.")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Write the report to this file (atomically) instead of stdout; a missing "
                   "directory is created.")
@click.option("--encoding", default="utf-8", show_default=True, help="Encoding of the input files.")
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True,
              help="Sentences or pairs per model batch.")
@click.option("--fail-on-contradiction", is_flag=True,
              help="Exit with status 3 when a contradiction is reported.")
@click.pass_context
def check(ctx: click.Context, claims: tuple[str, ...], evidence: tuple[str, ...], model: str | None,
          embedder: str | None, device: str, backend: str, quantize: str, top_k: int, lexical_k: int,
          min_similarity: float, threshold: float, show: str, fmt: str, per: str,
          output: str | None, encoding: str, batch_size: int, fail_on_contradiction: bool,
          **archive_opts) -> None:
    """Find claims that the evidence contradicts or supports.

    CLAIMS are files, directories of .txt/.md files, or - for standard input.
    Each claim sentence is paired with the most similar evidence sentences,
    and an NLI model labels each pair contradiction, support (entailment) or
    neutral, with a confidence. Results go to stdout, logs to stderr.

    \b
    Examples:
        nli-check check draft.txt --evidence sources/
        nli-check check a.txt b.txt c.md
        cat draft.txt | nli-check check - -e wire.txt --format json
        nli-check check seeds/draft.txt -e seeds/sources --show all -o report.md -f markdown
        nli-check check draft.txt -e sources/ --backend onnx --quantize int8
        nli-check check draft.txt --archive news-index/ --since 2022-01-01 --source Reuters

    \b
    Exit codes:
        0  done
        1  error (bad input, model or device), with a one-line message
        2  usage error (bad option value)
        3  --fail-on-contradiction was given and a contradiction was reported
    """
    if sum(1 for c in claims + evidence if c == "-") > 1:
        raise click.UsageError("standard input (-) can be given only once")
    if per == "claim" and fmt not in ("jsonl", "csv"):
        raise click.UsageError(f"--per claim applies to jsonl and csv; {fmt} shows findings and verdicts together")
    prepare_output(output)  # before anything is read or loaded
    with user_errors():
        from nli_check.pipeline import check as run_check
        from nli_check.report import render

        result = run_check(
            list(claims),
            list(evidence) if evidence else None,
            **archive_arguments(archive_opts),
            model=model,
            embedder=embedder,
            top_k=top_k,
            lexical_k=lexical_k,
            min_similarity=min_similarity,
            threshold=threshold,
            show=show,
            device=device,
            backend=backend,
            quantize=quantize,
            batch_size=batch_size,
            encoding=encoding,
            show_progress=show_progress(ctx),
        )
        text = render(result, fmt, per=per)
        if output:
            write_atomic(output, text)
            logger.info("Wrote %d finding(s) to %s", len(result.findings), output)
        else:
            click.echo(text, nl=False)
            sys.stdout.flush()
    if fail_on_contradiction and result.contradictions:
        logger.info("%d contradiction(s) reported: exit status 3", len(result.contradictions))
        ctx.exit(3)
