"""``ScanConfig``: everything one scan runs with, validated in one place."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from nli_check.errors import NLICheckError
from nli_check.labels import SCAN_THRESHOLD
from nli_check.scan.output import OUTPUT_FORMATS
from nli_check.scan.reader import FieldMap
from nli_check.scan.search import SearchSettings

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class ScanConfig:
    """How to scan an archive.

    Settings that change the results (models, fields, search and threshold, shard size,
    output format) are fingerprinted into the output directory; the others (device, batch
    sizes, engine, store location) can change between a killed run and its resumption.
    """

    archives: tuple[str, ...]
    output: str
    model: str | None = None
    embedding_model: str | None = None
    fields: FieldMap = field(default_factory=FieldMap)
    search: SearchSettings = field(default_factory=SearchSettings)
    #: Report contradictions with at least this calibrated confidence.
    threshold: float = SCAN_THRESHOLD
    #: Read at most this many (good) records.
    limit: int | None = None
    strict: bool = False
    output_format: str = "parquet"
    overwrite: bool = False
    device: str = "auto"
    batch_size: int = 32
    max_tokens: int | None = None
    max_length: int | None = None
    #: ``torch``, ``onnx`` (ONNX Runtime, CPU) or ``auto`` (the fastest that kept accuracy), for
    #: the NLI model and the embedder.
    backend: str = "auto"
    #: ``int8``, ``none`` or ``auto``: dynamic int8 quantisation of the NLI model (CPU only).
    quantize: str | None = "auto"
    #: Where embedding stores live (``None``: :func:`~nli_check.scan.store.default_store_dir`).
    store_dir: str | None = None
    #: Archive items (records, good or not) per store shard.
    shard_records: int = 500
    #: Candidate pairs per NLI shard (the unit of committed progress and of output files).
    shard_pairs: int = 4096
    engine: str = "local"
    ray_address: str | None = None
    #: Actors per Ray actor pool (embedding, NLI).
    ray_actors: int = 1

    def __post_init__(self) -> None:
        if not self.archives:
            raise NLICheckError(
                "no archive given: pass one or more JSONL, CSV or Parquet files or a directory"
            )
        object.__setattr__(self, "archives", tuple(str(a) for a in self.archives))
        if not 0.0 <= self.threshold <= 1.0:
            raise NLICheckError(f"--threshold must be between 0 and 1, got {self.threshold}")
        if self.limit is not None and self.limit < 1:
            raise NLICheckError(f"--limit must be at least 1, got {self.limit}")
        if self.output_format not in OUTPUT_FORMATS:
            raise NLICheckError(
                f"unknown output format {self.output_format!r}: use parquet or jsonl"
            )
        for name in ("batch_size", "shard_records", "shard_pairs", "ray_actors"):
            if getattr(self, name) < 1:
                raise NLICheckError(
                    f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}"
                )
        if self.max_tokens is not None and self.max_tokens < 16:
            raise NLICheckError(f"--max-tokens must be at least 16, got {self.max_tokens}")
        from nli_check.nli import resolve_mode

        resolve_mode(self.backend, self.quantize)  # a bad value fails here, before any work
        if self.engine not in ENGINES:
            raise NLICheckError(f"unknown engine {self.engine!r}: use local or ray")
        if self.ray_address and self.engine != "ray":
            raise NLICheckError("--ray-address needs --engine ray")

    def model_name(self) -> str:
        """The NLI model as fingerprinted: an absolute path for a local model, else as given."""
        if self.model is None:
            from nli_check.models import default_model_path

            return str(default_model_path())
        path = Path(self.model).expanduser()
        return str(path.resolve()) if path.exists() else str(self.model)

    def embedding_name(self) -> str:
        if self.embedding_model is None:
            from nli_check.models import DEFAULT_EMBEDDER

            return DEFAULT_EMBEDDER
        path = Path(self.embedding_model).expanduser()
        return str(path.resolve()) if path.exists() else str(self.embedding_model)

    def result_settings(self, archive_hash: str) -> dict:
        """The settings that decide the results: a resumed run must match them exactly."""
        search = self.search.to_dict()
        return {
            "archive_sha256": archive_hash,
            "fields": self.fields.to_dict(),
            "limit": self.limit,
            "model": self.model_name(),
            "max_length": self.max_length,
            "backend": self.backend,
            "quantize": self.quantize,
            "embedding_model": self.embedding_name(),
            "search": search,
            "threshold": self.threshold,
            "shard_pairs": self.shard_pairs,
            "output_format": self.output_format,
        }

    def store_root(self) -> Path:
        from nli_check.scan.store import default_store_dir

        return Path(self.store_dir).expanduser() if self.store_dir else default_store_dir()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["archives"] = [os.fspath(a) for a in self.archives]
        return data
