"""Scoring an NLI model on labelled sets: metrics, calibration error and plots.

Everything here returns plain, JSON-ready dicts. :func:`metrics_from_probabilities` is pure
(probabilities and gold labels in, metrics out); :func:`evaluate` runs a model on one
:class:`~nli_check.data.LabelledPairs` set and adds timing; :func:`evaluate_sets` does several
and adds a macro summary; :func:`write_plots` draws the figures.

How a set is scored depends on its kind (:attr:`LabelledPairs.kind`):

* ``three_way`` and ``partial``: argmax over contradiction / entailment / neutral.
* ``two_way`` (supports / refutes): entailment vs contradiction. The neutral column is dropped
  and the other two probabilities renormalised, ``p_c / (p_c + p_e)``; the prediction is the
  larger of the two. The set offers no neutral answer, so the model is not asked for one.
* ``entailment_vs_not`` (RTE-style ``not_entailment``): the probabilities are collapsed to
  ``p_e`` and ``1 - p_e``; the prediction is entailment when ``p_e > 0.5``. Gold labels other
  than entailment count as ``not_entailment``.

Definitions:

* **macro-F1** is the mean F1 over the scored classes that occur in the gold labels (for a
  ``partial`` set, a class it never contains is not averaged in). Per-class precision, recall
  and F1 are 0.0 where undefined (scikit-learn's ``zero_division=0``).
* **Confusion matrix** rows are gold labels, columns predictions, in ``labels`` order.
* **ECE** (expected calibration error): the top-class confidence (the probability of the
  predicted class, in the scoring space above) is put into 15 equal-width bins over [0, 1],
  bin *i* holding confidences in ``(i/15, (i+1)/15]`` (the first also holds 0);
  ``ECE = sum_b n_b / N * |accuracy_b - mean confidence_b|``. The bins are returned as
  ``reliability`` for the reliability diagram.
* **NLL** is the mean negative log-probability of the gold label in the scoring space.
* **Contradiction** (when the set has contradiction labels and is not entailment-vs-not):
  contradiction vs the rest, scored by the contradiction probability. The precision-recall
  curve is the one :func:`sklearn.metrics.precision_recall_curve` computes, sampled to at most
  :data:`PR_POINTS` points; ``best_threshold`` is the threshold whose F1 is highest (flag a
  contradiction when ``p >= best_threshold``), with that ``best_f1``; ``average_precision``
  is the step-wise area under the curve (as scikit-learn's).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, ENTAILMENT, LABELS, NEUTRAL, NOT_ENTAILMENT

#: Number of equal-width confidence bins for ECE and the reliability diagram.
ECE_BINS = 15
#: At most this many points of the contradiction precision-recall curve are kept.
PR_POINTS = 101

_KINDS = ("three_way", "two_way", "entailment_vs_not", "partial")


def infer_kind(labels: Sequence[str]) -> str:
    """The kind of a set from its labels (the same rule as :attr:`LabelledPairs.kind`)."""
    present = set(labels)
    if NOT_ENTAILMENT in present:
        return "entailment_vs_not"
    if present == {ENTAILMENT, CONTRADICTION}:
        return "two_way"
    if present == set(LABELS):
        return "three_way"
    return "partial"


def scoring_space(probs: np.ndarray, labels: Sequence[str], kind: str | None = None):
    """Map 3-way probabilities and gold labels onto the classes a set of this kind is scored on.

    Returns ``(classes, class_probs, gold)``: the class names, an ``(n, len(classes))``
    probability matrix whose rows sum to 1, and the gold class index of each row.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(LABELS):
        raise NLICheckError(
            f"probabilities must have shape (n, {len(LABELS)}) in {LABELS} order, got {probs.shape}"
        )
    labels = list(labels)
    if len(labels) != len(probs):
        raise NLICheckError(f"{len(probs)} probability rows but {len(labels)} labels")
    if not labels:
        raise NLICheckError("no labelled pairs to score")
    unknown = sorted(set(labels) - set(LABELS) - {NOT_ENTAILMENT})
    if unknown:
        raise NLICheckError(f"labels {unknown} are not canonical: use {', '.join(LABELS)} or not_entailment")
    kind = kind or infer_kind(labels)
    if kind not in _KINDS:
        raise NLICheckError(f"unknown set kind {kind!r}: use one of {', '.join(_KINDS)}")
    if kind == "entailment_vs_not":
        classes = [ENTAILMENT, NOT_ENTAILMENT]
        p_e = np.clip(probs[:, 1], 0.0, 1.0)
        class_probs = np.stack([p_e, 1.0 - p_e], axis=1)
        gold = np.array([0 if x == ENTAILMENT else 1 for x in labels])
        return classes, class_probs, gold
    if NOT_ENTAILMENT in labels:
        raise NLICheckError(f"a {kind} set cannot hold not_entailment labels: score it as entailment_vs_not")
    if kind == "two_way":
        if NEUTRAL in labels:
            raise NLICheckError("a two_way set holds only entailment and contradiction labels, not neutral")
        classes = [CONTRADICTION, ENTAILMENT]
        pair = probs[:, :2]
        total = pair.sum(axis=1, keepdims=True)
        class_probs = np.where(total > 0, pair / np.where(total > 0, total, 1.0), 0.5)
        gold = np.array([classes.index(x) for x in labels])
        return classes, class_probs, gold
    classes = list(LABELS)
    gold = np.array([classes.index(x) for x in labels])
    return classes, probs, gold


