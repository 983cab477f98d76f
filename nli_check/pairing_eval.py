"""How many claims reach their evidence: recall of the pairing step on held-out claim sets.

Each query is a held-out claim with its gold evidence *sentence* (a pair whose evidence is one
sentence), labelled entailment or contradiction. The gold sentence is hidden in a pool of
distractors: evidence sentences of the same sets (every premise of the set's file, split into
sentences). A claim is *paired* with its evidence at ``(top_k, min_similarity)`` when fewer
than ``top_k`` pool sentences are more similar to it than the gold one, and the gold one's
cosine is at least ``min_similarity``. That is exactly the condition under which ``check``
(and, over an archive, ``scan``) hands the pair to the NLI model.

:func:`load_queries` builds the queries and pools once; :func:`measure` scores one embedder
on them at every ``top_k`` and floor of a grid, and counts the candidate pairs per sentence
(the NLI model's cost) at each point.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nli_check.labels import CONTRADICTION, ENTAILMENT

logger = logging.getLogger(__name__)

#: The grids the curves are drawn on.
TOP_KS = (1, 2, 3, 5, 8, 10, 15, 20, 30, 50)
FLOORS = tuple(round(x, 2) for x in np.arange(-0.2, 0.91, 0.05))


@dataclass(frozen=True)
class Query:
    claim: str
    evidence: str
    label: str
    dataset: str


@dataclass
class Bench:
    """Queries and the sentences their distractors are drawn from, per set."""

    queries: list[Query]
    sentences: dict[str, list[str]]
    #: gold evidence texts of each claim (a claim may have several): never a distractor for it
    golds: dict[str, set[str]] = field(default_factory=dict)


def _sentences(text: str) -> list[str]:
    from nli_check.text import sentence_spans

    return [text[a:b] for a, b in sentence_spans(text)]


def load_queries(sets: Sequence[tuple[str, str | Path, float]], max_per_set: int | None = None,
                 seed: int = 0) -> Bench:
    """``sets`` are ``(name, path, holdout)``: the dev part of each file (by pair hash, as the
    recipes hold it out; ``holdout = 0`` for a whole dev file) gives the queries, the whole
    file's premises the distractor sentences. Only entailment and contradiction pairs whose
    evidence is one sentence are queries; at most ``max_per_set`` per set (seeded sample)."""
    from nli_check.data import read_pairs, split_pairs

    queries: list[Query] = []
    sentences: dict[str, list[str]] = {}
    golds: dict[str, set[str]] = {}
    for name, path, holdout in sets:
        data = read_pairs(path, name=name)
        dev = split_pairs(data, holdout, "dev") if holdout else data
        found = []
        for premise, claim, label in zip(dev.premises, dev.hypotheses, dev.labels):
            if label not in (ENTAILMENT, CONTRADICTION):
                continue
            parts = _sentences(premise)
            if len(parts) == 1:
                found.append(Query(claim, parts[0], label, name))
        if max_per_set is not None and len(found) > max_per_set:
            found = random.Random(f"{seed}:{name}").sample(found, max_per_set)
        queries.extend(found)
        pool = {s for premise in set(data.premises) for s in _sentences(premise)}
        sentences[name] = sorted(pool)
        for premise, claim in zip(data.premises, data.hypotheses):
            golds.setdefault(claim, set()).update(_sentences(premise))
        logger.info("%-10s %5d queries, %6d evidence sentences", name, len(found), len(pool))
    return Bench(queries, sentences, golds)


@dataclass
class PoolResult:
    """Ranks and similarities of the gold evidence of every query in one pool size."""

    pool_size: int
    labels: np.ndarray            # per query
    datasets: np.ndarray          # per query
    gold_similarity: np.ndarray   # per query
    rank: np.ndarray              # distractors strictly more similar than the gold sentence
    #: per query and floor (FLOORS): pool sentences (gold included) with similarity >= floor
    above_floor: np.ndarray
    #: per query: distractors that share more (BM25) with the claim than the gold sentence;
    #: a large number where the gold sentence shares no word with it
    lexical_rank: np.ndarray | None = None
    #: per query, at ``hybrid`` = (top_k, lexical_k, floor): candidate pairs by meaning and by words
    hybrid: tuple[int, int, float] | None = None
    hybrid_candidates: np.ndarray | None = None

    def recall(self, top_k: int, floor: float, label: str | None = None, dataset: str | None = None,
               lexical_k: int = 0) -> float:
        keep = np.ones(len(self.rank), dtype=bool)
        if label is not None:
            keep &= self.labels == label
        if dataset is not None:
            keep &= self.datasets == dataset
        if not keep.any():
            return float("nan")
        paired = self.rank < top_k
        if lexical_k and self.lexical_rank is not None:
            paired |= self.lexical_rank < lexical_k
        hit = paired & (self.gold_similarity >= floor - 1e-6)
        return float(hit[keep].mean())

    def candidates_per_sentence(self, top_k: int, floor: float) -> float:
        """Mean number of candidate pairs a sentence gets (each is one NLI call)."""
        column = _floor_index(floor)
        return float(np.minimum(self.above_floor[:, column], top_k).mean())


def _floor_index(floor: float) -> int:
    for i, f in enumerate(FLOORS):
        if abs(f - floor) < 1e-6:
            return i
    raise ValueError(f"floor {floor} is not on the grid {FLOORS}")


def measure(bench: Bench, embed: Callable[[list[str]], np.ndarray], pool_sizes: Sequence[int],
            seed: int = 0, hybrid: tuple[int, int, float] | None = None) -> tuple[dict[int, PoolResult], dict]:
    """Score ``embed`` (texts -> L2-normalised rows) on ``bench`` in pools of each size.

    The largest pool draws from all sets' sentences; smaller pools draw from the query's own
    set. The distractors are the same for every embedder (seeded). With ``hybrid`` = (top_k,
    lexical_k, floor), pairing by shared words is scored too (BM25, as ``check`` pairs with
    ``--lexical-k``; its word statistics come from the largest pool and the gold sentences), with
    the candidate pairs per sentence at that setting. Returns the results per pool size and the
    embedding figures (sentences, seconds)."""
    rng = np.random.default_rng(seed)
    everything = sorted({s for pool in bench.sentences.values() for s in pool})
    largest = max(pool_sizes)
    global_pool = everything if len(everything) <= largest else sorted(
        rng.choice(everything, size=largest, replace=False).tolist())
    texts = sorted(set(global_pool) | {q.claim for q in bench.queries} | {q.evidence for q in bench.queries})
    started = time.perf_counter()
    vectors = embed(texts)
    seconds = time.perf_counter() - started
    row = {t: i for i, t in enumerate(texts)}
    pool_rows = np.array([row[t] for t in global_pool])
    pool_vectors = vectors[pool_rows]
    set_members = {name: np.flatnonzero(np.isin(global_pool, pool)) for name, pool in bench.sentences.items()}

    claims = vectors[[row[q.claim] for q in bench.queries]]
    gold = np.einsum("ij,ij->i", claims, vectors[[row[q.evidence] for q in bench.queries]])
    results = {}
    floors = np.array(FLOORS, dtype=np.float32)
    position = {t: i for i, t in enumerate(global_pool)}
    banned = [np.array(sorted(position[t] for t in (bench.golds.get(q.claim, set()) | {q.evidence}) if t in position),
                       dtype=np.int64) for q in bench.queries]
    lexical = _lexical_scores(bench, global_pool) if hybrid else None
    for size in sorted(pool_sizes):
        lexical_rank = np.full(len(bench.queries), np.iinfo(np.int64).max, dtype=np.int64) if hybrid else None
        candidates = np.zeros(len(bench.queries), dtype=np.int64) if hybrid else None
        ranks = np.zeros(len(bench.queries), dtype=np.int64)
        above = np.zeros((len(bench.queries), len(FLOORS)), dtype=np.int64)
        actual = []
        draw = np.random.default_rng(seed + size)
        for qi, query in enumerate(bench.queries):
            if size == largest:
                members = np.arange(len(global_pool))
            else:
                members = set_members[query.dataset]
                if len(members) > size + 20:
                    members = draw.choice(members, size=size + 20, replace=False)
            members = members[~np.isin(members, banned[qi])][: size - 1]
            actual.append(len(members) + 1)
            sims = pool_vectors[members] @ claims[qi]
            ranks[qi] = int((sims > gold[qi]).sum())
            above[qi] = _counts_above(sims, floors) + (gold[qi] >= floors - 1e-6)
            if hybrid:
                pool_scores, gold_score = lexical(qi, members)
                if gold_score > 0:
                    lexical_rank[qi] = int((pool_scores > gold_score).sum())
                candidates[qi] = _union_size(np.append(sims, gold[qi]), np.append(pool_scores, gold_score), *hybrid)
        results[size] = PoolResult(
            pool_size=int(np.median(actual)),
            labels=np.array([q.label for q in bench.queries]),
            datasets=np.array([q.dataset for q in bench.queries]),
            gold_similarity=gold, rank=ranks, above_floor=above, lexical_rank=lexical_rank,
            hybrid=hybrid, hybrid_candidates=candidates,
        )
    return results, {"sentences": len(texts), "seconds": round(seconds, 2),
                     "sentences_per_second": round(len(texts) / max(seconds, 1e-9), 1)}


def _lexical_scores(bench: Bench, global_pool: list[str]) -> Callable[[int, np.ndarray], tuple[np.ndarray, float]]:
    """``scores(query index, pool members)``: the BM25 scores of the members (indices into
    ``global_pool``) and of the gold sentence for that query's claim."""
    from nli_check.pairing import quiet_bm25s

    bm25s = quiet_bm25s()

    golds = sorted({q.evidence for q in bench.queries} - set(global_pool))
    corpus_texts = list(global_pool) + golds
    where = {t: i for i, t in enumerate(corpus_texts)}
    corpus = bm25s.tokenize(corpus_texts, stopwords="en", return_ids=False, show_progress=False)
    vocabulary = {token for sentence in corpus for token in sentence}
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    cache: dict[int, np.ndarray] = {}

    def scores(qi: int, members: np.ndarray) -> tuple[np.ndarray, float]:
        if qi not in cache:
            query = bench.queries[qi]
            tokens = [t for t in bm25s.tokenize([query.claim], stopwords="en", return_ids=False,
                                                show_progress=False)[0] if t in vocabulary]
            cache.clear()
            cache[qi] = (np.asarray(retriever.get_scores(tokens), dtype=np.float64) if tokens
                         else np.zeros(len(corpus_texts)))
        row = cache[qi]
        return row[members], float(row[where[bench.queries[qi].evidence]])

    return scores


