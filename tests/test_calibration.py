"""Temperature scaling: fitting, the two-way mask, and calibrating an over-confident model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nli_check.calibration import calibrate, class_masks, fit_temperature, nll
from nli_check.errors import NLICheckError
from nli_check.labels import LABELS

WORDS = ("the army city river council minister troops border said denied reported no evidence "
         "new old prices fell rose harvest rain").split()


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sample_labels(probs, rng):
    return np.array([rng.choice(len(row), p=row) for row in probs])


def test_fit_temperature_recovers_the_temperature_the_labels_were_drawn_with():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(4000, 3))
    for true_t in (0.5, 2.0):
        gold = sample_labels(softmax(logits / true_t), rng)
        t = fit_temperature(logits, [LABELS[i] for i in gold])
        assert t == pytest.approx(true_t, rel=0.1)
        # ... and it is the minimum of the NLL
        g, a = class_masks(gold.tolist())
        assert nll(logits, g, a, t) <= min(nll(logits, g, a, t * 0.9), nll(logits, g, a, t * 1.1))


def test_two_way_sets_are_fitted_without_the_neutral_column():
    # A model calibrated on contradiction vs entailment that also gives neutral a lot of weight.
    # A supports/refutes set has no neutral answer, so the right temperature is 1.
    rng = np.random.default_rng(1)
    ce = rng.normal(scale=2.5, size=(3000, 2))
    gold = sample_labels(softmax(ce), rng)
    logits = np.column_stack([ce, ce.max(axis=1) + 2.0])
    labels = [("contradiction", "entailment")[i] for i in gold]
    masked = fit_temperature(logits, labels, kind="two_way")
    assert masked == pytest.approx(1.0, rel=0.1)
    unmasked = fit_temperature(logits, labels)
    assert unmasked > 1.5  # counting neutral as wrong pulls the fit far off


def test_class_masks():
    gold, allowed = class_masks(["contradiction", "not_entailment", 1], kind=None)
    assert gold.tolist() == [[True, False, False], [True, False, True], [False, True, False]]
    assert allowed.all()
    _, allowed = class_masks(["contradiction", "entailment"], kind="two_way")
    assert allowed.tolist() == [[True, True, False]] * 2
    with pytest.raises(NLICheckError, match="not canonical"):
        class_masks(["REFUTES"])
    with pytest.raises(NLICheckError, match="shape"):
        fit_temperature(np.zeros((3, 2)), ["entailment"] * 3)
    with pytest.raises(NLICheckError, match="labels"):
        fit_temperature(np.zeros((3, 3)), ["entailment"] * 2)
    with pytest.raises(NLICheckError, match="NaN"):
        fit_temperature(np.array([[np.nan, 0, 0]]), ["entailment"])


# ------------------------------------------------------------------ a real, over-confident model
def build_overconfident_model(path: Path, pairs) -> Path:
    """A tiny random model whose classifier is centred and scaled so that its verdicts vary from
    pair to pair and come with confidences near 1: the over-confident model to calibrate."""
    import torch
    from conftest import build_tiny_nli_model
    from transformers import AutoTokenizer, BertForSequenceClassification

    build_tiny_nli_model(path, seed=1)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = BertForSequenceClassification.from_pretrained(path).eval()
    with torch.no_grad():
        enc = tokenizer([p for p, _ in pairs], [h for _, h in pairs], padding=True, return_tensors="pt")
        raw = model(**enc).logits
        scale = 8.0 / raw.std(dim=0).mean()
        model.classifier.weight.mul_(scale)
        model.classifier.bias.copy_((model.classifier.bias - raw.mean(dim=0)) * scale)
    model.save_pretrained(path, safe_serialization=True)
    return path


@pytest.fixture(scope="module")
def overconfident(tmp_path_factory):
    """(model dir, three-way JSONL, two-way CSV): the labels agree with the model on ~55% of pairs."""
    import csv

    from nli_check.nli import NLIModel

    rng = np.random.default_rng(5)
    pairs = [(" ".join(rng.choice(WORDS, 8)), " ".join(rng.choice(WORDS, 5))) for _ in range(160)]
    root = tmp_path_factory.mktemp("overconfident")
    model_dir = build_overconfident_model(root / "model", pairs)
    probs = NLIModel(model_dir, device="cpu").predict_proba(pairs)
    assert probs.max(axis=1).mean() > 0.85  # it is over-confident ...
    assert len(set(probs.argmax(axis=1).tolist())) == 3  # ... and its verdicts depend on the input

    three = root / "dev.jsonl"
    with three.open("w", encoding="utf-8") as handle:
        for (premise, hypothesis), row in zip(pairs[:100], probs[:100], strict=True):
            label = int(row.argmax())
            if rng.random() >= 0.55:  # wrong on purpose
                label = int(rng.choice([i for i in range(3) if i != label]))
            record = {"premise": premise, "hypothesis": hypothesis, "label": LABELS[label]}
            handle.write(json.dumps(record) + "\n")
    two = root / "fever.csv"
    with two.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["evidence", "claim", "verdict"])
        for (premise, hypothesis), row in zip(pairs[100:], probs[100:], strict=True):
            says_refutes = row[0] > row[1]
            refutes = says_refutes if rng.random() < 0.6 else not says_refutes
            writer.writerow([premise, hypothesis, "REFUTES" if refutes else "SUPPORTS"])
    return model_dir, three, two


def test_calibration_lowers_ece_and_nll_and_the_model_reloads_with_it(overconfident):
    from nli_check.data import read_pairs
    from nli_check.evaluation import evaluate
    from nli_check.nli import NLIModel, read_calibration

    model_dir, three, two = overconfident
    dev = read_pairs(three)
    fever = read_pairs(two)
    assert (dev.kind, fever.kind) == ("three_way", "two_way")
    before_model = NLIModel(model_dir, device="cpu")
    before = before_model.predict_proba(dev.pairs())

    report = calibrate(model_dir, [dev, fever], device="cpu", batch_size=16)
    t = report["temperature"]
    assert t > 1.5  # over-confident: the logits are softened
    assert report["ece_after"] < report["ece_before"] / 2
    assert report["nll_after"] < report["nll_before"]
    assert report["pairs"] == len(dev) + len(fever) == 160
    assert [r["kind"] for r in report["data"]] == ["three_way", "two_way"]
    for r in report["data"]:
        assert r["ece_after"] < r["ece_before"] and r["nll_after"] < r["nll_before"]

    stored = read_calibration(model_dir)
    assert stored["temperature"] == pytest.approx(t)
    assert {"ece_before", "ece_after", "nll_before", "nll_after", "data", "pairs"} <= set(stored)

    reloaded = NLIModel(model_dir, device="cpu")
    assert reloaded.temperature == pytest.approx(t)
    after = reloaded.predict_proba(dev.pairs())
    logits = reloaded.predict_logits(dev.pairs())
    np.testing.assert_allclose(after, softmax(logits / t), atol=1e-5)
    np.testing.assert_array_equal(after.argmax(axis=1), before.argmax(axis=1))  # verdicts unchanged
    assert after.max(axis=1).mean() < before.max(axis=1).mean() - 0.1  # confidence lowered
    # eval of the reloaded model sees the calibrated ECE the report promised
    assert evaluate(reloaded, dev)["ece"] == pytest.approx(report["data"][0]["ece_after"], abs=1e-4)
    assert evaluate(before_model, dev)["ece"] == pytest.approx(report["data"][0]["ece_before"], abs=1e-4)


def test_calibrate_refuses_what_is_not_a_model_directory(tmp_path, overconfident):
    from nli_check.data import read_pairs

    _, three, _ = overconfident
    with pytest.raises(NLICheckError, match="local model directory"):
        calibrate(tmp_path / "missing", read_pairs(three), device="cpu")
    with pytest.raises(NLICheckError, match="no dev data"):
        calibrate(tmp_path, [], device="cpu")


def test_a_two_way_model_is_fitted_without_the_class_it_lacks(tmp_path):
    from conftest import build_tiny_nli_model

    from nli_check.data import LabelledPairs

    model_dir = build_tiny_nli_model(tmp_path / "two-way", id2label={0: "entailment", 1: "contradiction"})
    data = LabelledPairs(
        premises=["Troops left.", "Troops left.", "Prices rose.", "Prices rose."],
        hypotheses=["Troops stayed.", "Troops moved.", "Prices fell.", "It rained."],
        labels=["contradiction", "entailment", "contradiction", "neutral"],
        name="mixed",
    )
    report = calibrate(model_dir, data, device="cpu", write=False)
    assert report["pairs"] == 4 and report["pairs_fitted"] == 3  # the neutral pair cannot be explained
    assert np.isfinite(report["nll_before"]) and np.isfinite(report["nll_after"])
    assert report["nll_after"] <= report["nll_before"] + 1e-12
    assert not (model_dir / "calibration.json").exists()
