"""A searchable archive: ``nli-check index`` builds it, ``check --archive`` searches it.

An index folder holds generations of a scan store (:class:`~nli_check.scan.store.Store`: the
sentences with their article id, source, date and offsets, their embeddings as a memory-map)
plus a faiss IVF index over the embeddings. ``index.json`` names the current generation and
the embedder that built it::

    DIR/
      index.json            format, version, embedder identity, current generation (atomic)
      gen-00002/            a finalised store (state.json, sentences/, embeddings.npy, ...)
        index.faiss         IVF index (8-bit scalar quantiser), memory-mapped on read
        archive.json        what the generation holds: counts, sources, dates, embedder
        .readers.lock       readers hold a shared lock while they use the generation

Appending builds the next generation beside the current one: the current generation's
sentence files are hard-linked and its embeddings copied, so nothing is embedded twice; the
new records are committed shard by shard (a killed build resumes where it stopped); then
``index.json`` is replaced atomically. Old generations are deleted only once no reader holds
their lock, so a search that started on a generation finishes on it.

Example::

    from nli_check import Archive
    archive = Archive("news-index/")
    hits = archive.search(["Moscow is withdrawing troops from the border."], k=5)
    archive.append([{"id": "wire-77", "text": "...", "source": "Wire", "date": "2022-02-16"}])
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.scan.reader import FieldMap, Malformed, Record, parse_date
from nli_check.scan.store import NO_DAY, Store, atomic_write_json, sentences_table
from nli_check.types import Sentence

logger = logging.getLogger(__name__)

INDEX_FORMAT = "nli-check-index"
INDEX_VERSION = 1
MANIFEST = "index.json"
READERS_LOCK = ".readers.lock"
WRITER_LOCK = ".writer.lock"
_EPOCH = date(1970, 1, 1)
#: Smaller archives get no faiss index (searches below ``Archive.exact_limit`` are exact anyway).
IVF_MIN_SENTENCES = 1000
#: Test hook: after committing this store shard, the build kills its own process (kill -9).
KILL_AFTER_SHARD_ENV = "NLI_CHECK_INDEX_KILL_AFTER_SHARD"


# ---------------------------------------------------------------------------- embedder identity
_IDENTITY_CACHE: dict[tuple, str] = {}


def _folder_digest(folder: Path) -> str:
    """SHA-256 over a model folder's files (names and contents), skipping hidden files."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    if stamp not in _IDENTITY_CACHE:
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            with open(path, "rb") as handle:
                digest.update(hashlib.file_digest(handle, "sha256").digest())
        _IDENTITY_CACHE[stamp] = digest.hexdigest()
    return _IDENTITY_CACHE[stamp]


def embedder_identity(embedder) -> dict:
    """``{"name", "sha256", "dimension"}`` of an :class:`~nli_check.embed.Embedder`: the
    content hash of its model folder (``None`` for a hub id), so an index built with one model
    is never searched with another."""
    source = Path(str(getattr(embedder, "source", embedder.name))).expanduser()
    sha = _folder_digest(source) if source.is_dir() else None
    return {"name": str(embedder.name), "sha256": sha, "dimension": int(embedder.dimension)}


def same_embedder(a: dict, b: dict) -> bool:
    if a.get("sha256") and b.get("sha256"):
        return a["sha256"] == b["sha256"]
    return a.get("name") == b.get("name") and a.get("dimension") == b.get("dimension")


def _describe_embedder(identity: dict) -> str:
    sha = identity.get("sha256")
    return f"{identity.get('name')} ({sha[:12]})" if sha else str(identity.get("name"))


def _check_embedder(path: Path, built: dict, used: dict) -> None:
    if not same_embedder(built, used):
        raise NLICheckError(
            f"{path} was indexed with the embedder {_describe_embedder(built)}, not "
            f"{_describe_embedder(used)}: pass --embedder {built.get('name')}, or rebuild the "
            "index with this embedder into a new folder"
        )


# ---------------------------------------------------------------------------- filters
def parse_day(value, option: str) -> date:
    """A date given on the command line (``YYYY-MM-DD`` and the reader's other forms)."""
    if isinstance(value, date):
        return value
    parsed = parse_date(value) if value is not None and str(value).strip() else None
    if parsed is None:
        raise NLICheckError(f"{option} {value!r} is not a date: give it as YYYY-MM-DD")
    return parsed


