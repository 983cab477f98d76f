"""Candidate pair search: exact top-k with filters, dedup, the IVF index, resuming."""

from __future__ import annotations

import numpy as np
import pytest

from nli_check.scan.search import SearchSettings, neighbours, read_pairs, write_pairs
from nli_check.scan.store import NO_DAY


def _unit(rng, n, d=24, clusters=None):
    if clusters:
        centres = rng.normal(size=(clusters, d))
        x = centres[rng.integers(0, clusters, n)] + 0.35 * rng.normal(size=(n, d))
    else:
        x = rng.normal(size=(n, d))
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _filters(n, rng):
    article = np.arange(n) // 4
    return {
        "article": article,
        "source": (article % 3).astype(np.int32),
        "day": np.where(rng.random(n) < 0.1, NO_DAY, rng.integers(0, 30, n)).astype(np.int32),
    }


def _brute(emb, filters, s: SearchSettings):
    n = len(emb)
    sim = emb @ emb.T
    ok = ~np.eye(n, dtype=bool) & (sim >= s.min_similarity)
    if "text" in filters:
        ok &= filters["text"][:, None] != filters["text"][None, :]
    if not s.within_articles:
        ok &= filters["article"][:, None] != filters["article"][None, :]
    if s.across_sources_only:
        ok &= filters["source"][:, None] != filters["source"][None, :]
    if s.date_window is not None:
        day = filters["day"].astype(np.int64)
        ok &= (day[:, None] != NO_DAY) & (day[None, :] != NO_DAY)
        ok &= np.abs(day[:, None] - day[None, :]) <= s.date_window
    sim = np.where(ok, sim, -np.inf)
    out = []
    for row in range(n):
        order = np.lexsort((np.arange(n), -sim[row]))[: s.top_k]
        out.append({int(j) for j in order if np.isfinite(sim[row, j])})
    return out


@pytest.mark.parametrize(
    "settings",
    [
        SearchSettings(top_k=4, min_similarity=0.1, index="exact"),
        SearchSettings(
            top_k=3, min_similarity=0.0, index="exact", across_sources_only=True, date_window=5
        ),
        SearchSettings(top_k=5, min_similarity=0.2, index="exact", within_articles=True),
    ],
)
def test_exact_search_matches_brute_force(tmp_path, settings):
    rng = np.random.default_rng(1)
    emb = _unit(rng, 400)
    filters = _filters(400, rng)
    ids, sims, stats = neighbours(emb, filters, settings, tmp_path, block=64, db_block=150)
    assert stats["kind"] == "exact"
    got = [set(int(j) for j in row if j >= 0) for row in ids]
    assert got == _brute(emb, filters, settings)
    valid = ids >= 0
    rows = np.nonzero(valid)
    np.testing.assert_allclose(
        sims[valid], np.einsum("kd,kd->k", emb[rows[0]], emb[ids[valid]]), atol=1e-5
    )


def test_copies_of_one_sentence_are_never_paired_and_leave_room_for_others(tmp_path):
    """Copies of a sentence (wire copy in many articles) are each other's nearest neighbours;
    they are never a pair, and the neighbours after them fill the top-k."""
    from nli_check.scan.store import text_hashes

    rng = np.random.default_rng(5)
    base = _unit(rng, 60, clusters=6)
    copies = rng.integers(0, 60, 240)  # 240 sentences, copies of 60 distinct ones
    emb = np.concatenate([base, base[copies]])
    texts = [f"Sentence {i}." for i in range(60)] + [f"  sentence {i}. " for i in copies]
    filters = _filters(len(emb), rng)
    filters["text"] = text_hashes(texts)
    assert filters["text"][0] == text_hashes(["SENTENCE   0."])[0]  # case and spacing ignored
    settings = SearchSettings(top_k=4, min_similarity=0.0, index="exact")
    ids, sims, _ = neighbours(emb, filters, settings, tmp_path, block=50)
    assert (ids >= 0).all()  # four neighbours each, although every sentence has copies
    assert all(texts[i].split()[1] != texts[j].split()[1] for i, row in enumerate(ids) for j in row)
    # They are the best four with other words (up to ties between copies, which embed alike).
    sim = emb @ emb.T
    other = (filters["text"][:, None] != filters["text"][None, :]) & (
        filters["article"][:, None] != filters["article"][None, :]
    )
    fourth = np.sort(np.where(other, sim, -np.inf), axis=1)[:, -4]
    np.testing.assert_array_less(fourth - 1e-5, sims.min(axis=1))


