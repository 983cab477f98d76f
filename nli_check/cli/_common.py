"""Helpers shared by the CLI commands: logging, error translation, output files."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click

from nli_check.errors import NLICheckError


def setup_logging(verbose: int = 0, quiet: bool = False) -> None:
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr, force=True)
    for noisy in ("httpx", "urllib3", "filelock", "datasets", "sentence_transformers", "transformers",
                  "faiss"):
        logging.getLogger(noisy).setLevel(logging.ERROR if verbose < 2 else logging.INFO)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except ImportError:
        pass


def show_progress(ctx: click.Context | None = None) -> bool:
    ctx = ctx or click.get_current_context(silent=True)
    quiet = bool(ctx and ctx.find_root().obj and ctx.find_root().obj.get("quiet"))
    return not quiet and sys.stderr.isatty()


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn library errors a user can fix into one-line ``Error:`` messages, exit status 1."""
    try:
        yield
    except NLICheckError as exc:
        raise click.ClickException(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"text is not valid UTF-8 ({exc.reason}): pass --encoding") from None
    except KeyboardInterrupt:
        raise click.Abort() from None
    except MemoryError:
        raise click.ClickException("out of memory: lower --batch-size or use a smaller input") from None


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write text to ``path`` through a temporary file, so a failed run never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
