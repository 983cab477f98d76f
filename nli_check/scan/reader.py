"""Read an archive of articles as a stream of records.

An archive is one or more JSONL, CSV or Parquet files (one article per record) or a
directory of ``.txt`` files (one article per file). Records are yielded one at a time, so
memory does not grow with the archive. A record that cannot be read (bad JSON, missing text,
text that is not UTF-8, a date that is not a date) is yielded as a :class:`Malformed` with
its file and line or row number; the caller counts it and skips it, or stops under
``--strict``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from nli_check.errors import NLICheckError

#: Field names tried, in order, when ``--*-field`` is not given.
GUESSES: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "body",
        "content",
        "article",
        "full_text",
        "fulltext",
        "story",
        "maintext",
        "article_text",
        "document",
    ),
    "id": ("id", "article_id", "doc_id", "docid", "uuid", "guid", "_id", "url", "link"),
    "source": (
        "source",
        "source_name",
        "publisher",
        "outlet",
        "domain",
        "site",
        "feed",
        "source_domain",
        "media",
        "newspaper",
    ),
    "date": (
        "date",
        "published",
        "published_at",
        "publish_date",
        "publication_date",
        "pub_date",
        "pubdate",
        "date_published",
        "datetime",
        "timestamp",
        "created_at",
        "time",
    ),
}
FORMATS = ("jsonl", "csv", "parquet", "txt")
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%d.%m.%Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%Y%m%d",
)
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class FieldMap:
    """Which record fields hold the article's id, text, source and date (``None``: guess)."""

    id: str | None = None
    text: str | None = None
    source: str | None = None
    date: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Record:
    """One article of the archive."""

    id: str
    text: str
    source: str | None
    date: str | None
    #: Days since 1970-01-01 of ``date``, for ``--date-window``; ``None`` without a date.
    day: int | None
    file: str
    line: int


@dataclass(frozen=True)
class Malformed:
    """A record that could not be read, and why."""

    file: str
    line: int | None
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        where = f"{self.file} line {self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


# ---------------------------------------------------------------------------- files
def archive_files(paths: Sequence[str | os.PathLike]) -> list[tuple[Path, str]]:
    """The files an archive is made of, each with its format, in a stable order."""
    if not paths:
        raise NLICheckError(
            "no archive given: pass one or more JSONL, CSV or Parquet files or a directory"
        )
    files: list[tuple[Path, str]] = []
    for raw in paths:
        if str(raw) == "-":
            raise NLICheckError(
                "scan cannot read an archive from stdin: save it to a file and pass its path"
            )
        path = Path(raw).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            texts = [p for p in found if p.suffix.lower() == ".txt"]
            tables = [p for p in found if p.suffix.lower() in _SUFFIXES]
            if texts and not tables:
                files.append((path, "txt"))
            elif tables and not texts:
                files.extend((p, _SUFFIXES[p.suffix.lower()]) for p in tables)
            elif texts and tables:
                raise NLICheckError(
                    f"{path} mixes .txt files with JSONL/CSV/Parquet files: pass them separately"
                )
            else:
                raise NLICheckError(f"{path} holds no .txt, .jsonl, .csv or .parquet files")
        elif path.is_file():
            kind = _SUFFIXES.get(path.suffix.lower())
            if kind is None:
                raise NLICheckError(
                    f"{path}: unknown archive format {path.suffix or '(no suffix)'!r}: "
                    "use .jsonl, .csv, .parquet or a directory of .txt files"
                )
            files.append((path, kind))
        else:
            raise NLICheckError(f"archive {path} does not exist")
    return files