def _predict(class_probs: np.ndarray, kind: str) -> np.ndarray:
    if kind == "entailment_vs_not":
        return np.where(class_probs[:, 0] > 0.5, 0, 1)
    return class_probs.argmax(axis=1)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS):
    """ECE over ``bins`` equal-width bins, and the bins themselves (for the reliability diagram)."""
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    n = len(confidence)
    ece = 0.0
    table = []
    for b in range(bins):
        in_bin = index == b
        count = int(in_bin.sum())
        row = {"lower": b / bins, "upper": (b + 1) / bins, "count": count,
               "confidence": None, "accuracy": None}
        if count:
            conf = float(confidence[in_bin].mean())
            acc = float(correct[in_bin].mean())
            row.update(confidence=conf, accuracy=acc)
            ece += count / n * abs(acc - conf)
        table.append(row)
    return float(ece), table


def precision_recall_curve(truth: np.ndarray, score: np.ndarray):
    """Precision, recall and thresholds, as :func:`sklearn.metrics.precision_recall_curve`.

    ``thresholds`` increase; ``precision`` and ``recall`` have one more entry than
    ``thresholds``, the last being ``(1, 0)``.
    """
    truth = np.asarray(truth, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    order = np.argsort(-score, kind="mergesort")
    score, truth = score[order], truth[order]
    distinct = np.where(np.diff(score))[0]
    ends = np.r_[distinct, len(truth) - 1]
    tps = np.cumsum(truth)[ends].astype(np.float64)
    fps = (ends + 1) - tps
    thresholds = score[ends]
    positives = tps[-1]
    precision = tps / np.maximum(tps + fps, 1)
    recall = tps / positives if positives else np.zeros_like(tps)
    # Increasing thresholds, decreasing recall (scikit-learn's order).
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def _contradiction_metrics(truth: np.ndarray, score: np.ndarray) -> dict | None:
    if not truth.any():
        return None
    precision, recall, thresholds = precision_recall_curve(truth, score)
    p, r = precision[:-1], recall[:-1]
    f1 = np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1.0), 0.0)
    best = int(np.argmax(f1))
    average_precision = float(-np.sum(np.diff(recall) * precision[:-1]))
    if len(thresholds) > PR_POINTS:
        picks = np.unique(np.linspace(0, len(thresholds) - 1, PR_POINTS).round().astype(int))
    else:
        picks = np.arange(len(thresholds))
    return {
        "positives": int(truth.sum()),
        "average_precision": average_precision,
        "best_threshold": float(thresholds[best]),
        "best_f1": float(f1[best]),
        "precision_at_best": float(p[best]),
        "recall_at_best": float(r[best]),
        "curve": {
            "threshold": [float(x) for x in thresholds[picks]],
            "precision": [float(x) for x in p[picks]],
            "recall": [float(x) for x in r[picks]],
        },
    }


