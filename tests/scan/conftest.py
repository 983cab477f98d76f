"""Fixtures of the scan tests: a tiny NLI model that says contradiction, a small archive, and
one clean baseline run that the other tests compare against."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import build_tiny_nli_model

from nli_check.scan import scan

from .helpers import config, make_archive_module


@pytest.fixture(scope="session")
def contra_model_dir(tmp_path_factory) -> Path:
    """The tiny fixture model, with the label its random head favours named contradiction."""
    return build_tiny_nli_model(
        tmp_path_factory.mktemp("tiny-contra"),
        id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
    )


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    """About 120 sentences in some 15 articles, plus three malformed lines (4, 8 and 11)."""
    path = tmp_path_factory.mktemp("archive") / "news.jsonl"
    lines = [json.dumps(a) for a, _ in make_archive_module().build(120, seed=5)]
    lines.insert(3, '{"id": "broken", "text": "unterminated')
    lines.insert(7, json.dumps({"id": "empty", "source": "Wire"}))
    path.write_bytes(
        ("\n".join(lines[:10]) + "\n").encode()
        + b'{"id": "latin", "text": "caf\xe9"}\n'
        + ("\n".join(lines[10:]) + "\n").encode()
    )
    return path


@pytest.fixture(scope="session")
def baseline(archive, contra_model_dir, tmp_path_factory):
    """One clean, uninterrupted run: (output dir, summary, store dir)."""
    root = tmp_path_factory.mktemp("baseline")
    summary = scan(config(archive, root / "out", contra_model_dir, root / "store"))
    return root / "out", summary, root / "store"