def archive_fingerprint(paths: Sequence[str | os.PathLike]) -> str:
    """SHA-256 of the archive's bytes (file names and contents, in reading order)."""
    digest = hashlib.sha256()
    for path, kind in archive_files(paths):
        members = _txt_files(path) if kind == "txt" else [path]
        for member in members:
            name = member.relative_to(path).as_posix() if kind == "txt" else member.name
            digest.update(f"{kind}\0{name}\0{member.stat().st_size}\0".encode())
            with open(member, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()


def _txt_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.txt") if p.is_file() and not p.name.startswith("."))


# ---------------------------------------------------------------------------- reading
def read_archive(
    paths: Sequence[str | os.PathLike],
    fields: FieldMap | None = None,
    *,
    limit: int | None = None,
) -> Iterator[Record | Malformed]:
    """Yield the archive's records (and malformed ones) in a stable order, one at a time.

    ``limit`` stops after that many good records.
    """
    fields = fields or FieldMap()
    count = 0
    for path, kind in archive_files(paths):
        reader = {
            "jsonl": _read_jsonl,
            "csv": _read_csv,
            "parquet": _read_parquet,
            "txt": _read_txt,
        }[kind]
        for item in reader(path, fields):
            if isinstance(item, Record):
                if limit is not None and count >= limit:
                    return
                count += 1
            yield item


def _resolve_fields(columns: Iterable[str], fields: FieldMap, file: str) -> dict[str, str | None]:
    columns = list(columns)
    lower = {c.lower(): c for c in columns}
    resolved: dict[str, str | None] = {}
    for role in ("id", "text", "source", "date"):
        given = getattr(fields, role)
        if given is not None:
            if given not in columns:
                raise NLICheckError(
                    f"{file} has no field {given!r} (for --{role}-field); it has: "
                    f"{', '.join(columns[:20]) or 'no fields'}"
                )
            resolved[role] = given
            continue
        resolved[role] = next((lower[g] for g in GUESSES[role] if g in lower), None)
    if resolved["text"] is None:
        raise NLICheckError(
            f"{file}: cannot tell which field holds the article text (fields: "
            f"{', '.join(columns[:20]) or 'none'}): pass --text-field"
        )
    return resolved


def _make_record(
    row: dict, cols: dict[str, str | None], file: str, line: int, default_id: str
) -> Record | Malformed:
    text = row.get(cols["text"])
    if text is None or (isinstance(text, str) and not text.strip()):
        return Malformed(file, line, f"missing text field {cols['text']!r}")
    if not isinstance(text, str):
        return Malformed(
            file, line, f"text field {cols['text']!r} is a {type(text).__name__}, not text"
        )
    if _has_surrogates(text):
        return Malformed(file, line, "text is not valid UTF-8")
    raw_id = row.get(cols["id"]) if cols["id"] else None
    article_id = str(raw_id) if raw_id not in (None, "") else default_id
    raw_source = row.get(cols["source"]) if cols["source"] else None
    source = str(raw_source) if raw_source not in (None, "") else None
    raw_date = row.get(cols["date"]) if cols["date"] else None
    day = None
    iso = None
    if raw_date not in (None, ""):
        parsed = parse_date(raw_date)
        if parsed is None:
            return Malformed(file, line, f"date {str(raw_date)[:40]!r} is not a date")
        iso, day = parsed.isoformat(), (parsed - _EPOCH).days
    for value in (article_id, source):
        if value is not None and _has_surrogates(value):
            return Malformed(file, line, "id or source is not valid UTF-8")
    return Record(id=article_id, text=text, source=source, date=iso, day=day, file=file, line=line)


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_date(value) -> date | None:
    """A date from an ISO string, a few common written forms, RFC 2822, or epoch seconds."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value) / (1000 if abs(value) > 1e11 else 1)
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc).date()
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


def _read_jsonl(path: Path, fields: FieldMap) -> Iterator[Record | Malformed]:
    file = path.name
    cols = None
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield Malformed(file, number, "not valid UTF-8")
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Malformed(file, number, f"bad JSON ({exc.msg})")
                continue
            if not isinstance(row, dict):
                yield Malformed(file, number, f"a JSON {type(row).__name__}, not an object")
                continue
            if cols is None:
                cols = _resolve_fields(row.keys(), fields, file)
            yield _make_record(row, cols, file, number, f"{path.stem}:{number}")


def _read_csv(path: Path, fields: FieldMap) -> Iterator[Record | Malformed]:
    file = path.name
    csv.field_size_limit(1 << 30)
    with open(path, "rb") as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise NLICheckError(
                f"{file}: the CSV header cannot be read ({exc}): fix the file"
            ) from exc
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        cols = _resolve_fields(header, fields, file)
        row_number = 0
        while True:
            start_line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Malformed(file, start_line, f"bad CSV ({exc})")
                continue
            row_number += 1
            if not values:
                continue
            if len(values) != len(header):
                yield Malformed(
                    file, start_line, f"{len(values)} fields, the header has {len(header)}"
                )
                continue
            row = dict(zip(header, values, strict=False))
            yield _make_record(row, cols, file, start_line, f"{path.stem}:{row_number}")


def _read_parquet(path: Path, fields: FieldMap) -> Iterator[Record | Malformed]:
    import pyarrow.parquet as pq

    file = path.name
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise NLICheckError(
            f"{file} is not a readable Parquet file ({exc}): fix or remove it"
        ) from exc
    cols = _resolve_fields(parquet.schema_arrow.names, fields, file)
    wanted = sorted({c for c in cols.values() if c})
    row_number = 0
    for batch in parquet.iter_batches(batch_size=1024, columns=wanted):
        for row in batch.to_pylist():
            row_number += 1
            yield _make_record(row, cols, file, row_number, f"{path.stem}:{row_number}")


def _read_txt(root: Path, fields: FieldMap) -> Iterator[Record | Malformed]:
    for member in _txt_files(root):
        name = member.relative_to(root).as_posix()
        try:
            text = member.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            yield Malformed(name, None, "not valid UTF-8")
            continue
        if not text.strip():
            yield Malformed(name, None, "empty file")
            continue
        parent = member.relative_to(root).parent
        source = parent.parts[0] if parent.parts else None
        yield Record(id=name, text=text, source=source, date=None, day=None, file=name, line=1)
