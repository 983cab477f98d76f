"""Exact cosine top-k pairing, and pairing by shared words."""

from __future__ import annotations

import numpy as np
import pytest

from nli_check.errors import NLICheckError
from nli_check.pairing import candidate_pairs, lexical_pairs, same_sentence_mask
from nli_check.types import Sentence


def _unit(rows):
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


CLAIMS = _unit([[1, 0, 0], [0, 1, 0]])
EVIDENCE = _unit([[1, 0.1, 0], [0.9, 0.5, 0], [0, 0, 1], [0.1, 1, 0]])


def test_top_k_order_and_floor():
    pairs = candidate_pairs(CLAIMS, EVIDENCE, top_k=2, min_similarity=0.3)
    assert [(i, j) for i, j, _ in pairs] == [(0, 0), (0, 1), (1, 3), (1, 1)]
    sims = [s for *_, s in pairs]
    assert sims[0] > sims[1] and sims[2] > sims[3]
    assert all(0.3 <= s <= 1.0 for s in sims)
    np.testing.assert_allclose(sims[0], float(CLAIMS[0] @ EVIDENCE[0]), rtol=1e-6)


def test_floor_drops_unrelated_and_k_larger_than_evidence():
    pairs = candidate_pairs(CLAIMS, EVIDENCE, top_k=10, min_similarity=0.5)
    assert (0, 2) not in {(i, j) for i, j, _ in pairs}
    assert len([p for p in pairs if p[0] == 0]) == 2


def test_exclude_pairs_and_mask():
    pairs = candidate_pairs(CLAIMS, EVIDENCE, top_k=1, min_similarity=0.0, exclude={(0, 0)})
    assert pairs[0][:2] == (0, 1)
    mask = np.zeros((2, 4), dtype=bool)
    mask[1, 3] = True
    pairs = candidate_pairs(CLAIMS, EVIDENCE, top_k=1, min_similarity=0.0, exclude=mask)
    assert pairs[1][:2] == (1, 1)
    everything = np.ones((2, 4), dtype=bool)
    assert candidate_pairs(CLAIMS, EVIDENCE, top_k=3, min_similarity=0.0, exclude=everything) == []


def test_never_pairs_a_sentence_with_itself():
    sentences = [Sentence("a", "doc", 0, 1, 0), Sentence("b", "doc", 2, 3, 1), Sentence("a", "other", 0, 1, 0)]
    mask = same_sentence_mask(sentences, sentences)
    assert mask.tolist() == [[True, False, False], [False, True, False], [False, False, True]]
    vectors = _unit([[1, 0], [0.9, 0.1], [1, 0]])
    pairs = candidate_pairs(vectors, vectors, top_k=3, min_similarity=0.0, exclude=mask)
    assert all(i != j for i, j, _ in pairs)
    assert (0, 2) in {(i, j) for i, j, _ in pairs}  # same text, other document: still paired


def test_bad_arguments():
    with pytest.raises(NLICheckError, match="top-k"):
        candidate_pairs(CLAIMS, EVIDENCE, top_k=0, min_similarity=0.0)
    with pytest.raises(ValueError, match="dimension"):
        candidate_pairs(CLAIMS, EVIDENCE[:, :2], top_k=1, min_similarity=0.0)
    assert candidate_pairs(CLAIMS[:0], EVIDENCE, top_k=1, min_similarity=0.0) == []


def test_large_block_matches_bruteforce():
    rng = np.random.default_rng(0)
    claims, evidence = _unit(rng.normal(size=(1500, 8))), _unit(rng.normal(size=(40, 8)))
    pairs = candidate_pairs(claims, evidence, top_k=3, min_similarity=-1.0)
    assert len(pairs) == 4500
    sims = claims @ evidence.T
    for i in (0, 1024, 1499):
        expected = list(np.argsort(-sims[i], kind="stable")[:3])
        assert [j for c, j, _ in pairs if c == i] == expected


LEXICAL_EVIDENCE = [
    "Martin Hale appeared for sentencing at Wexcombe Crown Court on Friday.",
    "The weather was fine.",
    "Wexcombe is a market town.",
    "It is.",
    "Crown green bowls is popular in the town.",
]


def test_lexical_pairs_rank_shared_rare_words_first():
    claim = "A bank manager was jailed at Wexcombe Crown Court on Thursday."
    assert lexical_pairs([claim], LEXICAL_EVIDENCE, top_k=2) == [(0, 0), (0, 2)]
    assert lexical_pairs([claim], LEXICAL_EVIDENCE, top_k=10) == [(0, 0), (0, 2), (0, 4)]  # shared words only
    assert lexical_pairs([claim], LEXICAL_EVIDENCE, top_k=2, exclude={(0, 0)}) == [(0, 2), (0, 4)]
    assert lexical_pairs([claim], LEXICAL_EVIDENCE, top_k=0) == []


def test_lexical_pairs_without_shared_words_or_words_at_all():
    assert lexical_pairs(["Bananas are yellow."], LEXICAL_EVIDENCE, top_k=3) == []
    assert lexical_pairs(["It is what it is."], LEXICAL_EVIDENCE, top_k=3) == []  # stop words only
    assert lexical_pairs(["Wexcombe."], ["It is.", "A"], top_k=3) == []  # evidence of stop words only
    assert lexical_pairs([], LEXICAL_EVIDENCE, top_k=3) == [] == lexical_pairs(["Wexcombe."], [], top_k=3)
    # ties go to the earlier sentence, the same way every time
    assert lexical_pairs(["Wexcombe court."], ["Wexcombe court.", "Wexcombe court."], top_k=1) == [(0, 0)]
