"""Training on findings cases: the pairs they give, the not-contradiction loss, and a real run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

from nli_check.cases import case_pairs, load_cases
from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, NOT_CONTRADICTION
from nli_check.training import NOT_CONTRADICTION_TARGET, TrainConfig, nli_loss, train

CASE = {
    "id": "x01-bridge",
    "draft": "The Tarrant Bridge reopened to traffic on Monday.\nThe repairs cost £4.2m, the council said.\n",
    "sources": {
        "council.txt": "The Tarrant Bridge remains shut to vehicles.\nThe cost of the work reached £4.2m.\n"
                       "A meeting will be held at the town hall next month.\n",
        "local.txt": "The nearby Carver Bridge reopened in March.\n",
    },
    "gold": [
        {"claim": "The Tarrant Bridge reopened to traffic on Monday.",
         "evidence": "The Tarrant Bridge remains shut to vehicles.", "label": "contradiction", "tag": "opposites"},
        {"claim": "The Tarrant Bridge reopened to traffic on Monday.",
         "evidence": "The nearby Carver Bridge reopened in March.", "label": "not-contradiction",
         "tag": "different-event"},
    ],
}


def test_case_pairs_label_gold_both_ways_and_add_on_topic_negatives():
    pairs = case_pairs([CASE], negatives=2)
    labels = {(p.premise, p.hypothesis): p.label for p in pairs}
    claim, shut = CASE["gold"][0]["claim"], CASE["gold"][0]["evidence"]
    assert labels[(shut, claim)] == labels[(claim, shut)] == CONTRADICTION
    carver = CASE["gold"][1]["evidence"]
    assert labels[(carver, claim)] == labels[(claim, carver)] == NOT_CONTRADICTION
    cost = "The repairs cost £4.2m, the council said."
    # The source sentence sharing most words with the draft's cost sentence is its negative.
    assert labels[("The cost of the work reached £4.2m.", cost)] == NOT_CONTRADICTION
    assert len(labels) == len(pairs)  # no pair twice
    # Only gold contradictions are labelled contradiction, whatever the number of negatives.
    for many in (0, 10):
        assert [p for p in case_pairs([CASE], negatives=many) if p.label == CONTRADICTION] == \
            [p for p in pairs if p.label == CONTRADICTION]
    assert len(case_pairs([CASE], negatives=10)) > len(pairs) > len(case_pairs([CASE], negatives=0))


def test_loading_cases_names_what_is_wrong(tmp_path):
    with pytest.raises(NLICheckError, match="no cases folder"):
        load_cases(tmp_path / "missing")
    with pytest.raises(NLICheckError, match="no cases in"):
        load_cases(tmp_path)
    (tmp_path / "a.yaml").write_text("draft: [", encoding="utf-8")
    with pytest.raises(NLICheckError, match="not valid YAML"):
        load_cases(tmp_path)
    (tmp_path / "a.yaml").write_text("title: no draft\n", encoding="utf-8")
    with pytest.raises(NLICheckError, match="needs a draft and sources"):
        load_cases(tmp_path)


def test_not_contradiction_loss_is_minus_log_of_the_other_labels():
    import torch

    logits = torch.tensor([[2.0, 0.5, -1.0], [0.3, 0.2, 0.1], [-1.0, 3.0, 0.0]], requires_grad=True)
    known = torch.tensor([0, 2, 1])
    assert torch.allclose(nli_loss(logits, known, 0), torch.nn.functional.cross_entropy(logits, known))

    targets = torch.tensor([NOT_CONTRADICTION_TARGET, 2, NOT_CONTRADICTION_TARGET])
    loss = nli_loss(logits, targets, 0)
    probs = logits.softmax(-1).detach().numpy()
    expected = np.mean([-math.log(1 - probs[0, 0]), -math.log(probs[1, 2]), -math.log(1 - probs[2, 0])])
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-5)
    loss.backward()
    # The loss pushes contradiction down and is indifferent to how the rest is shared out.
    assert logits.grad[0, 0] > 0 and logits.grad[2, 0] > 0
    assert logits.grad[0, 1] < 0 and logits.grad[0, 2] < 0
    assert float(logits.grad[0, 1] / logits.grad[0, 2]) == pytest.approx(probs[0, 1] / probs[0, 2], rel=1e-4)


@pytest.mark.slow
def test_training_on_a_cases_folder(tmp_path, tiny_model_dir):
    folder = tmp_path / "cases"
    folder.mkdir()
    for i in range(3):
        case = dict(CASE, id=f"x0{i}-bridge")
        (folder / f"x0{i}-bridge.yaml").write_text(yaml.safe_dump(case, allow_unicode=True), encoding="utf-8")
    dev = tmp_path / "dev.jsonl"
    row = {"premise": "The bridge is open.", "hypothesis": "The bridge is shut.", "label": "contradiction"}
    dev.write_text(json.dumps(row) + "\n", encoding="utf-8")
    config = TrainConfig(base_model=str(tiny_model_dir), output_dir=str(tmp_path / "model"),
                         train=[{"path": str(folder), "kind": "cases", "negatives": 3, "weight": 2.0}],
                         dev=[str(dev)], epochs=2, learning_rate=1e-3, batch_size=8, max_length=32,
                         warmup_ratio=0.0, device="cpu", freeze_embeddings=False)
    record = train(config)
    source = record["train_sources"][0]
    assert source["kind"] == "cases" and source["rows_read"] == 3 and len(source["sha256"]) == 64
    assert source["rows_used"] == len(case_pairs([CASE], negatives=3))
    assert all(np.isfinite(h["train_loss"]) for h in record["history"])
    saved = json.loads((tmp_path / "model" / "train_config.json").read_text())
    assert saved["train"][0]["negatives"] == 3 and "negatives" not in saved["dev"][0]
    with pytest.raises(NLICheckError, match="negatives must be at least 0"):
        TrainConfig(train=[{"path": str(folder), "kind": "cases", "negatives": -1}])


def test_two_entries_on_one_folder_split_contradictions_from_the_rest(tmp_path):
    from nli_check.train_data import read_spec

    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "x01-bridge.yaml").write_text(yaml.safe_dump(CASE, allow_unicode=True), encoding="utf-8")
    entries = [{"path": str(folder), "kind": "cases", "select": select, "negatives": 2}
               for select in ("all", "contradictions", "others")]
    config = TrainConfig(train=entries)
    every, contradictions, others = (read_spec(config, spec, "train") for spec in config.train)
    assert set(contradictions.labels) == {CONTRADICTION} and set(others.labels) == {NOT_CONTRADICTION}
    assert sorted(contradictions.pairs() + others.pairs()) == sorted(every.pairs())
    assert len(contradictions) == 2 and contradictions.name.endswith(":contradictions")
    with pytest.raises(NLICheckError, match="select must be one of all, contradictions, others"):
        TrainConfig(train=[{"path": str(folder), "kind": "cases", "select": "some"}])
    with pytest.raises(NLICheckError, match="trains only: move it to"):
        TrainConfig(train=entries, dev=[{"path": str(folder), "kind": "cases"}])


def test_a_cases_entry_can_keep_only_the_cases_whose_id_matches(tmp_path):
    from nli_check.cases import folder_sha256
    from nli_check.train_data import read_spec

    folder = tmp_path / "cases"
    folder.mkdir()
    for case_id in ("ra01-bridge", "rb01-bridge", "ri01-bridge"):
        case = {**CASE, "id": case_id}
        (folder / f"{case_id}.yaml").write_text(yaml.safe_dump(case, allow_unicode=True), encoding="utf-8")
    config = TrainConfig(train=[{"path": str(folder), "kind": "cases", "ids": "r[a-h]*"},
                                {"path": str(folder), "kind": "cases"}])
    some, every = (read_spec(config, spec, "train") for spec in config.train)
    assert some.rows_read == 2 and every.rows_read == 3
    assert some.sha256 == folder_sha256(folder, "r[a-h]*") != every.sha256
    assert config.train[0].as_dict()["ids"] == "r[a-h]*" and "ids" not in config.train[1].as_dict()
    with pytest.raises(NLICheckError, match="has an id matching 'x\\*'"):
        load_cases(folder, "x*")
    with pytest.raises(NLICheckError, match="applies only to a kind = \"cases\" entry"):
        TrainConfig(train=[{"path": "snli.jsonl", "ids": "r*"}])
