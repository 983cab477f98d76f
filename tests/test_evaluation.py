"""Eval metrics: agreement with scikit-learn, hand-computed numbers, set kinds, plots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from nli_check.errors import NLICheckError
from nli_check.evaluation import (
    ECE_BINS,
    PR_POINTS,
    evaluate,
    evaluate_sets,
    expected_calibration_error,
    metrics_from_probabilities,
    precision_recall_curve,
    write_plots,
)
from nli_check.labels import LABELS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def random_predictions(n=600, seed=7, classes=3, ties=True):
    """Seeded, informative but imperfect 3-way probabilities and their gold labels."""
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, 3)) + 1.4 * np.eye(3)[gold]
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    if ties:  # rounded scores give tied thresholds, as real models do
        probs = np.round(probs, 2) + 1e-9
        probs /= probs.sum(axis=1, keepdims=True)
    return probs, gold


# ------------------------------------------------------------------ agreement with scikit-learn
def test_three_way_metrics_agree_with_scikit_learn():
    probs, gold = random_predictions()
    labels = [LABELS[i] for i in gold]
    m = metrics_from_probabilities(probs, labels)
    pred = probs.argmax(axis=1)

    assert m["kind"] == "three_way" and m["classes"] == list(LABELS) and m["pairs"] == len(gold)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(gold, pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(gold, pred, average="macro"))
    precision, recall, f1, support = skm.precision_recall_fscore_support(gold, pred, labels=[0, 1, 2])
    for i, name in enumerate(LABELS):
        scores = m["per_class"][name]
        assert scores["precision"] == pytest.approx(precision[i])
        assert scores["recall"] == pytest.approx(recall[i])
        assert scores["f1"] == pytest.approx(f1[i])
        assert scores["support"] == support[i]
    assert m["confusion_matrix"] == {"labels": list(LABELS),
                                     "matrix": skm.confusion_matrix(gold, pred, labels=[0, 1, 2]).tolist()}

    truth, score = gold == 0, probs[:, 0]
    sk_p, sk_r, sk_t = skm.precision_recall_curve(truth, score)
    ours_p, ours_r, ours_t = precision_recall_curve(truth, score)
    np.testing.assert_allclose(ours_p, sk_p)
    np.testing.assert_allclose(ours_r, sk_r)
    np.testing.assert_allclose(ours_t, sk_t)
    c = m["contradiction"]
    sk_f1 = 2 * sk_p[:-1] * sk_r[:-1] / np.maximum(sk_p[:-1] + sk_r[:-1], 1e-300)
    best = int(np.argmax(sk_f1))
    assert c["best_f1"] == pytest.approx(sk_f1[best])
    assert c["best_threshold"] == pytest.approx(sk_t[best])
    assert c["best_f1"] == pytest.approx(skm.f1_score(truth, score >= c["best_threshold"]))
    assert c["average_precision"] == pytest.approx(skm.average_precision_score(truth, score))
    assert c["positives"] == int(truth.sum())
    assert len(sk_t) > PR_POINTS  # the curve is sampled, from the first point to the last
    curve = c["curve"]
    assert len(curve["threshold"]) == len(curve["precision"]) == len(curve["recall"]) <= PR_POINTS
    assert curve["threshold"][0] == pytest.approx(sk_t[0]) and curve["threshold"][-1] == pytest.approx(sk_t[-1])
    assert curve["threshold"] == sorted(curve["threshold"])


def test_two_way_metrics_agree_with_scikit_learn_on_renormalised_columns():
    probs, gold3 = random_predictions(seed=11)
    keep = gold3 != 2
    probs, gold3 = probs[keep], gold3[keep]
    labels = [LABELS[i] for i in gold3]
    m = metrics_from_probabilities(probs, labels)
    assert m["kind"] == "two_way" and m["classes"] == ["contradiction", "entailment"]
    p_c = probs[:, 0] / (probs[:, 0] + probs[:, 1])
    pred = np.where(p_c >= 0.5, 0, 1)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(gold3, pred))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(gold3, pred, average="macro"))
    assert m["confusion_matrix"]["matrix"] == skm.confusion_matrix(gold3, pred).tolist()
    assert m["contradiction"]["average_precision"] == pytest.approx(skm.average_precision_score(gold3 == 0, p_c))
    assert "neutral" not in m["per_class"]


def test_partial_set_macro_f1_over_the_classes_it_holds():
    probs, gold = random_predictions(seed=3)
    keep = gold != 0  # entailment and neutral only: no contradictions
    probs, gold = probs[keep], gold[keep]
    m = metrics_from_probabilities(probs, [LABELS[i] for i in gold])
    pred = probs.argmax(axis=1)
    assert m["kind"] == "partial"
    assert m["macro_f1"] == pytest.approx(skm.f1_score(gold, pred, labels=[1, 2], average="macro"))
    assert m["per_class"]["contradiction"]["support"] == 0
    assert m["contradiction"] is None  # no contradiction to find, no curve


# ------------------------------------------------------------------ by hand
HAND_PROBS = np.array([
    [0.70, 0.20, 0.10],  # gold c, predicted c (confidence 0.70)
    [0.10, 0.78, 0.12],  # gold e, predicted e (0.78)
    [0.50, 0.30, 0.20],  # gold e, predicted c (0.50)
    [0.20, 0.15, 0.65],  # gold n, predicted n (0.65)
    [0.30, 0.05, 0.65],  # gold c, predicted n (0.65)
])
HAND_LABELS = ["contradiction", "entailment", "entailment", "neutral", "contradiction"]


def test_hand_computed_metrics_on_a_tiny_fixed_case():
    m = metrics_from_probabilities(HAND_PROBS, HAND_LABELS)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["confusion_matrix"]["matrix"] == [[1, 0, 1], [1, 1, 0], [0, 0, 1]]
    pc = m["per_class"]
    assert (pc["contradiction"]["precision"], pc["contradiction"]["recall"], pc["contradiction"]["f1"]) == \
        pytest.approx((1 / 2, 1 / 2, 1 / 2))
    assert (pc["entailment"]["precision"], pc["entailment"]["recall"], pc["entailment"]["f1"]) == \
        pytest.approx((1.0, 1 / 2, 2 / 3))
    assert (pc["neutral"]["precision"], pc["neutral"]["recall"], pc["neutral"]["f1"]) == \
        pytest.approx((1 / 2, 1.0, 2 / 3))
    assert m["macro_f1"] == pytest.approx(11 / 18)
    # ECE, 15 bins of width 1/15: 0.50 -> bin 7 (wrong); 0.65, 0.65 -> bin 9 (one right);
    # 0.70 -> bin 10 (right); 0.78 -> bin 11 (right).
    expected_ece = (1 * abs(0 - 0.50) + 2 * abs(0.5 - 0.65) + 1 * abs(1 - 0.70) + 1 * abs(1 - 0.78)) / 5
    assert expected_ece == pytest.approx(0.264)
    assert m["ece"] == pytest.approx(expected_ece)
    assert m["ece_bins"] == ECE_BINS == len(m["reliability"])
    counts = [b["count"] for b in m["reliability"]]
    assert counts == [0] * 7 + [1, 0, 2, 1, 1, 0, 0, 0]
    assert m["reliability"][9]["accuracy"] == 0.5 and m["reliability"][9]["confidence"] == pytest.approx(0.65)
    assert m["nll"] == pytest.approx(-(math.log(0.7) + math.log(0.78) + math.log(0.3) + math.log(0.65)
                                       + math.log(0.3)) / 5)
    # Contradiction scores 0.7 (c), 0.5, 0.3 (c), 0.2, 0.1: at p >= 0.3 precision 2/3, recall 1.
    c = m["contradiction"]
    assert c["best_threshold"] == pytest.approx(0.3)
    assert c["best_f1"] == pytest.approx(0.8)
    assert (c["precision_at_best"], c["recall_at_best"]) == pytest.approx((2 / 3, 1.0))
    assert c["average_precision"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    json.dumps(m)  # plain JSON-able


def test_two_way_is_scored_as_entailment_vs_contradiction_by_hand():
    probs = np.array([
        [0.30, 0.10, 0.60],  # gold c: c 0.75 -> right
        [0.10, 0.30, 0.60],  # gold e: e 0.75 -> right
        [0.45, 0.10, 0.45],  # gold e: c 0.45 / 0.55 = 0.818 -> wrong
        [0.05, 0.15, 0.80],  # gold c: e 0.75 -> wrong
    ])
    labels = ["contradiction", "entailment", "entailment", "contradiction"]
    m = metrics_from_probabilities(probs, labels)
    assert m["kind"] == "two_way"
    assert m["accuracy"] == pytest.approx(0.5)  # three-way argmax would say neutral every time: 0.0
    assert m["confusion_matrix"] == {"labels": ["contradiction", "entailment"], "matrix": [[1, 1], [1, 1]]}
    assert m["mean_confidence"] == pytest.approx((0.75 * 3 + 0.45 / 0.55) / 4)
    # 0.75 x3 -> bin 11 (2 of 3 right); 0.818 -> bin 12 (wrong)
    assert m["ece"] == pytest.approx(3 / 4 * abs(2 / 3 - 0.75) + 1 / 4 * abs(0 - 0.45 / 0.55))
    assert metrics_from_probabilities(probs, labels, "three_way")["accuracy"] == 0.0


def test_entailment_vs_not_by_hand():
    probs = np.array([
        [0.60, 0.30, 0.10],  # gold not: p_e 0.30 -> not, right
        [0.45, 0.40, 0.15],  # gold e: p_e 0.40 -> not, wrong
        [0.10, 0.70, 0.20],  # gold e: right
        [0.20, 0.55, 0.25],  # gold not: p_e 0.55 -> e, wrong
    ])
    labels = ["not_entailment", "entailment", "entailment", "not_entailment"]
    m = metrics_from_probabilities(probs, labels)
    assert m["kind"] == "entailment_vs_not"
    assert m["classes"] == ["entailment", "not_entailment"]
    assert m["accuracy"] == 0.5
    assert m["confusion_matrix"]["matrix"] == [[1, 1], [1, 1]]
    assert m["contradiction"] is None
    assert m["nll"] == pytest.approx(-(math.log(0.7) + math.log(0.4) + math.log(0.7) + math.log(0.45)) / 4)


def test_ece_of_perfectly_calibrated_bins_is_zero_and_of_overconfidence_is_the_gap():
    conf = np.array([0.9] * 10)
    assert expected_calibration_error(conf, np.array([1] * 9 + [0]))[0] == pytest.approx(0.0)
    assert expected_calibration_error(conf, np.array([1] * 5 + [0] * 5))[0] == pytest.approx(0.4)


def test_bad_inputs_say_what_to_do():
    with pytest.raises(NLICheckError, match="shape"):
        metrics_from_probabilities(np.ones((2, 2)), ["entailment", "neutral"])
    with pytest.raises(NLICheckError, match="labels"):
        metrics_from_probabilities(np.ones((2, 3)) / 3, ["entailment"])
    with pytest.raises(NLICheckError, match="not canonical"):
        metrics_from_probabilities(np.ones((1, 3)) / 3, ["SUPPORTS"])


# ------------------------------------------------------------------ with a model, and plots
def test_evaluate_scores_the_models_probabilities(tiny_model):
    from nli_check.data import LabelledPairs

    data = LabelledPairs(
        premises=["Troops left the border.", "The harvest was good.", "Prices rose.", "It rained."],
        hypotheses=["Troops stayed.", "Farmers were pleased.", "Prices fell.", "The ground was wet."],
        labels=["contradiction", "neutral", "contradiction", "entailment"],
        name="tiny",
    )
    m = evaluate(tiny_model, data, batch_size=2)
    expected = metrics_from_probabilities(tiny_model.predict_proba(data.pairs()), data.labels)
    assert m["accuracy"] == expected["accuracy"] and m["ece"] == pytest.approx(expected["ece"])
    assert m["name"] == "tiny" and m["pairs"] == 4 and m["pairs_per_second"] > 0
    report = evaluate_sets(tiny_model, [data, data])
    assert [s["name"] for s in report["sets"]] == ["tiny", "tiny-2"]
    assert report["summary"]["pairs"] == 8 and report["summary"]["accuracy"] == pytest.approx(m["accuracy"])
    json.loads(json.dumps(report))


def test_plots_are_valid_pngs(tmp_path):
    from matplotlib.image import imread

    m = metrics_from_probabilities(HAND_PROBS, HAND_LABELS)
    paths = write_plots(m, tmp_path / "plots", "my set/1")
    assert sorted(p.name for p in paths) == ["my_set_1-confusion.png", "my_set_1-pr.png",
                                            "my_set_1-reliability.png"]
    for path in paths:
        assert path.read_bytes()[:8] == PNG_MAGIC
        image = imread(path)
        assert image.shape[0] > 100 and image.shape[1] > 100
    # No contradiction curve for an entailment-vs-not set: no PR plot.
    m = metrics_from_probabilities(np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]]), ["entailment", "not_entailment"])
    names = sorted(p.name for p in write_plots(m, tmp_path / "rte", "rte"))
    assert names == ["rte-confusion.png", "rte-reliability.png"]
