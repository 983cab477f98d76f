"""The training mix: sampling weights, token-budget batches, windowed long pairs, held-out sets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nli_check.augment import topic_neutrals
from nli_check.data import pair_key
from nli_check.errors import NLICheckError
from nli_check.labels import LABELS
from nli_check.train_data import epoch_sample, length_grouped_batches, prepare_data
from nli_check.training import DataSpec, TrainConfig


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_each_source_is_sampled_weight_times_per_epoch_and_differently_each_epoch():
    source_ids = np.repeat([0, 1, 2], [100, 40, 10])
    weights = [0.25, 2.0, 1.5]
    first = epoch_sample(source_ids, weights, seed=3, epoch=0)
    counts = np.bincount(source_ids[first], minlength=3)
    assert counts.tolist() == [25, 80, 15]
    assert np.array_equal(first, epoch_sample(source_ids, weights, seed=3, epoch=0))
    second = epoch_sample(source_ids, weights, seed=3, epoch=1)
    assert set(first[source_ids[first] == 0]) != set(second[source_ids[second] == 0])
    # whole copies of a source of weight >= 1: every pair at least once
    assert set(np.flatnonzero(source_ids == 1)) <= set(first)


def test_token_budget_batches_cover_each_pair_once_and_fit_the_budget():
    rng = np.random.default_rng(0)
    lengths = rng.integers(8, 129, size=3000)
    indices = np.arange(3000)
    batches = length_grouped_batches(indices, lengths, batch_size=64, batch_tokens=1024, seed=1, epoch=0)
    assert sorted(np.concatenate(batches).tolist()) == indices.tolist()
    assert all(len(b) <= 64 and len(b) * lengths[b].max() <= 1024 for b in batches)
    short = [b for b in batches if lengths[b].max() <= 16]
    assert short and max(len(b) for b in short) == 64  # short pairs share a step
    padded = sum(len(b) * int(lengths[b].max()) for b in batches)
    assert 1 - lengths.sum() / padded < 0.05
    again = length_grouped_batches(indices, lengths, batch_size=64, batch_tokens=1024, seed=1, epoch=0)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    fixed = length_grouped_batches(indices, lengths, batch_size=32, batch_tokens=None, seed=1, epoch=0)
    assert sorted(len(b) for b in fixed) == [24] + [32] * 93


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from nli_check.models import minilm_path

    return AutoTokenizer.from_pretrained(minilm_path())


def _config(tmp_path, train, **kw) -> TrainConfig:
    return TrainConfig(base_model="unused", output_dir=str(tmp_path / "m"), train=train, max_length=32,
                       symmetric_contradictions=False, **kw)


def test_long_pairs_are_windowed_as_inference_windows_them(tmp_path, tokenizer):
    from nli_check.nli import window_pair

    filler = " ".join(f"The committee met on day {i} to discuss the budget." for i in range(12))
    long_premise = filler + " The bridge over the river was closed on Monday by the city council."
    rows = [
        {"premise": long_premise, "hypothesis": "The city council closed the bridge.", "label": "entailment"},
        {"premise": long_premise, "hypothesis": "Rain is expected in the north.", "label": "neutral"},
        {"premise": "A man is walking.", "hypothesis": "A person walks.", "label": "entailment"},
    ]
    path = write_jsonl(tmp_path / "long.jsonl", rows)
    data = prepare_data(_config(tmp_path, [str(path)]), set(LABELS), tokenizer)
    windows = window_pair(tokenizer, long_premise, "The city council closed the bridge.", 32)
    assert len(windows) > 4
    entail = [(p, h) for p, h, y in zip(data.premises, data.hypotheses, data.labels) if y == "entailment"]
    # the one window of the entailment pair is the one holding the evidence
    assert ("A man is walking.", "A person walks.") in entail and len(entail) == 2
    (window, _), = [x for x in entail if x[0] != "A man is walking."]
    assert window in [p for p, _ in windows] and "bridge" in window
    neutral = [p for p, y in zip(data.premises, data.labels) if y == "neutral"]
    assert 1 < len(neutral) <= 4 and all(p in long_premise for p in neutral)
    lengths = [len(x) for x in tokenizer(data.premises, data.hypotheses)["input_ids"]]
    assert max(lengths) <= 32
    assert data.windowed["pairs"] == 2 and data.windowed["dropped_windows"] > 0
    truncating = prepare_data(_config(tmp_path, [str(path)], long_pairs="truncate"), set(LABELS), tokenizer)
    assert len(truncating.labels) == 3


def test_dev_and_calibration_pairs_never_reach_training(tmp_path):
    rows = [{"premise": f"Sentence number {i} is here.", "hypothesis": f"Claim {i}.", "label": LABELS[i % 3]}
            for i in range(60)]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    dev = write_jsonl(tmp_path / "dev.jsonl", rows[:10])
    cal = write_jsonl(tmp_path / "cal.jsonl", rows[10:15])
    cfg = _config(tmp_path, [{"path": str(train), "weight": 0.5}], dev=[str(dev)], calibration=[str(cal)])
    data = prepare_data(cfg, set(LABELS))
    assert data.dropped_overlap == 15 and len(data.labels) == 45
    held = {pair_key(r["premise"], r["hypothesis"]) for r in rows[:15]}
    assert not held & {pair_key(p, h) for p, h in zip(data.premises, data.hypotheses)}
    assert data.sources[0]["weight"] == 0.5 and data.pairs_per_epoch() == 22
    assert [len(d) for d in data.calibration] == [5]


def test_topic_neutrals_pair_claims_with_other_claims_evidence():
    pairs = [
        ("Vitamin D levels were low in most patients admitted with the virus.", "Vitamin D protects from the virus."),
        ("Vitamin D levels did not predict outcomes of patients with the virus.", "Vitamin D lowers virus deaths."),
        ("Vitamin D supplements reduced hospital stays for patients in a trial.", "Vitamin D shortens hospital stays."),
        ("Masks reduced transmission of the virus in households.", "Masks cut household transmission of the virus."),
        ("Masks worn indoors reduced transmission of the virus at schools.", "Masks lower school transmission."),
        ("Masks worn indoors reduced transmission of the virus at schools.", "Masks do not lower school transmission."),
    ]
    made = topic_neutrals(pairs, 10, seed=1)
    assert made and all(p.label == "neutral" for p in made)
    own = {}
    for premise, claim in pairs:
        own.setdefault(claim, set()).add(premise)
    for pair in made:
        assert pair.premise not in own[pair.hypothesis]
        # never the evidence of a near-copy of the claim
        assert not (pair.hypothesis.startswith("Masks lower") and "schools" in pair.premise)
    assert topic_neutrals(pairs, 10, seed=1) == made


def test_data_spec_validation():
    with pytest.raises(NLICheckError, match="weight must be positive"):
        DataSpec(path="x", weight=0)
    with pytest.raises(NLICheckError, match="needs size"):
        DataSpec(path="x", kind="topic_neutrals")
    with pytest.raises(NLICheckError, match="batch_tokens must be at least"):
        TrainConfig(max_length=128, batch_tokens=64)


def test_event_pairs_join_the_pool_as_their_own_source(tmp_path):
    from nli_check.train_data import prepared_key

    rows = [{"premise": f"Sentence number {i} is here.", "hypothesis": f"Claim {i}.", "label": LABELS[i % 3]}
            for i in range(30)]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    plain = _config(tmp_path, [str(train)])
    data = prepare_data(_config(tmp_path, [str(train)], event_pairs=200), set(LABELS))
    [source] = [s for s in data.sources if s["name"] == "event_pairs"]
    assert 150 <= source["rows_used"] <= data.augmented["event_pairs"] <= 200  # duplicates dropped
    made = {LABELS.index(label) for label, sid in zip(data.labels, data.source_ids) if sid == len(data.sources) - 1}
    assert made == {0, 1, 2}  # contradictions, entailments and neutrals
    assert prepared_key(plain) == prepared_key(_config(tmp_path, [str(train)], event_pairs=0))
    assert prepared_key(plain) != prepared_key(_config(tmp_path, [str(train)], event_pairs=200))


def test_opposite_pairs_join_the_pool_and_change_the_prepared_key(tmp_path):
    from nli_check.train_data import prepared_key

    rows = [{"premise": f"Sentence number {i} is here.", "hypothesis": f"Claim {i}.", "label": LABELS[i % 3]}
            for i in range(30)]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    data = prepare_data(_config(tmp_path, [str(train)], opposite_pairs=300), set(LABELS))
    [source] = [s for s in data.sources if s["name"] == "opposite_pairs"]
    assert 200 <= source["rows_used"] <= data.augmented["opposite_pairs"] <= 300
    made = {LABELS.index(label) for label, sid in zip(data.labels, data.source_ids) if sid == len(data.sources) - 1}
    assert made == {0, 1, 2}
    plain = _config(tmp_path, [str(train)])
    assert prepared_key(plain) == prepared_key(_config(tmp_path, [str(train)], opposite_pairs=0))
    assert prepared_key(plain) != prepared_key(_config(tmp_path, [str(train)], opposite_pairs=300))


def test_prepared_data_is_keyed_by_content_not_by_where_or_when(tmp_path):
    import os
    import shutil

    from nli_check.train_data import prepared_key

    rows = [{"premise": f"Premise {i}.", "hypothesis": f"Hypothesis {i}.", "label": LABELS[i % 3]} for i in range(9)]
    (tmp_path / "a").mkdir()
    train = write_jsonl(tmp_path / "a" / "train.jsonl", rows)
    key = prepared_key(_config(tmp_path, ["train.jsonl"], data_dir=str(tmp_path / "a")))
    os.utime(train, (1, 1))  # a fresh mount or copy: new times, same bytes
    assert prepared_key(_config(tmp_path, ["train.jsonl"], data_dir=str(tmp_path / "a"))) == key
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert prepared_key(_config(tmp_path, ["train.jsonl"], data_dir=str(tmp_path / "b"))) == key
    write_jsonl(tmp_path / "b" / "train.jsonl", rows[:-1])
    assert prepared_key(_config(tmp_path, ["train.jsonl"], data_dir=str(tmp_path / "b"))) != key
