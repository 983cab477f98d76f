"""The sentence and embedding store of an archive, on disk, reused across runs.

A store is a directory keyed by the archive's content hash, the fields read from it, the
record limit and the embedding model, so a second scan of the same archive (with another
NLI model, another threshold, into another output directory) skips segmenting and embedding.

Layout::

    STORE/<key>/
      state.json                 committed progress (written atomically)
      sentences/part-00000.arrow one Arrow IPC file per shard of records (memory-mapped on read)
      sentences/part-00000.npy   that shard's embeddings until the store is finalised
      embeddings.npy             N x D float32, L2-normalised (NumPy memory-map)
      article.npy source.npy day.npy text.npy   per-sentence int arrays used by the search
                                 filters (text.npy: a hash of the sentence's normalised text)
      sources.json               source names, indexed by the codes in source.npy

Shards are committed one at a time (files first, then ``state.json`` through ``os.replace``),
so a build killed at any point resumes at the first uncommitted shard.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.files import new_file_mode

STORE_VERSION = 1


def text_hashes(texts: Sequence[str]) -> np.ndarray:
    """A 64-bit hash of each text, case and runs of white space ignored: sentences with equal
    hashes say the same words, so the search never pairs them (they cannot contradict)."""
    return np.fromiter(
        (
            int.from_bytes(
                hashlib.blake2b(" ".join(t.split()).casefold().encode("utf-8"), digest_size=8).digest(),
                "little",
                signed=True,
            )
            for t in texts
        ),
        dtype=np.int64,
        count=len(texts),
    )
#: Value of ``day.npy`` for a sentence whose article has no date.
NO_DAY = np.iinfo(np.int32).min


def default_store_dir() -> Path:
    """``$NLI_CHECK_STORE``, else ``$XDG_CACHE_HOME/nli-check/scan``, else ``~/.cache/nli-check/scan``."""
    env = os.environ.get("NLI_CHECK_STORE")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "nli-check" / "scan"


def store_key(
    archive_hash: str, *, fields: dict, limit: int | None, embedding_model: str, segmenter: str
) -> str:
    """A short stable key for (archive content, how it is read, embedding model)."""
    blob = json.dumps(
        {
            "archive": archive_hash,
            "fields": fields,
            "limit": limit,
            "embedding_model": embedding_model,
            "segmenter": segmenter,
            "store": STORE_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, new_file_mode())  # mkstemp makes 0600; results honour the umask
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, data) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def read_json(path: Path, what: str, fix: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NLICheckError(
            f"{path} ({what}) is corrupt ({exc.__class__.__name__}): {fix}"
        ) from exc


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def save_npy_atomic(path: Path, array: np.ndarray) -> None:
    tmp = _tmp_path(path)
    with open(tmp, "wb") as handle:
        np.save(handle, array)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def save_arrow_atomic(path: Path, table) -> None:
    import pyarrow as pa

    tmp = _tmp_path(path)
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


def sentence_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("sid", pa.int64()),
            ("article", pa.int64()),
            ("article_id", pa.string()),
            ("source_name", pa.string()),
            ("date", pa.string()),
            ("day", pa.int32()),
            ("text", pa.string()),
            ("start", pa.int32()),
            ("end", pa.int32()),
            ("index", pa.int32()),
            ("speaker", pa.string()),
            ("cue", pa.string()),
            ("content", pa.string()),
            ("polarity", pa.int8()),
        ]
    )


class Store:
    """One archive's sentences and embeddings on disk.

    Writers call :meth:`commit_shard` for each shard of records in order and then
    :meth:`finalize`; readers use :attr:`embeddings`, :meth:`filters` and :meth:`take`.
    """

    def __init__(self, root: str | os.PathLike, key: str, *, info: dict | None = None) -> None:
        self.path = Path(root).expanduser() / key
        self.key = key
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "sentences").mkdir(exist_ok=True)
        self._state_path = self.path / "state.json"
        if self._state_path.exists():
            self.state = read_json(
                self._state_path,
                "embedding store progress",
                f"delete the store directory {self.path} and run again",
            )
            if self.state.get("version") != STORE_VERSION:
                raise NLICheckError(
                    f"{self.path} was written by another version of nli-check: delete it and run again"
                )
        else:
            self.state = {
                "version": STORE_VERSION,
                "info": info or {},
                "shards": [],
                "items_done": 0,
                "records": 0,
                "sentences": 0,
                "malformed": [],
                "malformed_count": 0,
                "dimension": None,
                "complete": False,
                "finalized": False,
            }
        self._tables = None
        self._embeddings = None

    # ----------------------------------------------------------------- progress
    @property
    def complete(self) -> bool:
        return bool(self.state.get("finalized"))

    @property
    def items_done(self) -> int:
        """Archive items (records and malformed records) already committed."""
        return int(self.state["items_done"])

    @property
    def next_shard(self) -> int:
        return len(self.state["shards"])

    @property
    def num_sentences(self) -> int:
        return int(self.state["sentences"])

    @property
    def num_records(self) -> int:
        return int(self.state["records"])

    @property
    def malformed(self) -> list[dict]:
        return list(self.state["malformed"])

    def _save_state(self) -> None:
        atomic_write_json(self._state_path, self.state)

    def shard_path(self, shard: int, suffix: str) -> Path:
        return self.path / "sentences" / f"part-{shard:05d}.{suffix}"

    def commit_shard(
        self,
        shard: int,
        table,
        embeddings: np.ndarray,
        *,
        items: int,
        records: int,
        malformed: Sequence[dict],
    ) -> None:
        """Write one shard's sentences and embeddings, then record it as done."""
        if shard != self.next_shard:
            raise RuntimeError(f"shard {shard} committed out of order (expected {self.next_shard})")
        if self.state["complete"]:
            raise RuntimeError("the store is already complete")
        if len(table) != len(embeddings):
            raise RuntimeError("a shard's sentences and embeddings differ in length")
        dimension = int(embeddings.shape[1]) if embeddings.ndim == 2 else None
        if self.state["dimension"] is None and dimension:
            self.state["dimension"] = dimension
        save_arrow_atomic(self.shard_path(shard, "arrow"), table)
        save_npy_atomic(
            self.shard_path(shard, "npy"), np.ascontiguousarray(embeddings, dtype=np.float32)
        )
        self.state["shards"].append({"sentences": len(table), "items": items, "records": records})
        self.state["items_done"] += items
        self.state["records"] += records
        self.state["sentences"] += len(table)
        self.state["malformed"].extend(malformed)
        self.state["malformed_count"] += len(malformed)
        self._save_state()

    def mark_complete(self, dimension: int) -> None:
        """Every record is in a shard: no more shards will come."""
        if self.state["dimension"] is None:
            self.state["dimension"] = int(dimension)
        self.state["complete"] = True
        self._save_state()

    def finalize(self, show_progress: bool = False) -> None:
        """Join the shards' embeddings into one memory-map and write the filter arrays."""
        if self.complete:
            return
        if not self.state["complete"]:
            raise RuntimeError("finalize() before every shard was committed")
        import pyarrow as pa

        n, d = self.num_sentences, int(self.state["dimension"])
        base_shards = int(self.state.get("base", {}).get("shards", 0))
        base = np.load(self.path / "base-embeddings.npy", mmap_mode="r") if base_shards else None
        tmp = self.path / ".embeddings.npy.tmp"
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, d))
        article = np.lib.format.open_memmap(
            self.path / ".article.npy.tmp", mode="w+", dtype=np.int64, shape=(n,)
        )
        source = np.lib.format.open_memmap(
            self.path / ".source.npy.tmp", mode="w+", dtype=np.int32, shape=(n,)
        )
        day = np.lib.format.open_memmap(
            self.path / ".day.npy.tmp", mode="w+", dtype=np.int32, shape=(n,)
        )
        text = np.lib.format.open_memmap(
            self.path / ".text.npy.tmp", mode="w+", dtype=np.int64, shape=(n,)
        )
        codes: dict[str, int] = {}
        row = 0
        for shard in range(self.next_shard):
            if shard < base_shards:  # adopted from a previous store: embedded there
                vectors = base[row : row + self.state["shards"][shard]["sentences"]]
            else:
                vectors = np.load(self.shard_path(shard, "npy"), mmap_mode="r")
            with pa.memory_map(str(self.shard_path(shard, "arrow"))) as source_file:
                table = pa.ipc.open_file(source_file).read_all()
            count = len(table)
            out[row : row + count] = vectors
            article[row : row + count] = table.column("article").to_numpy()
            names = table.column("source_name").to_pylist()
            source[row : row + count] = [
                codes.setdefault(s, len(codes)) if s is not None else -1 for s in names
            ]
            day[row : row + count] = table.column("day").fill_null(NO_DAY).to_numpy()
            text[row : row + count] = text_hashes(table.column("text").to_pylist())
            row += count
            del table, vectors
        for array in (out, article, source, day, text):
            array.flush()
        del out, article, source, day, text
        atomic_write_json(self.path / "sources.json", sorted(codes, key=codes.get))
        for name in ("article", "source", "day", "text", "embeddings"):
            os.replace(self.path / f".{name}.npy.tmp", self.path / f"{name}.npy")
        self.state["finalized"] = True
        self._save_state()
        for shard in range(self.next_shard):
            with contextlib.suppress(OSError):
                self.shard_path(shard, "npy").unlink()
        del base
        with contextlib.suppress(OSError):
            (self.path / "base-embeddings.npy").unlink()

    def adopt(self, previous: Store) -> None:
        """Start this empty store with every shard of the finalised store ``previous``: its
        sentence files are hard-linked (copied where links are not possible) and its
        embeddings are read from its ``embeddings.npy`` at :meth:`finalize`, never recomputed.
        Records and sentences of shards committed afterwards are numbered after them."""
        if self.next_shard or not previous.complete:
            raise RuntimeError("adopt() needs an empty store and a finalised previous store")
        for shard in range(previous.next_shard):
            link_or_copy(previous.shard_path(shard, "arrow"), self.shard_path(shard, "arrow"))
        link_or_copy(previous.path / "embeddings.npy", self.path / "base-embeddings.npy")
        for name in ("shards", "records", "sentences", "dimension"):
            self.state[name] = json.loads(json.dumps(previous.state[name]))
        self.state["base"] = {"shards": previous.next_shard, "sentences": previous.num_sentences}
        self._save_state()

    # ----------------------------------------------------------------- reading
    @property
    def embeddings(self) -> np.ndarray:
        """All sentence embeddings, ``(N, D)`` float32, as a read-only memory-map."""
        if not self.complete:
            raise RuntimeError("the store is not finalised")
        if self._embeddings is None:
            self._embeddings = np.load(self.path / "embeddings.npy", mmap_mode="r")
        return self._embeddings

    def filters(self) -> dict[str, np.ndarray]:
        """Per-sentence ``article``, ``source``, ``day`` and ``text`` arrays (memory-maps)."""
        if not (self.path / "text.npy").exists():  # a store finalised before text.npy existed
            tables, _ = self._open_tables()
            hashes = np.concatenate(
                [text_hashes(t.column("text").to_pylist()) for t in tables] or [np.zeros(0, np.int64)]
            )
            save_npy_atomic(self.path / "text.npy", hashes)
        return {
            name: np.load(self.path / f"{name}.npy", mmap_mode="r")
            for name in ("article", "source", "day", "text")
        }

    def _open_tables(self):
        if self._tables is None:
            import pyarrow as pa

            tables, starts, start = [], [], 0
            for shard, info in enumerate(self.state["shards"]):
                mapped = pa.memory_map(str(self.shard_path(shard, "arrow")))
                tables.append(pa.ipc.open_file(mapped).read_all())
                starts.append(start)
                start += info["sentences"]
            self._tables = (tables, np.asarray(starts + [start], dtype=np.int64))
        return self._tables

    def take(self, sids: Iterable[int]) -> list[dict]:
        """Rows of the sentence table for global sentence ids, in the order given."""
        tables, starts = self._open_tables()
        sids = np.asarray(list(sids), dtype=np.int64)
        if len(sids) and (sids.min() < 0 or sids.max() >= starts[-1]):
            raise IndexError("sentence id out of range")
        shard_of = np.searchsorted(starts, sids, side="right") - 1
        out: list[dict | None] = [None] * len(sids)
        for shard in np.unique(shard_of):
            where = np.nonzero(shard_of == shard)[0]
            rows = tables[shard].take(sids[where] - starts[shard]).to_pylist()
            for position, row in zip(where, rows, strict=False):
                out[position] = row
        return out  # type: ignore[return-value]

    def iter_texts(self, batch: int = 4096):
        """The sentence texts in order, in lists of at most ``batch``."""
        tables, _ = self._open_tables()
        for table in tables:
            column = table.column("text")
            for start in range(0, len(table), batch):
                yield column.slice(start, batch).to_pylist()

    def close(self) -> None:
        self._tables = None
        self._embeddings = None


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` as a hard link to ``source`` (a copy across file systems), replacing it."""
    tmp = _tmp_path(target)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def clear_store(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def sentences_table(rows: list[dict]):
    """An Arrow table of sentence rows in the store's schema."""
    import pyarrow as pa

    schema = sentence_schema()
    return pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