def _union_size(sims: np.ndarray, scores: np.ndarray, top_k: int, lexical_k: int, floor: float) -> int:
    """Candidate pairs of one claim: its top-k by similarity and its top lexical-k by shared
    words (score > 0), each at or above the similarity floor."""
    order = np.lexsort((np.arange(len(sims)), -sims))[:top_k]
    dense = {int(i) for i in order if sims[i] >= floor - 1e-6}
    ranked = np.lexsort((np.arange(len(scores)), -scores))[:lexical_k]
    words = {int(i) for i in ranked if scores[i] > 0 and sims[i] >= floor - 1e-6}
    return len(dense | words)


def _counts_above(sims: np.ndarray, floors: np.ndarray) -> np.ndarray:
    ordered = np.sort(sims)
    return len(ordered) - np.searchsorted(ordered, floors - 1e-6, side="left")


def summarise(result: PoolResult) -> dict:
    """Recall (per label and per set) on the TOP_KS x FLOORS grid, and candidates per sentence."""
    out: dict = {"pool_size": result.pool_size, "top_ks": list(TOP_KS), "floors": list(FLOORS), "recall": {},
                 "median_gold_similarity": {}, "queries": {}}
    for label in (CONTRADICTION, ENTAILMENT):
        out["recall"][label] = [[round(result.recall(k, f, label), 4) for k in TOP_KS] for f in FLOORS]
        chosen = result.labels == label
        out["median_gold_similarity"][label] = round(float(np.median(result.gold_similarity[chosen])), 4)
        out["queries"][label] = int(chosen.sum())
    out["candidates_per_sentence"] = [[round(result.candidates_per_sentence(k, f), 3) for k in TOP_KS]
                                      for f in FLOORS]
    return out


__all__ = ["Bench", "FLOORS", "PoolResult", "Query", "TOP_KS", "load_queries", "measure", "summarise"]
