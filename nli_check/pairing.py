"""Candidate pairs: for each claim, the evidence sentences most similar to it.

:func:`candidate_pairs` is exact cosine top-k with numpy, for the small inputs of ``check``.
Embeddings must be L2-normalised (as :class:`~nli_check.embed.Embedder` returns them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.types import Sentence

#: Pairing defaults of ``check`` and ``scan``, chosen from the recall curves of
#: ``scripts/bench_pairing.py`` (docs/bench-pairing.json, README "Pairing"). ``min_similarity``
#: means the same in both: the cosine similarity (-1 to 1) a pair needs; of each sentence's
#: ``top_k`` most similar, only those at or above it are put to the NLI model.
CHECK_TOP_K = 5
SCAN_TOP_K = 5
MIN_SIMILARITY = 0.2

#: Rows of the similarity matrix computed at a time, to bound memory.
_BLOCK = 1024


def candidate_pairs(
    claim_embeddings: np.ndarray,
    evidence_embeddings: np.ndarray,
    *,
    top_k: int,
    min_similarity: float,
    exclude: Iterable[tuple[int, int]] | np.ndarray | None = None,
) -> list[tuple[int, int, float]]:
    """``(claim index, evidence index, cosine similarity)`` for each claim's top-k evidence.

    Only pairs with similarity ``>= min_similarity`` are kept. ``exclude`` is a set of
    ``(claim, evidence)`` index pairs, or a boolean mask of shape ``(claims, evidence)``, that
    are never paired (a sentence with itself, or with its own document). Results are ordered
    by claim index, then by similarity, highest first.
    """
    if top_k < 1:
        raise NLICheckError(f"top-k must be at least 1, got {top_k}")
    claims = np.asarray(claim_embeddings, dtype=np.float32)
    evidence = np.asarray(evidence_embeddings, dtype=np.float32)
    if claims.ndim != 2 or evidence.ndim != 2:
        raise ValueError("embeddings must be 2-D arrays (rows are sentences)")
    if len(claims) == 0 or len(evidence) == 0:
        return []
    if claims.shape[1] != evidence.shape[1]:
        raise ValueError(
            f"claim and evidence embeddings differ in dimension ({claims.shape[1]} vs {evidence.shape[1]})"
        )
    mask = _exclusion_mask(exclude, len(claims), len(evidence))
    k = min(top_k, len(evidence))
    pairs: list[tuple[int, int, float]] = []
    for block_start in range(0, len(claims), _BLOCK):
        sims = claims[block_start : block_start + _BLOCK] @ evidence.T
        if mask is not None:
            sims = np.where(mask[block_start : block_start + _BLOCK], -np.inf, sims)
        if k < sims.shape[1]:
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            top = np.broadcast_to(np.arange(sims.shape[1]), (sims.shape[0], sims.shape[1]))
        for row in range(sims.shape[0]):
            cols = top[row]
            values = sims[row, cols]
            order = np.lexsort((cols, -values))
            for col, value in zip(cols[order], values[order]):
                if np.isfinite(value) and value >= min_similarity:
                    pairs.append((block_start + row, int(col), float(min(value, 1.0))))
    return pairs


def _exclusion_mask(exclude, n_claims: int, n_evidence: int) -> np.ndarray | None:
    if exclude is None:
        return None
    if isinstance(exclude, np.ndarray):
        if exclude.shape != (n_claims, n_evidence):
            raise ValueError(f"exclude mask has shape {exclude.shape}, expected {(n_claims, n_evidence)}")
        return exclude.astype(bool)
    mask = np.zeros((n_claims, n_evidence), dtype=bool)
    for i, j in exclude:
        mask[i, j] = True
    return mask


def same_sentence_mask(claims: Sequence[Sentence], evidence: Sequence[Sentence]) -> np.ndarray:
    """Boolean mask, True where a claim and an evidence sentence are the same sentence
    (same source and offsets)."""
    index = {(s.source, s.start, s.end): j for j, s in enumerate(evidence)}
    mask = np.zeros((len(claims), len(evidence)), dtype=bool)
    for i, s in enumerate(claims):
        j = index.get((s.source, s.start, s.end))
        if j is not None:
            mask[i, j] = True
    return mask
