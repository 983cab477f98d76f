"""The local engine: the scan's stages in this process, with progress committed shard by shard.

:func:`scan` is the entry point for both engines: it validates the output directory, opens
the embedding store, and runs, skipping whatever a previous run already committed:

1. read + segment + embed, one shard of records at a time, into the store
   (skipped when the store of this archive and embedding model is complete);
2. nearest-neighbour search, committed block by block, then the deduplicated pairs;
3. NLI on the pairs, one shard at a time, each shard's conflicts written atomically;
4. ``summary.json``.

A run killed at any point and started again with the same command finishes with the same
conflicts as an uninterrupted one: every commit is a file moved into place with
``os.replace``, and the work between two commits is recomputed identically.
"""

from __future__ import annotations

import itertools
import json
import math
import resource
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.pause import pause_point
from nli_check.scan.config import ScanConfig
from nli_check.scan.output import OutputDir
from nli_check.scan.reader import Malformed, archive_files, archive_fingerprint, read_archive
from nli_check.scan.search import neighbours, read_pairs, write_pairs
from nli_check.scan.stages import classify_rows, conflicts, pair_inputs, record_row, segment_records
from nli_check.scan.store import Store, save_npy_atomic, sentences_table, store_key

#: Malformed records listed one by one in the summary (all are counted).
MALFORMED_LISTED = 1000


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nli-check")
    except PackageNotFoundError:
        return "unknown"


class Timer:
    """Items and seconds per stage, for the summary's throughput."""

    def __init__(self) -> None:
        self.stages: dict[str, dict] = {}

    @contextmanager
    def stage(self, name: str, unit: str):
        entry = self.stages.setdefault(name, {"unit": unit, "items": 0, "seconds": 0.0})
        start = time.perf_counter()
        try:
            yield entry
        finally:
            entry["seconds"] += time.perf_counter() - start

    def report(self) -> dict:
        out = {}
        for name, entry in self.stages.items():
            seconds = round(entry["seconds"], 3)
            rate = (
                entry["items"] / entry["seconds"]
                if entry["seconds"] > 0 and entry["items"]
                else None
            )
            out[name] = {
                "unit": entry["unit"],
                "items": entry["items"],
                "seconds": seconds,
                f"{entry['unit']}_per_second": round(rate, 2) if rate else None,
            }
            out[name].update(
                {k: v for k, v in entry.items() if k not in ("unit", "items", "seconds")}
            )
        return out


def _progress(show: bool, total: int | None, desc: str, unit: str, initial: int = 0):
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not show,
        leave=False,
        dynamic_ncols=True,
    )