def _day(value: date) -> int:
    return (value - _EPOCH).days


@dataclass(frozen=True)
class ArchiveFilter:
    """Which archive sentences may be evidence.

    ``since``/``until`` bound the article date (inclusive); ``date_window`` keeps articles
    dated at most that many days from ``around`` (the draft's date; today when not given).
    Any date filter leaves out undated articles. ``sources`` keeps only those sources,
    ``exclude_sources`` drops those (names compared without case).
    """

    since: date | None = None
    until: date | None = None
    date_window: float | None = None
    around: date | None = None
    sources: tuple[str, ...] = ()
    exclude_sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, option in (("since", "--since"), ("until", "--until"), ("around", "--date")):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_day(value, option))
        if self.since and self.until and self.since > self.until:
            raise NLICheckError(f"--since {self.since} is after --until {self.until}: swap them")
        if self.date_window is not None and self.date_window < 0:
            raise NLICheckError(f"--date-window must be 0 days or more, got {self.date_window}")
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "exclude_sources", tuple(self.exclude_sources))

    @property
    def active(self) -> bool:
        return bool(
            self.since or self.until or self.date_window is not None or self.sources
            or self.exclude_sources
        )

    def to_dict(self) -> dict:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "date_window": self.date_window,
            "around": self.around.isoformat() if self.around else None,
            "sources": list(self.sources),
            "exclude_sources": list(self.exclude_sources),
        }


@dataclass(frozen=True)
class Hit:
    """An archive sentence found for a query, and its cosine similarity to it."""

    sentence: Sentence
    similarity: float
    sid: int


# ---------------------------------------------------------------------------- folder
def is_index(path: str | os.PathLike) -> bool:
    return (Path(path).expanduser() / MANIFEST).is_file()


def read_manifest(path: Path) -> dict:
    """``index.json`` of an index folder, or a one-line error saying what the folder is."""
    manifest_path = path / MANIFEST
    if not path.exists():
        raise NLICheckError(
            f"no index at {path}: build one with nli-check index ARCHIVE... -o {path}"
        )
    if not path.is_dir():
        raise NLICheckError(f"{path} is a file, not an index folder: pass the folder nli-check index wrote")
    if not manifest_path.is_file():
        raise NLICheckError(
            f"{path} is not an nli-check index (no {MANIFEST}): pass the folder nli-check index "
            "wrote, or build one with nli-check index ARCHIVE... -o DIR"
        )
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        raise NLICheckError(
            f"{path} is not an nli-check index ({MANIFEST} is not one): pass the folder "
            "nli-check index wrote, or rebuild the index"
        )
    if data.get("version") != INDEX_VERSION:
        raise NLICheckError(
            f"{path} was written by another version of nli-check: rebuild it with nli-check index"
        )
    return data


def _generation_number(name: str) -> int:
    return int(name.split("-", 1)[1])


class _Generation:
    """One generation of an index, opened for reading under a shared lock."""

    def __init__(self, root: Path, name: str, fd: int) -> None:
        self.name, self.path, self._fd = name, root / name, fd
        self.store = Store(root, name)
        self.meta = json.loads((self.path / "archive.json").read_text(encoding="utf-8"))
        self.embeddings = self.store.embeddings
        self.filters = self.store.filters()
        self.sources: list[str] = json.loads((self.path / "sources.json").read_text(encoding="utf-8"))
        self._faiss = None

    @property
    def size(self) -> int:
        return int(self.embeddings.shape[0])

    def faiss_index(self, nprobe: int):
        path = self.path / "index.faiss"
        if self._faiss is None and path.exists():
            import faiss

            self._faiss = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        if self._faiss is not None:
            self._faiss.nprobe = min(nprobe, self._faiss.nlist)
        return self._faiss

    def close(self) -> None:
        self.store.close()
        self._faiss = None
        self.embeddings = None
        self.filters = {}
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
            self._fd = None


