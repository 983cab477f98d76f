"""Helpers shared by the scan tests."""

from __future__ import annotations

import importlib.util

from conftest import REPO

from nli_check.scan import ScanConfig, SearchSettings

SHARD = {"shard_records": 3, "shard_pairs": 8}


def make_archive_module():
    """``scripts/make_archive.py`` as a module."""
    path = REPO / "scripts" / "make_archive.py"
    spec = importlib.util.spec_from_file_location("make_archive", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config(archive, out, model, store, **kw) -> ScanConfig:
    kw = {**SHARD, "device": "cpu", "threshold": 0.0, **kw}
    search = kw.pop("search", SearchSettings(top_k=3, min_similarity=0.5))
    return ScanConfig(
        archives=(str(archive),),
        output=str(out),
        model=str(model),
        store_dir=str(store),
        search=search,
        **kw,
    )


def norm(rows):
    """Rows in a canonical order with floats rounded (Parquet keeps float32, JSONL float64)."""
    rows = sorted(rows, key=lambda r: (r["a_sentence"], r["b_sentence"]))
    return [{k: round(v, 5) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def key(rows):
    return sorted((r["a_sentence"], r["b_sentence"]) for r in rows)