class ScanRun:
    """One scan's shared state: config, output directory, store, timers."""

    def __init__(self, config: ScanConfig, show_progress: bool = False) -> None:
        self.config = config
        self.show_progress = show_progress
        self.timer = Timer()
        self.started = time.perf_counter()
        self.index = _open_index(config)
        if self.index is not None:  # an index folder: its sentences and embeddings, read as they are
            self.archive_hash = self.index.fingerprint
            self.settings = config.result_settings(self.archive_hash)
            self.output = OutputDir(
                config.output, self.settings, output_format=config.output_format,
                overwrite=config.overwrite,
            )
            self.store = self.index.store
            self.store_reused = True
            self._model = None
            self._embedder = None
            return
        archive_files(config.archives)  # fail fast on a missing or unknown archive
        with self.timer.stage("hash", "files") as entry:
            self.archive_hash = archive_fingerprint(config.archives)
            entry["items"] = len(archive_files(config.archives))
        self.settings = config.result_settings(self.archive_hash)
        self.output = OutputDir(
            config.output,
            self.settings,
            output_format=config.output_format,
            overwrite=config.overwrite,
        )
        key = store_key(
            self.archive_hash,
            fields=config.fields.to_dict(),
            limit=config.limit,
            embedding_model=config.embedding_name(),
            segmenter=_package_version(),
        )
        self.store = Store(
            config.store_root(),
            key,
            info={
                "archives": list(config.archives),
                "fields": config.fields.to_dict(),
                "limit": config.limit,
                "embedding_model": config.embedding_name(),
                "archive_sha256": self.archive_hash,
            },
        )
        self.store_reused = self.store.complete
        self._model = None
        self._embedder = None

    # ----------------------------------------------------------------- models
    def nli_model(self):
        if self._model is None:
            from nli_check.nli import NLIModel

            self._model = NLIModel(
                self.config.model_name(),
                backend=self.config.backend,
                quantize=self.config.quantize,
                device=self.config.device,
                max_length=self.config.max_length,
            )
        return self._model

    def embedder(self):
        if self._embedder is None:
            from nli_check.embed import Embedder

            self._embedder = Embedder(
                self.config.embedding_model,
                device=self.config.device,
                backend=self.config.backend,
                batch_size=self.config.batch_size,
            )
        return self._embedder

    # ----------------------------------------------------------------- stage 1: store
    def check_strict(self, malformed: list[dict]) -> None:
        if self.config.strict and malformed:
            first = Malformed(**malformed[0])
            raise NLICheckError(
                f"malformed record, {first.describe()}: fix it, or drop --strict to skip "
                "malformed records"
            )

    def record_shards(self):
        """``(shard number, record rows, items, malformed)`` for each shard not yet in the store."""
        config, store = self.config, self.store
        items = read_archive(config.archives, config.fields, limit=config.limit)
        items = itertools.islice(items, store.items_done, None)
        shard, article = store.next_shard, store.num_records
        while True:
            chunk = list(itertools.islice(items, config.shard_records))
            if not chunk:
                return
            records, malformed = [], []
            for item in chunk:
                if isinstance(item, Malformed):
                    malformed.append(item.to_dict())
                else:
                    records.append(record_row(item, article))
                    article += 1
            self.check_strict(malformed)
            yield shard, records, len(chunk), malformed
            shard += 1

    def commit_store_shard(
        self,
        shard: int,
        rows: list[dict],
        vectors: np.ndarray,
        items: int,
        records: int,
        malformed: list[dict],
    ) -> None:
        first = self.store.num_sentences
        for offset, row in enumerate(rows):
            row["sid"] = first + offset
        if len(rows) == 0:
            vectors = np.zeros((0, self.store.state["dimension"] or 0), dtype=np.float32)
        self.store.commit_shard(
            shard, sentences_table(rows), vectors, items=items, records=records, malformed=malformed
        )
        pause_point("embed", shard + 1)

    def build_store_local(self) -> None:
        store = self.store
        bar = _progress(
            self.show_progress, None, "Segment+embed", "record", initial=store.num_records
        )
        try:
            for shard, records, items, malformed in self.record_shards():
                with self.timer.stage("segment", "sentences") as entry:
                    rows = segment_records(records)
                    entry["items"] += len(rows)
                embedder = self.embedder()
                with self.timer.stage("embed", "sentences") as entry:
                    vectors = embedder.embed([r["text"] for r in rows])
                    entry["items"] += len(rows)
                self.commit_store_shard(shard, rows, vectors, items, len(records), malformed)
                bar.update(len(records))
        finally:
            bar.close()

    def finish_store(self) -> None:
        store = self.store
        if not store.state["complete"]:
            dimension = store.state["dimension"] or self.embedder().dimension
            store.mark_complete(dimension)
        self.check_strict(store.malformed)
        if store.num_sentences == 0:
            raise NLICheckError(
                "the archive holds no sentences: check --text-field and the archive files"
            )
        store.finalize()

    # ----------------------------------------------------------------- stage 2: search
    def search(self) -> np.ndarray:
        state = self.output.state_dir
        pairs_path = state / "pairs.npy"
        if not pairs_path.exists():
            embeddings = self.store.embeddings
            bar = _progress(self.show_progress, len(embeddings), "Search", "sentence")
            try:
                with self.timer.stage("search", "pairs") as entry:
                    filters = self.store.filters()
                    ids, sims, stats = neighbours(
                        embeddings, filters, self.config.search, state, progress=bar
                    )
                    found = state / "pairs-found.npy"
                    entry["items"] = write_pairs(ids, sims, found)
                    entry["index"] = stats["kind"]
                    del ids, sims
                    group_copies(found, filters["text"], pairs_path)
            finally:
                bar.close()
            for name in ("neighbours.npy", "similarities.npy", "index.faiss"):
                (state / name).unlink(missing_ok=True)
        return read_pairs(pairs_path)

    def pair_shards(self, pairs: np.ndarray) -> list[int]:
        count = math.ceil(len(pairs) / self.config.shard_pairs)
        return [s for s in range(count) if not self.output.shard_done(s)]

    def shard_slice(self, pairs: np.ndarray, shard: int) -> np.ndarray:
        size = self.config.shard_pairs
        return pairs[shard * size : (shard + 1) * size]

    # ----------------------------------------------------------------- stage 3: NLI
    def classify_local(self, pairs: np.ndarray) -> None:
        todo = self.pair_shards(pairs)
        if not todo:
            return
        model = self.nli_model()
        done_pairs = len(pairs) - sum(len(self.shard_slice(pairs, s)) for s in todo)
        shards_done = math.ceil(len(pairs) / self.config.shard_pairs) - len(todo)
        bar = _progress(self.show_progress, len(pairs), "NLI", "pair", initial=done_pairs)
        try:
            for shard in todo:
                chunk = self.shard_slice(pairs, shard)
                rows = pair_inputs(self.store, chunk)
                with self.timer.stage("nli", "pairs") as entry:
                    verdicts = classify_rows(
                        model,
                        rows,
                        batch_size=self.config.batch_size,
                        max_tokens=self.config.max_tokens,
                    )
                    entry["items"] += len(rows)
                self.write_shard(shard, rows, verdicts)
                bar.update(len(rows))
                shards_done += 1
                pause_point("classify", shards_done)
        finally:
            bar.close()

    def write_shard(self, shard: int, rows: list[dict], verdicts: list[dict]) -> None:
        found, counts = conflicts(rows, verdicts, self.config.threshold)
        self.output.write_shard(shard, found, counts)

    # ----------------------------------------------------------------- stage 4: summary
    def summary(self, pairs: np.ndarray, engine: str, device: str | None) -> dict:
        shards = math.ceil(len(pairs) / self.config.shard_pairs)
        labels = {"contradiction": 0, "entailment": 0, "neutral": 0}
        classified = found = 0
        for shard in range(shards):
            counts = self.output.shard_counts(shard)
            classified += counts["pairs"]
            found += counts["conflicts"]
            for name, value in counts["labels"].items():
                labels[name] = labels.get(name, 0) + value
        store = self.store
        malformed = store.malformed
        config = self.config
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "complete": True,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "archives": list(config.archives),
            "archive_sha256": self.archive_hash,
            "records": store.num_records,
            "sentences": store.num_sentences,
            "malformed": {"count": len(malformed), "records": malformed[:MALFORMED_LISTED]},
            "candidate_pairs": int(len(pairs)),
            "pairs_classified": classified,
            "labels": labels,
            "conflicts": found,
            "shards": shards,
            "output_format": config.output_format,
            "models": {
                "nli": config.model_name(),
                "embedding": config.embedding_name(),
                "device": device,
                # How the NLI model ran here (as asked, where it ran elsewhere: Ray actors).
                "nli_backend": self._model.backend if self._model is not None else config.backend,
                "nli_quantize": (
                    (self._model.quantize or "none") if self._model is not None else config.quantize
                ),
            },
            "settings": self.settings,
            "run": {
                "engine": engine,
                "batch_size": config.batch_size,
                "max_tokens": config.max_tokens,
                "store": str(store.path),
                "store_reused": self.store_reused,
                "resumed": self.output.resumed,
                "seconds": round(time.perf_counter() - self.started, 3),
                "peak_rss_mb": round(peak, 1),
            },
            "throughput": self.timer.report(),
        }

    def finish(self, pairs: np.ndarray, engine: str, device: str | None) -> dict:
        summary = self.summary(pairs, engine, device)
        self.output.write_summary(summary)
        return summary


