"""The scan output directory: conflict shards, the run manifest, the summary.

Layout::

    OUTPUT/
      scan.json                    what ran: settings fingerprint (written first)
      conflicts/part-00000.parquet conflicts of pair shard 0 (or .jsonl), possibly empty
      state/                       search results, candidate pairs, per-shard counts
      summary.json                 counts, malformed records, throughput (written last)

Every file is written to a temporary name and moved into place with ``os.replace``, so a
file that exists is whole: a pair shard is done exactly when its conflicts file exists.
Files nli-check did not write, or that do not parse, are refused with an error, never
overwritten.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from nli_check.errors import NLICheckError
from nli_check.scan.store import atomic_write_bytes, atomic_write_json, read_json

MANIFEST = "scan.json"
SUMMARY = "summary.json"
FORMAT_TAG = "nli-check-scan"
FORMAT_VERSION = 2
OUTPUT_FORMATS = ("parquet", "jsonl")
_KNOWN = {MANIFEST, SUMMARY, "conflicts", "state"}
_TMP = re.compile(r"^\..+\.tmp$")

#: Columns of a conflict row, in order. ``a`` is the earlier sentence of the archive.
SIDE_FIELDS = (
    "sentence",
    "text",
    "article_id",
    "source",
    "date",
    "start",
    "end",
    "index",
    "speaker",
    "cue",
)
CONFLICT_COLUMNS = (
    tuple(f"a_{f}" for f in SIDE_FIELDS)
    + tuple(f"b_{f}" for f in SIDE_FIELDS)
    + (
        "label",
        "confidence",
        "similarity",
        "view",
        "reason",
        "p_contradiction",
        "p_entailment",
        "p_neutral",
    )
)


def conflict_schema():
    import pyarrow as pa

    side = {
        "sentence": pa.int64(),
        "text": pa.string(),
        "article_id": pa.string(),
        "source": pa.string(),
        "date": pa.string(),
        "start": pa.int32(),
        "end": pa.int32(),
        "index": pa.int32(),
        "speaker": pa.string(),
        "cue": pa.string(),
    }
    fields = [(f"{p}_{name}", kind) for p in ("a", "b") for name, kind in side.items()]
    fields += [
        ("label", pa.string()),
        ("confidence", pa.float32()),
        ("similarity", pa.float32()),
        ("view", pa.string()),
        ("reason", pa.string()),
        ("p_contradiction", pa.float32()),
        ("p_entailment", pa.float32()),
        ("p_neutral", pa.float32()),
    ]
    return pa.schema(fields)


class OutputDir:
    """An output directory owned by one scan configuration.

    Opening it checks that it is empty, or holds a scan with the same ``settings``; with
    ``overwrite`` a scan with other settings (or a damaged one) is cleared first. Files that
    nli-check did not write are never touched.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        settings: dict,
        *,
        output_format: str = "parquet",
        overwrite: bool = False,
    ) -> None:
        if output_format not in OUTPUT_FORMATS:
            raise NLICheckError(f"unknown output format {output_format!r}: use parquet or jsonl")
        self.path = Path(path).expanduser()
        self.format = output_format
        self.settings = settings
        self.resumed = False
        self._open(overwrite)

    # ----------------------------------------------------------------- validation
    def _open(self, overwrite: bool) -> None:
        path = self.path
        if path.exists() and not path.is_dir():
            raise NLICheckError(f"--output {path} is a file: give a directory")
        path.mkdir(parents=True, exist_ok=True)
        entries = sorted(p.name for p in path.iterdir())
        foreign = [e for e in entries if e not in _KNOWN and not _TMP.match(e)]
        if foreign:
            raise NLICheckError(
                f"{path} holds files nli-check scan did not write ({', '.join(foreign[:5])}): "
                "choose a new or empty --output directory"
            )
        if not entries:
            self._start()
            return
        manifest_path = path / MANIFEST
        manifest = None
        problem = None
        if not manifest_path.exists():
            problem = f"{path} has no {MANIFEST} but holds {', '.join(entries)}"
        else:
            try:
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
                if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_TAG:
                    problem = f"{manifest_path} is not an nli-check scan manifest"
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                problem = f"{manifest_path} is corrupt"
        if problem is not None:
            if not overwrite:
                raise NLICheckError(
                    f"{problem}: use --overwrite to start the scan again, or a new --output"
                )
            self._clear()
            self._start()
            return
        if manifest.get("version") != FORMAT_VERSION:
            raise NLICheckError(
                f"{path} was written by another version of nli-check scan: use a new --output "
                "directory or --overwrite"
            )
        old = manifest.get("settings", {})
        if old != self.settings:
            if not overwrite:
                changed = sorted(
                    k for k in set(old) | set(self.settings) if old.get(k) != self.settings.get(k)
                )
                raise NLICheckError(
                    f"{path} holds a scan with different settings ({', '.join(changed)}): "
                    "use a new --output directory, or --overwrite to replace it"
                )
            self._clear()
            self._start()
            return
        if overwrite:
            self._clear()
            self._start()
            return
        self._check_contents()
        self.resumed = True

    def _start(self) -> None:
        atomic_write_json(
            self.path / MANIFEST,
            {"format": FORMAT_TAG, "version": FORMAT_VERSION, "settings": self.settings},
        )
        (self.path / "conflicts").mkdir(exist_ok=True)
        (self.path / "state").mkdir(exist_ok=True)

    def _clear(self) -> None:
        for name in (SUMMARY, MANIFEST):
            (self.path / name).unlink(missing_ok=True)
        for name in ("conflicts", "state"):
            target = self.path / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        for entry in self.path.iterdir():
            if _TMP.match(entry.name):
                entry.unlink()

    def _check_contents(self) -> None:
        for entry in self.path.iterdir():
            if _TMP.match(entry.name):
                entry.unlink()  # left by a killed run; never a committed file
        conflicts = self.path / "conflicts"
        conflicts.mkdir(exist_ok=True)
        (self.path / "state").mkdir(exist_ok=True)
        pattern = re.compile(rf"^part-\d{{5}}\.{self.format}$")
        for entry in conflicts.iterdir():
            if _TMP.match(entry.name):
                entry.unlink()
                continue
            if not pattern.match(entry.name):
                raise NLICheckError(
                    f"{entry} was not written by this scan: move it out of {self.path} and run again"
                )
            self._check_shard(entry)

    def _check_shard(self, path: Path) -> None:
        fix = "delete it to recompute that shard, or use --overwrite"
        if self.format == "parquet":
            import pyarrow.parquet as pq

            try:
                schema = pq.read_schema(path)
            except Exception as exc:  # pyarrow raises several types for damaged files
                raise NLICheckError(f"{path} is corrupt ({exc.__class__.__name__}): {fix}") from exc
            if schema.names != list(CONFLICT_COLUMNS):
                raise NLICheckError(f"{path} is not a conflicts shard of this scan: {fix}")
        else:
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                raise NLICheckError(f"{path} is corrupt (cut short): {fix}")
            try:
                for line in data.decode("utf-8").splitlines():
                    row = json.loads(line)
                    if list(row) != list(CONFLICT_COLUMNS):
                        raise ValueError("columns")
            except (UnicodeDecodeError, ValueError) as exc:
                raise NLICheckError(f"{path} is corrupt ({exc.__class__.__name__}): {fix}") from exc
        counts = self.counts_path(int(path.name[5:10]))
        if not counts.exists():
            raise NLICheckError(f"{path} has no record in {counts.parent}: {fix}")

    # ----------------------------------------------------------------- shards
    @property
    def state_dir(self) -> Path:
        return self.path / "state"

    def shard_path(self, shard: int) -> Path:
        return self.path / "conflicts" / f"part-{shard:05d}.{self.format}"

    def counts_path(self, shard: int) -> Path:
        return self.state_dir / "shards" / f"part-{shard:05d}.json"

    def shard_done(self, shard: int) -> bool:
        return self.shard_path(shard).exists()

    def write_shard(self, shard: int, rows: list[dict], counts: dict) -> None:
        """Commit one pair shard: its counts, then its conflicts file (the commit point)."""
        atomic_write_json(self.counts_path(shard), counts)
        if self.format == "parquet":
            import io

            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist(rows, schema=conflict_schema())
            buffer = io.BytesIO()
            pq.write_table(table, buffer)
            atomic_write_bytes(self.shard_path(shard), buffer.getvalue())
        else:
            text = "".join(
                json.dumps({c: row[c] for c in CONFLICT_COLUMNS}, ensure_ascii=False) + "\n"
                for row in rows
            )
            atomic_write_bytes(self.shard_path(shard), text.encode("utf-8"))

    def shard_counts(self, shard: int) -> dict:
        return read_json(
            self.counts_path(shard),
            "shard counts",
            "delete the output directory's state/ folder and conflicts/ shards, or use --overwrite",
        )

    def write_summary(self, summary: dict) -> Path:
        path = self.path / SUMMARY
        atomic_write_json(path, summary)
        return path


def read_conflicts(path: str | os.PathLike) -> list[dict]:
    """Every conflict of a scan output directory, shard by shard, as dicts."""
    path = Path(path)
    rows: list[dict] = []
    shards = sorted((path / "conflicts").glob("part-*.*"))
    for shard in shards:
        if shard.suffix == ".parquet":
            import pyarrow.parquet as pq

            rows.extend(pq.read_table(shard).to_pylist())
        elif shard.suffix == ".jsonl":
            rows.extend(json.loads(line) for line in shard.read_text(encoding="utf-8").splitlines())
    return rows
