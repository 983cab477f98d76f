"""Candidate pairs over a whole archive: top-k nearest neighbours per sentence, deduplicated.

Two passes, both in blocks of rows so memory stays bounded whatever the archive size:

1. :func:`neighbours` finds each sentence's ``top_k`` most similar *allowed* sentences
   (never itself, nor a sentence with the same words, which cannot contradict it and would
   crowd out the neighbours that can; never a sentence of the same article unless
   ``within_articles``; other sources only with ``across_sources_only``; within
   ``date_window`` days) with similarity ``>= min_similarity``. Below ``exact_limit``
   sentences the search is exact (blocked
   matrix products, cheaper than building an index); above it, a faiss IVF index with 8-bit
   scalar quantisation proposes candidates, which are filtered and re-scored exactly.
   Results go to memory-mapped ``.npy`` files, committed block by block.
2. :func:`write_pairs` turns the neighbour lists into pairs, each unordered pair once
   (``a < b``), in a deterministic order.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.pairing import MIN_SIMILARITY, SCAN_TOP_K
from nli_check.scan.store import NO_DAY, atomic_write_json

#: Structured dtype of a candidate pair: sentence ids ``a < b`` and their cosine similarity.
PAIR_DTYPE = np.dtype([("a", np.int64), ("b", np.int64), ("sim", np.float32)])
INDEX_KINDS = ("auto", "exact", "ivf")


@dataclass(frozen=True)
class SearchSettings:
    """What makes two sentences a candidate pair."""

    top_k: int = SCAN_TOP_K
    min_similarity: float = MIN_SIMILARITY
    across_sources_only: bool = False
    #: Pair only sentences of articles dated at most this many days apart (``None``: any).
    date_window: float | None = None
    #: Allow pairs of two sentences of the same article.
    within_articles: bool = False
    index: str = "auto"
    #: Up to this many sentences, ``auto`` searches exactly.
    exact_limit: int = 50_000
    #: Inverted lists visited per query by the IVF index.
    nprobe: int = 32

    def __post_init__(self) -> None:
        if self.top_k < 1:
            raise NLICheckError(f"--top-k must be at least 1, got {self.top_k}")
        if not -1.0 <= self.min_similarity <= 1.0:
            raise NLICheckError(
                f"--min-similarity must be between -1 and 1, got {self.min_similarity}"
            )
        if self.date_window is not None and self.date_window < 0:
            raise NLICheckError(f"--date-window must be 0 days or more, got {self.date_window}")
        if self.index not in INDEX_KINDS:
            raise NLICheckError(f"unknown index {self.index!r}: use {', '.join(INDEX_KINDS)}")

    def to_dict(self) -> dict:
        return asdict(self)

    def kind_for(self, n: int) -> str:
        if self.index != "auto":
            return self.index
        return "exact" if n <= self.exact_limit else "ivf"


def allowed(
    rows: np.ndarray, cols: np.ndarray, filters: dict[str, np.ndarray], settings: SearchSettings
) -> np.ndarray:
    """Boolean matrix ``(len(rows), len(cols))``: may sentence ``rows[i]`` pair with ``cols[j]``?"""
    return allowed_pairs(rows[:, None], cols[None, :], filters, settings)


def allowed_pairs(
    rows: np.ndarray, cols: np.ndarray, filters: dict[str, np.ndarray], settings: SearchSettings
) -> np.ndarray:
    """May sentence ``rows[...]`` pair with ``cols[...]``? Element-wise, with broadcasting."""
    ok = rows != cols
    if "text" in filters:  # the same words (copies of one sentence) are never a pair
        text = filters["text"]
        ok = ok & (text[rows] != text[cols])
    article = filters["article"]
    if not settings.within_articles:
        ok &= article[rows] != article[cols]
    if settings.across_sources_only:
        # Articles without a source share the "unknown" source, and are not paired together.
        source = filters["source"]
        ok &= source[rows] != source[cols]
    if settings.date_window is not None:
        day = filters["day"]
        dr, dc = day[rows].astype(np.int64), day[cols].astype(np.int64)
        ok &= (dr != NO_DAY) & (dc != NO_DAY)
        ok &= np.abs(dr - dc) <= settings.date_window
    return ok


def _select(best_idx, best_sim, cand_idx, cand_sim, k):
    """Merge candidate lists row by row, keeping the ``k`` best by (similarity desc, id asc)."""
    idx = np.concatenate([best_idx, cand_idx], axis=1)
    sim = np.concatenate([best_sim, cand_sim], axis=1)
    # Sort each row by id then stably by -sim; -inf entries (nothing) go last.
    order = np.argsort(idx, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, 1)
    sim = np.take_along_axis(sim, order, 1)
    order = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(idx, order, 1), np.take_along_axis(sim, order, 1)


class _State:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = json.loads(path.read_text()) if path.exists() else {}

    def save(self) -> None:
        atomic_write_json(self.path, self.data)


def neighbours(
    embeddings: np.ndarray,
    filters: dict[str, np.ndarray],
    settings: SearchSettings,
    workdir: str | os.PathLike,
    *,
    block: int = 1024,
    db_block: int = 16384,
    progress=None,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Top-k allowed neighbours of every sentence: ``(ids, sims)`` memory-maps of shape (N, k).

    Missing neighbours are ``-1`` with similarity ``-inf``. Progress is committed to
    ``workdir`` block by block, so a killed search resumes where it stopped. ``progress``
    is an optional tqdm-like object updated with rows done. Returns also stats (kind, seconds).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    n, d = embeddings.shape
    k = settings.top_k
    kind = settings.kind_for(n)
    state = _State(workdir / "search.json")
    fresh = state.data.get("n") != n or state.data.get("k") != k or state.data.get("kind") != kind
    mode = "w+" if fresh or not (workdir / "neighbours.npy").exists() else "r+"
    ids = np.lib.format.open_memmap(
        workdir / "neighbours.npy", mode=mode, dtype=np.int64, shape=(n, k)
    )
    sims = np.lib.format.open_memmap(
        workdir / "similarities.npy", mode=mode, dtype=np.float32, shape=(n, k)
    )
    if mode == "w+":
        state.data = {"n": n, "k": k, "kind": kind, "rows_done": 0}
        state.save()
    start = int(state.data["rows_done"])
    if progress is not None:
        progress.update(start)
    index = _ivf_index(embeddings, settings, workdir) if kind == "ivf" and start < n else None
    for q0 in range(start, n, block):
        q1 = min(n, q0 + block)
        rows = np.arange(q0, q1)
        if index is None:
            top_i, top_s = _exact_block(embeddings, filters, settings, rows, db_block)
        else:
            top_i, top_s = _ivf_block(index, embeddings, filters, settings, rows)
        ids[q0:q1] = top_i
        sims[q0:q1] = top_s
        ids.flush()
        sims.flush()
        state.data["rows_done"] = q1
        state.save()
        if progress is not None:
            progress.update(q1 - q0)
    return ids, sims, {"kind": kind, "sentences": n}


def _exact_block(embeddings, filters, settings, rows, db_block):
    query = np.asarray(embeddings[rows[0] : rows[-1] + 1], dtype=np.float32)
    return exact_top_k(
        query,
        embeddings,
        settings.top_k,
        settings.min_similarity,
        lambda cols: allowed(rows, cols, filters, settings),
        db_block=db_block,
    )


def exact_top_k(query, embeddings, k, min_similarity, allow=None, *, db_block: int = 16384):
    """Exact top-``k`` rows of ``embeddings`` for each row of ``query`` by inner product.

    ``allow(cols)`` (optional) says which database rows each query may take: a boolean
    ``(len(query), len(cols))`` matrix, or a ``(len(cols),)`` vector for all queries alike.
    Returns ``(ids, sims)`` of shape ``(len(query), k)``, best first (ties: lower id), missing
    neighbours ``-1`` with similarity ``-inf``.
    """
    n = embeddings.shape[0]
    best_idx = np.full((len(query), k), -1, dtype=np.int64)
    best_sim = np.full((len(query), k), -np.inf, dtype=np.float32)
    for c0 in range(0, n, db_block):
        c1 = min(n, c0 + db_block)
        cols = np.arange(c0, c1)
        sim = query @ np.asarray(embeddings[c0:c1], dtype=np.float32).T
        ok = sim >= min_similarity
        if allow is not None:
            ok &= allow(cols)
        sim = np.where(ok, sim, -np.inf).astype(np.float32)
        kk = min(k, c1 - c0)
        part = (
            np.argpartition(-sim, kk - 1, axis=1)[:, :kk]
            if kk < c1 - c0
            else np.broadcast_to(np.arange(c1 - c0), sim.shape)
        )
        cand_sim = np.take_along_axis(sim, part, 1)
        cand_idx = np.where(np.isfinite(cand_sim), part + c0, -1)
        best_idx, best_sim = _select(best_idx, best_sim, cand_idx, cand_sim, k)
    return best_idx, best_sim


def _ivf_index(embeddings, settings, workdir: Path):
    import faiss

    path = workdir / "index.faiss"
    if path.exists():
        return faiss.read_index(str(path))
    index = build_ivf_index(embeddings, settings.nprobe)
    tmp = workdir / f".index.faiss.{os.getpid()}.tmp"
    faiss.write_index(index, str(tmp))
    os.replace(tmp, path)
    return index


def build_ivf_index(embeddings, nprobe: int = 32):
    """A faiss IVF index with 8-bit scalar quantisation over ``embeddings`` (inner product)."""
    import faiss

    n, d = embeddings.shape
    nlist = int(max(1, min(65536, 4 * math.sqrt(n), n // 39)))
    sample_size = min(n, max(nlist * 40, 20_000), 200_000)
    sample_rows = np.linspace(0, n - 1, sample_size).astype(np.int64)
    sample = np.ascontiguousarray(embeddings[sample_rows], dtype=np.float32)
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.seed = 1234
    index.train(sample)
    for r0 in range(0, n, 65536):
        index.add(np.ascontiguousarray(embeddings[r0 : r0 + 65536], dtype=np.float32))
    index.nprobe = min(nprobe, nlist)
    return index


def _ivf_block(index, embeddings, filters, settings, rows):
    n = embeddings.shape[0]
    query = np.ascontiguousarray(embeddings[rows[0] : rows[-1] + 1], dtype=np.float32)
    return ivf_top_k(
        index,
        query,
        embeddings,
        settings.top_k,
        settings.min_similarity,
        lambda cand: allowed_pairs(rows[:, None], cand, filters, settings),
        oversample=min(n, max(4 * settings.top_k, settings.top_k + 32)),
    )


def ivf_top_k(index, query, embeddings, k, min_similarity, allow=None, *, oversample: int):
    """Top-``k`` rows of ``embeddings`` for each query, proposed by a faiss ``index``
    (``oversample`` candidates each), filtered by ``allow(candidates) -> bool`` (same shape)
    and re-scored exactly. Same return as :func:`exact_top_k`."""
    _, cand = index.search(np.ascontiguousarray(query, dtype=np.float32), oversample)
    valid = cand >= 0
    safe = np.where(valid, cand, 0)
    # Exact similarities for the proposals, so values do not depend on the quantisation.
    flat = np.unique(safe)
    vectors = np.asarray(embeddings[flat], dtype=np.float32)
    position = np.searchsorted(flat, safe)
    sim = np.einsum("qd,qkd->qk", query, vectors[position])
    ok = valid & (sim >= min_similarity)
    if allow is not None:
        ok &= allow(safe)
    sim = np.where(ok, sim, -np.inf).astype(np.float32)
    idx = np.where(ok, safe, -1)
    empty_i = np.full((len(query), 0), -1, dtype=np.int64)
    empty_s = np.full((len(query), 0), -np.inf, dtype=np.float32)
    top_i, top_s = _select(empty_i, empty_s, idx, sim, k)
    if top_i.shape[1] < k:
        pad = k - top_i.shape[1]
        top_i = np.pad(top_i, ((0, 0), (0, pad)), constant_values=-1)
        top_s = np.pad(top_s, ((0, 0), (0, pad)), constant_values=-np.inf)
    return top_i, top_s


def write_pairs(
    ids: np.ndarray, sims: np.ndarray, path: str | os.PathLike, *, block: int = 65536
) -> int:
    """Write each unordered neighbour pair once, as ``PAIR_DTYPE`` rows, to an ``.npy`` file.

    A pair found from both ends (``b`` in ``a``'s list and ``a`` in ``b``'s) is written once,
    from the smaller id. Rows are ordered by the id they were found from, then by similarity.
    Returns the number of pairs.
    """
    path = Path(path)
    n, k = ids.shape
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=PAIR_DTYPE, shape=(max(1, n * k),))
    count = 0
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        nb = np.asarray(ids[r0:r1])
        sm = np.asarray(sims[r0:r1])
        rows = np.arange(r0, r1)[:, None]
        valid = nb >= 0
        later = valid & (nb > rows)
        earlier = valid & (nb < rows)
        if earlier.any():
            # Drop (i, j) with j < i when i is also in j's list: it was written from j.
            back = np.asarray(ids[np.where(earlier, nb, 0)])  # (rows, k, k)
            mutual = (back == rows[:, :, None]).any(axis=2)
            earlier &= ~mutual
        keep = later | earlier
        r_idx, c_idx = np.nonzero(keep)
        i = rows[r_idx, 0]
        j = nb[r_idx, c_idx]
        m = len(i)
        out["a"][count : count + m] = np.minimum(i, j)
        out["b"][count : count + m] = np.maximum(i, j)
        out["sim"][count : count + m] = np.minimum(sm[r_idx, c_idx], 1.0)
        count += m
    out.flush()
    del out
    _truncate_npy(tmp, count)
    os.replace(tmp, path)
    return count


def _truncate_npy(path: Path, count: int) -> None:
    """Rewrite an ``.npy`` header for ``count`` rows and cut the file to match."""
    array = np.load(path, mmap_mode="r")
    dtype = array.dtype
    header_len = array.offset
    del array
    header = {
        "descr": np.lib.format.dtype_to_descr(dtype),
        "fortran_order": False,
        "shape": (count,),
    }
    with open(path, "r+b") as handle:
        handle.seek(0)
        handle.write(_header_bytes(header, header_len))
        handle.truncate(header_len + count * dtype.itemsize)


def _header_bytes(header: dict, length: int) -> bytes:
    """An ``.npy`` v1 header for ``header``, padded to exactly ``length`` bytes."""
    text = repr({"descr": header["descr"], "fortran_order": False, "shape": header["shape"]})
    magic = b"\x93NUMPY\x01\x00"
    body_len = length - len(magic) - 2
    body = text.encode("latin1")
    body = body + b" " * (body_len - len(body) - 1) + b"\n"
    if len(body) != body_len:
        raise RuntimeError("npy header does not fit")
    return magic + body_len.to_bytes(2, "little") + body


def read_pairs(path: str | os.PathLike) -> np.ndarray:
    return np.load(path, mmap_mode="r")
