"""Copies of the same two sentences in many articles (wire stories) are grouped into one NLI
shard and put to the model once there."""

from __future__ import annotations

import json
from collections import Counter

from scripted import probs

from nli_check.scan import read_conflicts, scan
from nli_check.scan.engine import ScanRun

from .helpers import config

CLOSE = "The factory in Ardenne will close next year, the company said."
STAY = "The factory in Ardenne will stay open next year."
OTHER = "Heavy rain flooded the valley road on Sunday."


def test_identical_text_pairs_go_to_the_model_once(tmp_path, scripted_model, monkeypatch):
    model = scripted_model([("stay open", "will close", probs(0.9)), ("will close", "stay open", probs(0.9))])
    monkeypatch.setattr(ScanRun, "nli_model", lambda self: model)
    texts = [CLOSE, OTHER, STAY, CLOSE, STAY, OTHER, CLOSE, STAY]  # three wire copies of each side
    archive = tmp_path / "wire.jsonl"
    archive.write_text("".join(
        json.dumps({"id": f"a{i}", "text": text, "source": f"Outlet {i}"}) + "\n" for i, text in enumerate(texts)
    ))
    summary = scan(config(archive, tmp_path / "out", tmp_path / "unused-model", tmp_path / "store", shard_pairs=64))
    assert summary["shards"] == 1
    copies = Counter(tuple(sorted((r["a_text"], r["b_text"]))) for r in read_conflicts(tmp_path / "out"))
    assert copies[(CLOSE, STAY)] == 9  # every article against every other article's copy
    assert summary["pairs_classified"] >= 9
    counts = Counter(model.seen)
    assert counts and max(counts.values()) == 1, [pair for pair, n in counts.items() if n > 1]
    assert counts[(STAY, CLOSE)] == counts[(CLOSE, STAY)] == 1
