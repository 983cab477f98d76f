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

#: ``--min-similarity`` means the same in ``check`` and ``scan``: a cosine similarity, -1 to 1.
MIN_SIMILARITY_HELP = ("Cosine similarity (-1 to 1, in the embedder's space) a sentence pair needs to be put to "
                       "the NLI model; of each sentence's top-k most similar, only those at or above it are.")


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
    """Write text to ``path`` through a temporary file, so a failed run never leaves half a file.
    The file gets the mode any new file gets (the umask decides: 0644 under umask 022)."""
    from nli_check.files import new_file_mode

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, new_file_mode())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def prepare_output(path: str | os.PathLike | None, what: str = "the report") -> None:
    """Check, before any model loads, that a file can be written at ``path``.

    A missing parent directory is created, and said on stderr; a parent that is a file, a
    path that is a directory, or a directory that can't be written to is a one-line error.
    """
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise click.ClickException(f"cannot write {what} to {path}: it is a directory; give a file name")
    parent = path.parent
    for ancestor in (parent, *parent.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise click.ClickException(
                    f"cannot write {what} to {path}: {ancestor} is a file, not a directory"
                )
            break
    if not parent.exists():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise click.ClickException(
                f"cannot create the directory {parent} for {what}: {exc.strerror or exc}"
            ) from None
        logging.getLogger(__name__).info("Created the directory %s for %s", parent, what)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise click.ClickException(f"cannot write {what} to {path}: {parent} is not writable")


def validate_device(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A click callback: ``--device`` must be auto, cpu, cuda or cuda:N (a usage error otherwise)."""
    from nli_check.devices import DEVICE_CHOICES, valid_device

    if value is not None and not valid_device(value):
        raise click.BadParameter(f"{value!r} is not a device: use {DEVICE_CHOICES}")
    return value
