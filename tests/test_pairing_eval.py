"""The pairing benchmark's scoring (``nli_check.pairing_eval``): ranks by meaning and by words."""

from __future__ import annotations

import numpy as np

from nli_check.pairing_eval import Bench, Query, measure

CLAIM = "A bank manager was jailed at Wexcombe Crown Court."
GOLD = "Martin Hale was sentenced at Wexcombe Crown Court on Friday."
BANK = "The bank was open."
DISTRACTORS = [f"The weather on day {i} was fine." for i in range(30)] + [BANK]


def _embed(texts: list[str]) -> np.ndarray:
    """The claim and the weather sentences point one way, the gold sentence and the bank another:
    by meaning alone, those two are last."""
    rows = []
    for text in texts:
        if text in (GOLD, BANK):
            rows.append([0.05, 1.0])
        elif text == CLAIM:
            rows.append([1.0, 0.1])
        else:
            rows.append([1.0, 0.2 + 0.001 * len(text)])
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _bench() -> Bench:
    return Bench([Query(CLAIM, GOLD, "contradiction", "court")], {"court": DISTRACTORS}, {CLAIM: {GOLD}})


def test_shared_rare_words_reach_evidence_that_meaning_misses():
    result = measure(_bench(), _embed, [40], hybrid=(5, 2, -1.0))[0][40]
    assert result.pool_size == 32  # every distractor and the gold sentence
    assert result.rank[0] == 30  # every weather sentence is nearer by meaning
    assert result.lexical_rank[0] == 0  # nothing shares as many, or as rare, words
    assert result.recall(5, -1.0) == 0.0
    assert result.recall(5, -1.0, lexical_k=1) == 1.0
    # the floor applies to pairs by words too: the gold sentence's cosine is about 0.15
    assert result.recall(5, 0.2, lexical_k=2) == 0.0
    # 5 by meaning, and by words the gold sentence and the bank ("bank")
    assert result.hybrid_candidates.tolist() == [7]


def test_without_pairing_by_words_nothing_is_counted():
    result = measure(_bench(), _embed, [40])[0][40]
    assert result.lexical_rank is None and result.hybrid_candidates is None
    assert result.recall(5, -1.0, lexical_k=2) == 0.0