def scan(config: ScanConfig, *, show_progress: bool = False) -> dict:
    """Scan an archive for contradicting statements; returns the summary (also in ``summary.json``).

    Example::

        from nli_check.scan import ScanConfig, scan
        summary = scan(ScanConfig(archives=("news.jsonl",), output="conflicts/"))
        summary["conflicts"]
    """
    if config.engine == "ray":
        from nli_check.scan.ray_engine import scan_ray

        return scan_ray(config, show_progress=show_progress)
    run = ScanRun(config, show_progress)
    if not run.store.complete:
        run.build_store_local()
        run.finish_store()
    run.check_strict(run.store.malformed)
    pairs = run.search()
    run.classify_local(pairs)
    device = str(run._model.device) if run._model is not None else None
    return run.finish(pairs, "local", device)


def _open_index(config: ScanConfig):
    """The current generation of an index folder given as the archive (``None`` for files)."""
    from nli_check.archive import is_index, open_for_scan

    if len(config.archives) != 1 or not is_index(config.archives[0]):
        return None
    return open_for_scan(config.archives[0], config.embedding_model)


def group_copies(source: Path, text: np.ndarray, target: Path) -> None:
    """Move the pairs in ``source`` to ``target`` with the pairs of the same two texts (copies
    of two sentences in many articles) next to each other, so they fall in one NLI shard and
    are put to the model once. Archives without copies keep their order."""
    pairs = np.load(source)
    if len(pairs) and len(np.unique(text)) < len(text):
        ta, tb = np.asarray(text[pairs["a"]]), np.asarray(text[pairs["b"]])
        lo, hi = np.minimum(ta, tb), np.maximum(ta, tb)
        pairs = pairs[np.lexsort((pairs["b"], pairs["a"], hi, lo))]
    save_npy_atomic(target, pairs)
    source.unlink()


def summary_json(summary: dict) -> str:
    return json.dumps(summary, indent=2, sort_keys=True)