def test_pairs_are_unique_unordered_and_never_same_article(tmp_path):
    rng = np.random.default_rng(2)
    emb = _unit(rng, 300, clusters=10)
    filters = _filters(300, rng)
    settings = SearchSettings(top_k=5, min_similarity=0.0, index="exact")
    ids, sims, _ = neighbours(emb, filters, settings, tmp_path)
    count = write_pairs(ids, sims, tmp_path / "pairs.npy", block=37)
    pairs = read_pairs(tmp_path / "pairs.npy")
    assert len(pairs) == count > 0
    keys = list(zip(pairs["a"].tolist(), pairs["b"].tolist(), strict=False))
    assert len(set(keys)) == len(keys)
    assert all(a < b for a, b in keys)
    assert not any(filters["article"][a] == filters["article"][b] for a, b in keys)
    # Every neighbour relation is represented exactly once.
    expected = {
        (min(i, int(j)), max(i, int(j))) for i, row in enumerate(ids) for j in row if j >= 0
    }
    assert set(keys) == expected


def test_ivf_index_finds_most_exact_neighbours(tmp_path):
    rng = np.random.default_rng(3)
    emb = _unit(rng, 4000, d=32, clusters=40)
    filters = _filters(4000, rng)
    exact = SearchSettings(top_k=5, min_similarity=0.3, index="exact")
    ivf = SearchSettings(top_k=5, min_similarity=0.3, index="ivf")
    e_ids, _, _ = neighbours(emb, filters, exact, tmp_path / "e")
    i_ids, i_sims, stats = neighbours(emb, filters, ivf, tmp_path / "i")
    assert stats["kind"] == "ivf"
    found = sum(len(set(a[a >= 0]) & set(b[b >= 0])) for a, b in zip(i_ids, e_ids, strict=False))
    total = int((e_ids >= 0).sum())
    assert found / total > 0.9
    # IVF proposals obey the same filters and report exact similarities.
    rows, cols = np.nonzero(i_ids >= 0)
    j = i_ids[rows, cols]
    assert not np.any(filters["article"][rows] == filters["article"][j])
    np.testing.assert_allclose(
        i_sims[rows, cols], np.einsum("kd,kd->k", emb[rows], emb[j]), atol=1e-5
    )
    assert SearchSettings().kind_for(10) == "exact" and SearchSettings().kind_for(10**6) == "ivf"


def test_search_resumes_from_committed_blocks(tmp_path):
    rng = np.random.default_rng(4)
    emb = _unit(rng, 500)
    filters = _filters(500, rng)
    settings = SearchSettings(top_k=3, min_similarity=0.0, index="exact")
    full, full_sims, _ = neighbours(emb, filters, settings, tmp_path / "full", block=100)
    full = np.array(full)
    part = tmp_path / "part"
    neighbours(emb, filters, settings, part, block=100)
    # Pretend the run died after two blocks, with garbage beyond them.
    import json

    state = json.loads((part / "search.json").read_text())
    state["rows_done"] = 200
    (part / "search.json").write_text(json.dumps(state))
    m = np.load(part / "neighbours.npy", mmap_mode="r+")
    m[200:] = -7
    m.flush()
    del m

    class Bar:
        def __init__(self):
            self.n = 0

        def update(self, k):
            self.n += k

    bar = Bar()
    resumed, _, _ = neighbours(emb, filters, settings, part, block=100, progress=bar)
    np.testing.assert_array_equal(np.array(resumed), full)
    assert bar.n == 500


def test_pairs_of_the_same_two_texts_are_grouped(tmp_path):
    """Copies of a text pair end up next to each other (one NLI shard, one model input)."""
    from nli_check.scan.engine import group_copies
    from nli_check.scan.search import PAIR_DTYPE

    rng = np.random.default_rng(7)
    text = rng.integers(0, 6, 40).astype(np.int64)  # 40 sentences, 6 distinct texts
    a = rng.integers(0, 39, 300)
    b = np.minimum(a + 1 + rng.integers(0, 10, 300), 39)
    pairs = np.unique(np.array(list(zip(a, b, rng.random(300))), dtype=PAIR_DTYPE))
    np.save(tmp_path / "found.npy", pairs)
    group_copies(tmp_path / "found.npy", text, tmp_path / "pairs.npy")
    grouped = np.load(tmp_path / "pairs.npy")
    assert not (tmp_path / "found.npy").exists()
    assert sorted(grouped.tolist()) == sorted(pairs.tolist())  # the same pairs
    keys = [frozenset((int(text[x]), int(text[y]))) for x, y in zip(grouped["a"], grouped["b"])]
    runs = [k for i, k in enumerate(keys) if i == 0 or k != keys[i - 1]]
    assert len(runs) == len(set(keys))  # each text pair in one run
    # Without copies the order is kept.
    np.save(tmp_path / "found.npy", pairs)
    group_copies(tmp_path / "found.npy", np.arange(40, dtype=np.int64), tmp_path / "same.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "same.npy"), pairs)