def _open_generation(root: Path) -> tuple[dict, _Generation]:
    """The manifest and its current generation, held under a shared lock."""
    for _ in range(50):
        manifest = read_manifest(root)
        name = str(manifest.get("current", ""))
        try:
            fd = os.open(root / name / READERS_LOCK, os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError):
            time.sleep(0.02)  # swapped and removed between reading the manifest and locking
            continue
        fcntl.flock(fd, fcntl.LOCK_SH)
        if not (root / name / "archive.json").exists():  # removed while we waited for the lock
            os.close(fd)
            continue
        try:
            return manifest, _Generation(root, name, fd)
        except (OSError, ValueError) as exc:
            os.close(fd)
            raise NLICheckError(
                f"index {root} is damaged ({name}: {exc.__class__.__name__}): rebuild it with nli-check index"
            ) from exc
    raise NLICheckError(
        f"index {root} is damaged (its generation {manifest.get('current')!r} is missing): "
        "rebuild it with nli-check index"
    )


@contextlib.contextmanager
def _writer_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NLICheckError(
                f"another nli-check index is writing {root}: wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- records
def _records_of(rows: Iterable) -> Iterator[Record | Malformed]:
    """Records from dicts (``id``, ``text``, ``source``, ``date`` or the reader's other names) or
    :class:`Record`\\ s, read like archive records."""
    from nli_check.scan.reader import _make_record, _resolve_fields

    for number, row in enumerate(rows, start=1):
        if isinstance(row, Record):
            yield row
            continue
        if not isinstance(row, dict):
            yield Malformed("<records>", number, f"a {type(row).__name__}, not a record (a dict)")
            continue
        try:
            cols = _resolve_fields(row.keys(), FieldMap(), "<records>")
        except NLICheckError:
            cols = {"text": "text", "id": "id", "source": "source", "date": "date"}
        yield _make_record(row, cols, "<records>", number, f"record-{number}")


def _article_ids(store: Store) -> set[str]:
    tables, _ = store._open_tables()
    ids: set[str] = set()
    for table in tables:
        ids.update(table.column("article_id").unique().to_pylist())
    return ids


# ---------------------------------------------------------------------------- writing
class _Build:
    """Append the new records of a stream to an index folder as its next generation."""

    def __init__(self, root: Path, embedder, *, shard_records: int, nprobe: int, show_progress: bool):
        self.root = root
        self.embedder = embedder
        self.identity = embedder_identity(embedder)
        self.shard_records = shard_records
        self.nprobe = nprobe
        self.show_progress = show_progress

    def run(self, items: Callable[[], Iterable[Record | Malformed]], source_key: str,
            skip_malformed: bool) -> dict:
        started = time.perf_counter()
        root = self.root
        if root.exists() and not root.is_dir():
            raise NLICheckError(f"{root} is a file: give a folder for the index")
        if root.is_dir() and not is_index(root) and any(
            p.name not in (WRITER_LOCK,) and not p.name.startswith("gen-") for p in root.iterdir()
        ):
            raise NLICheckError(
                f"{root} is not an nli-check index and not empty: give a new folder for the index"
            )
        with _writer_lock(root):
            manifest = read_manifest(root) if is_index(root) else None
            if manifest is not None:
                _check_embedder(root, manifest.get("embedder", {}), self.identity)
            base_name = manifest["current"] if manifest else None
            base = Store(root, base_name) if base_name else None
            known = _article_ids(base) if base else set()

            # 1. Read the stream once: malformed records, empty archives, what is new.
            good = new = 0
            malformed: list[Malformed] = []
            seen: set[str] = set()
            for item in items():
                if isinstance(item, Malformed):
                    malformed.append(item)
                    continue
                good += 1
                if item.id not in known and item.id not in seen:
                    new += 1
                seen.add(item.id)
            if malformed and not skip_malformed:
                raise NLICheckError(
                    f"{malformed[0].describe()}: fix the record, or pass --skip-malformed to leave "
                    f"out the {len(malformed)} record(s) that cannot be read (nothing was indexed)"
                )
            if good == 0:
                raise NLICheckError(
                    "the archive holds no records with text: check the files and --text-field "
                    "(nothing was indexed)"
                )
            summary = {
                "index": str(root),
                "records_read": good,
                "malformed": len(malformed),
                "already_indexed": good - new,
                "appended_records": new,
                "embedder": self.identity,
            }
            if new == 0:
                logger.info("All %d record(s) are already in %s: nothing to append", good, root)
                gen = base_name
                summary.update(self._counts(base) if base else {})
                summary.update({"generation": gen, "seconds": round(time.perf_counter() - started, 3)})
                return summary

            # 2. The next generation: resume a killed build of the same input, or start one.
            number = _generation_number(base_name) + 1 if base_name else 1
            name = f"gen-{number:05d}"
            key = hashlib.sha256(
                json.dumps([base_name, source_key, self.identity], sort_keys=True).encode()
            ).hexdigest()[:24]
            for stale in root.glob("gen-*"):
                if stale.name == base_name or not stale.is_dir():
                    continue
                if stale.name == name and _build_key(stale) == key:
                    continue
                if _generation_number(stale.name) > (number - 1):
                    shutil.rmtree(stale, ignore_errors=True)  # a build of other input: redo
            store = Store(root, name, info={"key": key, "base": base_name, "embedder": self.identity})
            (store.path / READERS_LOCK).touch()
            resumed = store.next_shard > 0
            if base is not None and not store.state.get("base") and not store.state["complete"]:
                store.adopt(base)
            base_sentences = int(store.state.get("base", {}).get("sentences", 0))

            # 3. Segment and embed the new records, one committed shard at a time.
            embedded = self._embed_new(store, items, known, summary)
            if not store.state["complete"]:
                store.mark_complete(self.embedder.dimension)
            store.finalize()
            self._faiss(store, base, base_sentences)
            self._describe(store, base_name)
            summary.update(self._counts(store))
            summary.update({"generation": name, "resumed": resumed, "embedded_sentences": embedded})

            # 4. Swap: readers opening the index from now on get the new generation.
            atomic_write_json(
                root / MANIFEST,
                {
                    "format": INDEX_FORMAT,
                    "version": INDEX_VERSION,
                    "embedder": self.identity,
                    "current": name,
                    "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                },
            )
            _remove_old_generations(root, keep={name})
            summary["seconds"] = round(time.perf_counter() - started, 3)
            return summary

    def _embed_new(self, store: Store, items, known: set[str], summary: dict) -> int:
        from nli_check.scan.engine import _progress
        from nli_check.scan.stages import record_row, segment_records

        def new_records():
            seen: set[str] = set()
            for item in items():
                if isinstance(item, Malformed):
                    continue
                if item.id in known or item.id in seen:
                    seen.add(item.id)
                    continue
                seen.add(item.id)
                yield item

        stream = itertools.islice(new_records(), store.items_done, None)
        article = store.num_records
        kill_after = os.environ.get(KILL_AFTER_SHARD_ENV)
        embedded = 0
        bar = _progress(self.show_progress, summary["appended_records"], "Index", "record",
                        initial=store.items_done)
        try:
            while not store.state["complete"]:
                chunk = list(itertools.islice(stream, self.shard_records))
                if not chunk:
                    break
                records = []
                for record in chunk:
                    records.append(record_row(record, article))
                    article += 1
                rows = segment_records(records)
                vectors = self.embedder.embed([r["text"] for r in rows])
                first = store.num_sentences
                for offset, row in enumerate(rows):
                    row["sid"] = first + offset
                if not rows:
                    vectors = np.zeros((0, self.embedder.dimension), dtype=np.float32)
                store.commit_shard(store.next_shard, sentences_table(rows), vectors,
                                   items=len(chunk), records=len(chunk), malformed=[])
                embedded += len(rows)
                bar.update(len(chunk))
                new_shards = store.next_shard - int(store.state.get("base", {}).get("shards", 0))
                if kill_after is not None and new_shards > int(kill_after):
                    os.kill(os.getpid(), 9)
        finally:
            bar.close()
        return embedded

    def _faiss(self, store: Store, base: Store | None, base_sentences: int) -> None:
        """The generation's IVF index: the base's with the new vectors added (while it holds at
        least a quarter of the archive it was trained on), else trained afresh."""
        import faiss

        from nli_check.scan.search import build_ivf_index

        path = store.path / "index.faiss"
        embeddings = store.embeddings
        if path.exists() or len(embeddings) < IVF_MIN_SENTENCES:
            return
        base_path = base.path / "index.faiss" if base is not None else None
        if base_path is not None and base_path.exists() and len(embeddings) <= 4 * _trained_on(base):
            index = faiss.read_index(str(base_path))
            for r0 in range(base_sentences, len(embeddings), 65536):
                index.add(np.ascontiguousarray(embeddings[r0 : r0 + 65536], dtype=np.float32))
            trained = _trained_on(base)
        else:
            index = build_ivf_index(embeddings, self.nprobe)
            trained = len(embeddings)
        tmp = store.path / f".index.faiss.{os.getpid()}.tmp"
        faiss.write_index(index, str(tmp))
        os.replace(tmp, path)
        atomic_write_json(store.path / "faiss.json", {"trained_on": trained, "nlist": int(index.nlist)})

    def _describe(self, store: Store, base_name: str | None) -> None:
        day = np.load(store.path / "day.npy", mmap_mode="r")
        dated = day[day != NO_DAY]
        first = str(_EPOCH.fromordinal(_EPOCH.toordinal() + int(dated.min()))) if len(dated) else None
        last = str(_EPOCH.fromordinal(_EPOCH.toordinal() + int(dated.max()))) if len(dated) else None
        atomic_write_json(
            store.path / "archive.json",
            {
                "embedder": self.identity,
                "base": base_name,
                "records": store.num_records,
                "sentences": store.num_sentences,
                "first_date": first,
                "last_date": last,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            },
        )

    @staticmethod
    def _counts(store: Store) -> dict:
        return {"records": store.num_records, "sentences": store.num_sentences}


def _build_key(path: Path) -> str | None:
    try:
        return json.loads((path / "state.json").read_text())["info"]["key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _trained_on(store: Store) -> int:
    try:
        return int(json.loads((store.path / "faiss.json").read_text())["trained_on"])
    except (OSError, ValueError, KeyError):
        return 0


def _remove_old_generations(root: Path, keep: set[str]) -> None:
    """Delete the generations before the current one that no reader holds."""
    current = max(_generation_number(k) for k in keep)
    for path in sorted(root.glob("gen-*")):
        if path.name in keep or not path.is_dir() or _generation_number(path.name) > current:
            continue
        try:
            fd = os.open(path / READERS_LOCK, os.O_RDONLY)
        except FileNotFoundError:
            fd = None
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    logger.debug("%s is in use by a reader: left for the next append", path.name)
                    continue
            trash = root / f".trash-{path.name}-{os.getpid()}"
            os.replace(path, trash)
            shutil.rmtree(trash, ignore_errors=True)
        finally:
            if fd is not None:
                os.close(fd)
    for trash in root.glob(".trash-*"):
        shutil.rmtree(trash, ignore_errors=True)


def build_index(
    archives: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    embedder=None,
    fields: FieldMap | None = None,
    device: str = "auto",
    backend: str = "auto",
    batch_size: int = 64,
    shard_records: int = 500,
    skip_malformed: bool = False,
    nprobe: int = 32,
    show_progress: bool = False,
) -> dict:
    """Index the records of ``archives`` (JSONL, CSV, Parquet, folders of .txt) into ``output``.

    A new folder gets its first generation; an index gets the records whose article id it does
    not hold yet, appended without re-embedding anything. Run again after a kill, the build
    resumes. Returns a summary (records, sentences, generation, seconds).

    Example::

        from nli_check.archive import build_index
        build_index(["news.jsonl"], "news-index/")
    """
    from nli_check.pipeline import _load_embedder
    from nli_check.scan.reader import archive_files, archive_fingerprint, read_archive

    fields = fields or FieldMap()
    archive_files(archives)  # a missing or unknown archive fails here
    key = json.dumps({"archive": archive_fingerprint(archives), "fields": fields.to_dict()}, sort_keys=True)
    root = Path(output).expanduser()
    if is_index(root):
        read_manifest(root)  # a damaged manifest fails before the embedder loads
    embedder = _load_embedder(embedder, device, batch_size, backend)
    build = _Build(root, embedder, shard_records=shard_records, nprobe=nprobe, show_progress=show_progress)
    return build.run(lambda: read_archive(archives, fields), key, skip_malformed)


# ---------------------------------------------------------------------------- the archive
class Archive:
    """An index folder written by ``nli-check index``, open for search and appends.

    The archive keeps the generation it opened until :meth:`close` (or :meth:`refresh`), so
    every search of one ``Archive`` sees the same sentences even while another process
    appends. ``embedder`` is an :class:`~nli_check.embed.Embedder`, a model path, or ``None``
    for the default; it must be the one the index was built with.

    Example::

        with Archive("news-index/") as archive:
            for hit in archive.search(["Troops are leaving the border."], k=3)[0]:
                print(hit.similarity, hit.sentence.text, hit.sentence.article_id, hit.sentence.date)
    """

    #: Up to this many sentences (after the filters), searches are exact.
    exact_limit = 50_000

    def __init__(self, path: str | os.PathLike, *, embedder=None, device: str = "auto",
                 backend: str = "auto", batch_size: int = 64, nprobe: int = 32) -> None:
        self.path = Path(path).expanduser()
        self._embedder_arg = embedder
        self._device, self._backend, self._batch_size = device, backend, batch_size
        self.nprobe = nprobe
        self._embedder = None
        self.manifest, self._gen = _open_generation(self.path)

    # ----------------------------------------------------------------- state
    @property
    def generation(self) -> str:
        return self._gen.name

    def __len__(self) -> int:
        return self._gen.size

    @property
    def num_records(self) -> int:
        return self._gen.store.num_records

    @property
    def sources(self) -> list[str]:
        return list(self._gen.sources)

    @property
    def embedder(self):
        """The embedder, loaded on first use and checked against the one that built the index."""
        if self._embedder is None:
            from nli_check.pipeline import _load_embedder

            embedder = _load_embedder(self._embedder_arg, self._device, self._batch_size, self._backend)
            _check_embedder(self.path, self.manifest.get("embedder", {}), embedder_identity(embedder))
            self._embedder = embedder
        return self._embedder

    def refresh(self) -> None:
        """Move to the index's current generation (after an append by another process)."""
        old = self._gen
        self.manifest, self._gen = _open_generation(self.path)
        old.close()

    def close(self) -> None:
        self._gen.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------------- search
    def allowed(self, archive_filter: ArchiveFilter | None) -> np.ndarray | None:
        """Boolean mask over the archive's sentences kept by ``archive_filter`` (``None``: all)."""
        if archive_filter is None or not archive_filter.active:
            return None
        f = archive_filter
        ok = np.ones(self._gen.size, dtype=bool)
        if f.since or f.until or f.date_window is not None:
            day = np.asarray(self._gen.filters["day"]).astype(np.int64)
            ok &= day != NO_DAY
            if f.since:
                ok &= day >= _day(f.since)
            if f.until:
                ok &= day <= _day(f.until)
            if f.date_window is not None:
                around = _day(f.around or datetime.now(timezone.utc).date())
                ok &= np.abs(day - around) <= f.date_window
        if f.sources or f.exclude_sources:
            source = np.asarray(self._gen.filters["source"])
            ok &= ~np.isin(source, self._codes(f.exclude_sources, "--exclude-source", must_exist=False))
            if f.sources:
                ok &= np.isin(source, self._codes(f.sources, "--source", must_exist=True))
        return ok

    def _codes(self, names: Sequence[str], option: str, must_exist: bool) -> np.ndarray:
        by_name = {s.casefold(): i for i, s in enumerate(self._gen.sources) if s is not None}
        missing = [n for n in names if n.casefold() not in by_name]
        if missing and must_exist:
            known = ", ".join(sorted(s for s in self._gen.sources if s)[:15]) or "none"
            raise NLICheckError(
                f"{option} {missing[0]!r}: the index has no such source (its sources: {known})"
            )
        return np.array([by_name[n.casefold()] for n in names if n.casefold() in by_name], dtype=np.int32)

    def search_vectors(self, queries: np.ndarray, k: int = 5, *, min_similarity: float = -1.0,
                       archive_filter: ArchiveFilter | None = None,
                       index: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` archive sentence ids and similarities for each query vector (rows of unit
        length): ``(ids, sims)``, shape ``(len(queries), k)``, ``-1``/``-inf`` where fewer match.

        ``index``: ``exact``, ``ivf`` (the faiss index), or ``auto``: exact while at most
        :attr:`exact_limit` sentences pass the filter, else the IVF index."""
        from nli_check.scan.search import exact_top_k, ivf_top_k

        if index not in ("auto", "exact", "ivf"):
            raise NLICheckError(f"unknown index {index!r}: use auto, exact or ivf")
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        embeddings = self._gen.embeddings
        if queries.ndim != 2 or queries.shape[1] != embeddings.shape[1]:
            raise NLICheckError(
                f"query vectors of dimension {queries.shape[-1]} against an index of dimension "
                f"{embeddings.shape[1]}: use the embedder the index was built with"
            )
        mask = self.allowed(archive_filter)
        candidates = self._gen.size if mask is None else int(mask.sum())
        if candidates == 0 or len(queries) == 0:
            return (np.full((len(queries), k), -1, np.int64), np.full((len(queries), k), -np.inf, np.float32))
        faiss_index = self._gen.faiss_index(self.nprobe) if index != "exact" else None
        kind = index
        if index == "auto":
            kind = "exact" if candidates <= self.exact_limit or faiss_index is None else "ivf"
        if kind == "ivf" and faiss_index is None:
            raise NLICheckError(f"{self.path} has no faiss index: rebuild it with nli-check index")
        if kind == "exact":
            if mask is not None and candidates < self._gen.size // 2:
                rows = np.flatnonzero(mask)
                ids, sims = exact_top_k(queries, _Rows(embeddings, rows), k, min_similarity)
                return np.where(ids >= 0, rows[np.maximum(ids, 0)], -1), sims
            allow = None if mask is None else (lambda cols: mask[cols])
            return exact_top_k(queries, embeddings, k, min_similarity, allow)
        fraction = candidates / self._gen.size
        oversample = int(min(self._gen.size, max(4 * k, k + 32) / max(fraction, 1 / 64)))
        allow = None if mask is None else (lambda cand: mask[cand])
        return ivf_top_k(faiss_index, queries, embeddings, k, min_similarity, allow, oversample=oversample)

    def sentences(self, sids: Sequence[int]) -> list[Sentence]:
        """The archive sentences with these ids, with their article id, source and date."""
        return [_sentence(row) for row in self._gen.store.take(sids)]

    def text_hashes(self, sids: np.ndarray) -> np.ndarray:
        return np.asarray(self._gen.filters["text"])[sids]

    def search(self, texts: Sequence[str], k: int = 5, *, min_similarity: float = -1.0,
               archive_filter: ArchiveFilter | None = None, index: str = "auto") -> list[list[Hit]]:
        """The ``k`` archive sentences most similar to each text, best first."""
        vectors = self.embedder.embed(list(texts))
        ids, sims = self.search_vectors(vectors, k, min_similarity=min_similarity,
                                        archive_filter=archive_filter, index=index)
        flat = sorted({int(i) for i in ids.ravel() if i >= 0})
        by_id = dict(zip(flat, self.sentences(flat)))
        return [
            [Hit(by_id[int(i)], float(s), int(i)) for i, s in zip(row_i, row_s) if i >= 0]
            for row_i, row_s in zip(ids, sims)
        ]

    # ----------------------------------------------------------------- append
    def append(self, records: Iterable, *, skip_malformed: bool = False, shard_records: int = 500) -> dict:
        """Add records (dicts with ``id``, ``text`` and optionally ``source`` and ``date``) whose
        ids the index does not hold yet; returns the build summary and moves to the new generation."""
        rows = list(records)
        key = hashlib.sha256(
            json.dumps([r if isinstance(r, dict) else repr(r) for r in rows], sort_keys=True, default=str).encode()
        ).hexdigest()
        build = _Build(self.path, self.embedder, shard_records=shard_records, nprobe=self.nprobe,
                       show_progress=False)
        summary = build.run(lambda: _records_of(rows), key, skip_malformed)
        self.refresh()
        return summary


class _Rows:
    """Rows ``rows`` of a memory-mapped matrix, read block by block (for filtered exact search)."""

    def __init__(self, matrix: np.ndarray, rows: np.ndarray) -> None:
        self.matrix, self.rows = matrix, rows
        self.shape = (len(rows), matrix.shape[1])

    def __getitem__(self, item: slice) -> np.ndarray:
        return np.asarray(self.matrix[self.rows[item]])


def _sentence(row: dict) -> Sentence:
    return Sentence(
        text=row["text"],
        source=row["article_id"],
        start=int(row["start"]),
        end=int(row["end"]),
        index=int(row["index"]),
        speaker=row["speaker"],
        cue=row["cue"],
        content=row["content"],
        polarity=int(row["polarity"]),
        article_id=row["article_id"],
        source_name=row["source_name"],
        date=row["date"],
    )


# ---------------------------------------------------------------------------- check --archive
def open_archive(archive, *, embedder=None, device: str = "auto", backend: str = "auto",
                 batch_size: int = 64) -> tuple[Archive, Archive | None]:
    """``(archive, opened)``: an :class:`Archive` as given, or opened from a folder (then also
    returned as ``opened``, for the caller to close)."""
    if isinstance(archive, Archive):
        return archive, None
    opened = Archive(archive, embedder=embedder, device=device, backend=backend, batch_size=batch_size)
    return opened, opened


def archive_evidence(archive: Archive, claims: Sequence[Sentence], claim_views: Sequence[np.ndarray], *,
                     top_k: int, min_similarity: float, archive_filter: ArchiveFilter | None,
                     offset: int) -> tuple[list[Sentence], list[list[tuple[int, int, float]]], list, dict]:
    """The archive's evidence for ``claims``: the sentences found, one list of
    ``(claim, offset + sentence, similarity)`` pairs per view of the claims, a document per
    article found (its found sentences, for reports), and what was searched.

    A sentence with the same words as its claim (the draft itself, already indexed) is never
    its evidence, and copies of one sentence (wire copy that many outlets ran) count once, the
    first found: they would otherwise fill a claim's top-k with one sentence."""
    from nli_check.scan.store import text_hashes
    from nli_check.types import Document

    claim_hashes = text_hashes([c.text for c in claims])
    wanted = 5 * top_k + 4  # room for copies, dropped below
    found: dict[int, int] = {}
    pair_lists = []
    for vectors in claim_views:
        ids, sims = archive.search_vectors(vectors, wanted, min_similarity=min_similarity,
                                           archive_filter=archive_filter)
        hashes = archive.text_hashes(np.maximum(ids, 0))
        pairs = []
        for i in range(len(claims)):
            seen = {claim_hashes[i]}
            for sid, sim, text_hash in zip(ids[i], sims[i], hashes[i]):
                if sid < 0 or len(seen) > top_k or text_hash in seen:
                    continue
                seen.add(text_hash)
                position = found.setdefault(int(sid), len(found))
                pairs.append((i, offset + position, float(min(sim, 1.0))))
        pair_lists.append(pairs)
    sentences = archive.sentences(list(found))
    by_article: dict[str, list[Sentence]] = {}
    for s in sentences:
        by_article.setdefault(s.source, []).append(s)
    documents = [
        Document(name=name, text="\n\n".join(s.text for s in sorted(group, key=lambda s: s.index)),
                 date=group[0].date, id=group[0].article_id)
        for name, group in by_article.items()
    ]
    info = {
        "path": str(archive.path),
        "generation": archive.generation,
        "sentences": len(archive),
        "records": archive.num_records,
        "filter": archive_filter.to_dict() if archive_filter is not None else None,
        "sentences_found": len(sentences),
    }
    return sentences, pair_lists, documents, info


def open_for_scan(path: str | os.PathLike, embedding_model: str | None) -> _Generation:
    """The current generation of an index, for ``scan`` to read instead of an archive; refused
    when ``embedding_model`` (``None``: the default) is not the embedder that built it."""
    from nli_check import models

    root = Path(path).expanduser()
    manifest, generation = _open_generation(root)
    default = getattr(models, "DEFAULT_EMBEDDER", models.MINILM)
    name = default if embedding_model is None else str(embedding_model)
    source = Path(models.resolve_model_name(name)).expanduser()
    used = {"name": name, "sha256": _folder_digest(source) if source.is_dir() else None,
            "dimension": manifest.get("embedder", {}).get("dimension")}
    try:
        _check_embedder(root, manifest.get("embedder", {}), used)
    except NLICheckError:
        generation.close()
        raise
    key = json.dumps([manifest.get("current"), generation.store.state.get("info", {}).get("key")])
    generation.fingerprint = "index:" + hashlib.sha256(key.encode()).hexdigest()
    return generation
