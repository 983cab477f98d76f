"""Candidate pairs: for each claim, the evidence sentences most similar to it.

:func:`candidate_pairs` is exact cosine top-k with numpy, for the small inputs of ``check``;
:func:`lexical_pairs` adds those that share the most rare words with it (BM25).
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
#: ``check`` also pairs each claim with this many evidence sentences by the words they share
#: (:func:`lexical_pairs`), on top of its ``top_k`` by meaning.
CHECK_LEXICAL_K = 2

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


def lexical_pairs(
    claims: Sequence[str],
    evidence: Sequence[str],
    *,
    top_k: int,
    exclude: Iterable[tuple[int, int]] | np.ndarray | None = None,
) -> list[tuple[int, int]]:
    """``(claim index, evidence index)`` for each claim's ``top_k`` evidence sentences by BM25:
    those that share the most, and the rarest, words with it ("Wexcombe Crown Court").

    Embedders can put two statements of one dispute far apart ("jailed at Wexcombe Crown Court
    on Thursday" / "appeared for sentencing at Wexcombe Crown Court on Friday 13 March"); the
    words they share still find them. Sentences that share no word (stop words aside) with a
    claim are never its pairs. ``exclude`` is as for :func:`candidate_pairs`. Ties go to the
    earlier evidence sentence, so the result is deterministic.
    """
    if top_k < 1 or not len(claims) or not len(evidence):
        return []
    bm25s = quiet_bm25s()

    def tokens(texts: Sequence[str]) -> list[list[str]]:
        return bm25s.tokenize(list(texts), stopwords="en", return_ids=False, show_progress=False)

    corpus = tokens(evidence)
    vocabulary = {token for sentence in corpus for token in sentence}
    if not vocabulary:
        return []
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    mask = _exclusion_mask(exclude, len(claims), len(evidence))
    pairs: list[tuple[int, int]] = []
    for i, query in enumerate(tokens(claims)):
        known = [token for token in query if token in vocabulary]
        if not known:
            continue
        scores = np.asarray(retriever.get_scores(known), dtype=np.float64)
        if mask is not None:
            scores = np.where(mask[i], 0.0, scores)
        ranked = np.lexsort((np.arange(len(scores)), -scores))
        pairs.extend((i, int(j)) for j in ranked[:top_k] if scores[j] > 0)
    return pairs


def quiet_bm25s():
    """The ``bm25s`` module, its logger kept to warnings (it sets its own to DEBUG on import, which
    would put "Building index from tokens" among nli-check's logs)."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


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