def metrics_from_probabilities(probs: np.ndarray, labels: Sequence[str], kind: str | None = None) -> dict:
    """Accuracy, macro-F1, per-class scores, confusion matrix, ECE, NLL and the contradiction
    precision-recall curve of fixed predictions.

    ``probs`` is ``(n, 3)`` in :data:`~nli_check.labels.LABELS` order; ``labels`` are canonical
    names (``not_entailment`` allowed); ``kind`` defaults to the one the labels imply. See the
    module docstring for how each kind is scored and how each metric is defined.
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = list(labels)
    kind = kind or infer_kind(labels)
    classes, class_probs, gold = scoring_space(probs, labels, kind)
    pred = _predict(class_probs, kind)
    k = len(classes)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (gold, pred), 1)
    per_class = {}
    f1_present = []
    for i, name in enumerate(classes):
        tp = int(matrix[i, i])
        predicted = int(matrix[:, i].sum())
        support = int(matrix[i, :].sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
        if support:
            f1_present.append(f1)
    correct = pred == gold
    confidence = class_probs[np.arange(len(pred)), pred]
    ece, reliability = expected_calibration_error(confidence, correct)
    gold_p = np.clip(class_probs[np.arange(len(gold)), gold], 1e-12, 1.0)
    contradiction = None
    if kind != "entailment_vs_not":
        c = classes.index(CONTRADICTION)
        contradiction = _contradiction_metrics(gold == c, class_probs[:, c])
    return {
        "kind": kind,
        "pairs": len(labels),
        "classes": classes,
        "accuracy": float(correct.mean()),
        "macro_f1": float(np.mean(f1_present)),
        "per_class": per_class,
        "confusion_matrix": {"labels": classes, "matrix": matrix.tolist()},
        "ece": ece,
        "ece_bins": ECE_BINS,
        "nll": float(-np.log(gold_p).mean()),
        "mean_confidence": float(confidence.mean()),
        "reliability": reliability,
        "contradiction": contradiction,
    }


def evaluate(model, data, *, batch_size: int = 64, show_progress: bool = False) -> dict:
    """Run ``model`` (an :class:`~nli_check.nli.NLIModel`) on a labelled set and score it.

    The model's calibrated probabilities (``predict_proba``, windowing long premises as
    ``check`` does) are scored by :func:`metrics_from_probabilities`; the result also names
    the set and the model and reports pairs per second.

    Example::

        from nli_check import NLIModel
        from nli_check.data import read_pairs
        metrics = evaluate(NLIModel(), read_pairs("claims.csv"))
        metrics["accuracy"], metrics["contradiction"]["best_threshold"]
    """
    if len(data) == 0:
        raise NLICheckError(f"{data.name}: no labelled pairs to evaluate")
    started = time.perf_counter()
    probs = model.predict_proba(data.pairs(), batch_size=batch_size, show_progress=show_progress)
    seconds = time.perf_counter() - started
    metrics = metrics_from_probabilities(probs, data.labels, data.kind)
    return {
        "name": data.name,
        "path": data.path,
        "sha256": data.sha256,
        **metrics,
        "seconds": seconds,
        "pairs_per_second": len(data) / seconds if seconds > 0 else None,
        "model": getattr(model, "name", None),
        "temperature": getattr(model, "temperature", None),
    }


def summarise(sets: Sequence[dict]) -> dict:
    """Unweighted mean over sets of accuracy, macro-F1, ECE and contradiction best F1."""
    def mean(values):
        values = [v for v in values if v is not None]
        return float(np.mean(values)) if values else None

    pairs = sum(m["pairs"] for m in sets)
    seconds = sum(m.get("seconds") or 0.0 for m in sets)
    return {
        "sets": len(sets),
        "pairs": pairs,
        "accuracy": mean(m["accuracy"] for m in sets),
        "macro_f1": mean(m["macro_f1"] for m in sets),
        "ece": mean(m["ece"] for m in sets),
        "contradiction_best_f1": mean((m["contradiction"] or {}).get("best_f1") for m in sets),
        "pairs_per_second": pairs / seconds if seconds > 0 else None,
    }


def evaluate_sets(model, sets: Sequence, *, batch_size: int = 64, show_progress: bool = False) -> dict:
    """Evaluate ``model`` on each set; returns ``{"model", "device", "temperature", "sets",
    "summary"}`` with one metrics dict per set (names made unique) and a macro summary."""
    results = []
    seen: dict[str, int] = {}
    for data in sets:
        metrics = evaluate(model, data, batch_size=batch_size, show_progress=show_progress)
        name = metrics["name"]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            metrics["name"] = f"{name}-{seen[name]}"
        results.append(metrics)
    return {
        "model": getattr(model, "name", None),
        "device": str(getattr(model, "device", "")) or None,
        "temperature": getattr(model, "temperature", None),
        "sets": results,
        "summary": summarise(results),
    }


def load_config_dev_sets(config_path, data_dir=None, section: str = "dev") -> tuple[list, object]:
    """The ``[[dev]]`` (or ``[[calibration]]``) sets of a training config, in full (``max_dev_pairs``
    is not applied).

    Returns ``(sets, config)``. ``data_dir`` replaces the config's ``data_dir``.
    """
    from nli_check.training import TrainConfig, read_spec

    config = TrainConfig.from_file(config_path)
    if data_dir is not None:
        config.data_dir = str(data_dir)
    specs = getattr(config, section)
    if not specs:
        raise NLICheckError(f"{config_path} has no [[{section}]] sets: add some, or give data files")
    return [read_spec(config, spec, section) for spec in specs], config


# ------------------------------------------------------------------ plots
def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "set"


def write_plots(metrics: dict, directory, name: str | None = None) -> list[Path]:
    """Write PNGs for one set's metrics: ``{name}-confusion.png``, ``{name}-reliability.png``
    and, when the set has contradictions, ``{name}-pr.png``. Returns the paths written."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = _slug(name or metrics.get("name") or "set")
    title = metrics.get("name") or name
    written = []

    def save(fig, suffix):
        FigureCanvasAgg(fig)
        path = directory / f"{name}-{suffix}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        written.append(path)

    # Confusion matrix: rows gold, columns predicted, counts written in each cell.
    cm = metrics["confusion_matrix"]
    matrix = np.asarray(cm["matrix"])
    labels = cm["labels"]
    fig = Figure(figsize=(1.4 * len(labels) + 2, 1.2 * len(labels) + 1.6))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{title}: confusion matrix (accuracy {metrics['accuracy']:.3f})")
    high = matrix.max() if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                    color="white" if high and matrix[i, j] > high / 2 else "black")
    save(fig, "confusion")

    # Reliability diagram: accuracy per confidence bin against the diagonal.
    bins = metrics["reliability"]
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot()
    width = 1.0 / len(bins)
    filled = [b for b in bins if b["count"]]
    ax.bar([b["lower"] for b in filled], [b["accuracy"] for b in filled], width=width, align="edge",
           edgecolor="black", color="#4c78a8", label="accuracy")
    ax.bar([b["lower"] for b in filled], [b["confidence"] - b["accuracy"] for b in filled], width=width,
           bottom=[b["accuracy"] for b in filled], align="edge", color="#e45756", alpha=0.35, label="gap")
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title}: reliability (ECE {metrics['ece']:.3f})")
    ax.legend(loc="upper left")
    save(fig, "reliability")

    contradiction = metrics.get("contradiction")
    if contradiction:
        curve = contradiction["curve"]
        fig = Figure(figsize=(5, 5))
        ax = fig.add_subplot()
        ax.plot(curve["recall"], curve["precision"], color="#4c78a8")
        ax.plot([contradiction["recall_at_best"]], [contradiction["precision_at_best"]], "o", color="#e45756",
                label=f"best F1 {contradiction['best_f1']:.3f} at p >= {contradiction['best_threshold']:.3f}")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_title(f"{title}: contradiction (AP {contradiction['average_precision']:.3f})")
        ax.legend(loc="lower left")
        save(fig, "pr")
    return written


__all__ = [
    "ECE_BINS",
    "PR_POINTS",
    "evaluate",
    "evaluate_sets",
    "expected_calibration_error",
    "infer_kind",
    "load_config_dev_sets",
    "metrics_from_probabilities",
    "precision_recall_curve",
    "scoring_space",
    "summarise",
    "write_plots",
]
