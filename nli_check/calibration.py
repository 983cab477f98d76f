"""Temperature scaling: one number that makes the model's confidence a calibrated probability.

The model's logits are divided by a temperature ``T`` before the softmax (Guo et al., 2017,
"On Calibration of Modern Neural Networks"). ``T`` is fitted on labelled dev data by
minimising the negative log-likelihood (NLL) of the gold labels; it never changes which label
wins, only how sure the model says it is. :func:`calibrate` stores ``T`` in the model
directory's ``calibration.json``, and :class:`~nli_check.nli.NLIModel` applies it on load.

Sets that do not offer all three answers are fitted on the answers they do offer, so that
each set's likelihood is the one :mod:`nli_check.evaluation` scores it with:

* ``two_way`` (supports / refutes) rows use the softmax over contradiction and entailment
  only; the neutral column is masked out. Such sets were built by leaving neutral (not enough
  info) pairs out, so "the gold label is not neutral" is a fact about how the set was made,
  not about the pair; counting it would push ``T`` down (towards over-confidence) for every
  pair where the model gives neutral some weight. The conditional ``p(c | c or e)`` is what
  the set can check, and it is what eval scores two-way sets on.
* ``not_entailment`` rows use ``p(contradiction) + p(neutral)`` as the probability of the
  gold label (both are "not entailment"), over all three classes.

So each row has a set of *allowed* classes and a set of *gold* classes, and its NLL is
``logsumexp(z[allowed] / T) - logsumexp(z[gold] / T)``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nli_check.errors import NLICheckError
from nli_check.labels import CONTRADICTION, LABELS, NEUTRAL, NOT_ENTAILMENT

logger = logging.getLogger(__name__)

#: Temperatures are searched in this range (on a log scale).
T_BOUNDS = (0.01, 100.0)


def class_masks(labels: Sequence, kind: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(gold, allowed)`` boolean masks of shape ``(n, 3)`` for the labels of one set.

    ``labels`` are canonical names (``not_entailment`` allowed) or class indices into
    :data:`LABELS`. ``kind="two_way"`` masks the neutral column (see the module docstring).
    """
    n = len(labels)
    gold = np.zeros((n, len(LABELS)), dtype=bool)
    for row, label in enumerate(labels):
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if not 0 <= int(label) < len(LABELS):
                raise NLICheckError(f"label index {label} is out of range: use 0..{len(LABELS) - 1}")
            gold[row, int(label)] = True
        elif label == NOT_ENTAILMENT:
            gold[row, LABELS.index(CONTRADICTION)] = True
            gold[row, LABELS.index(NEUTRAL)] = True
        elif label in LABELS:
            gold[row, LABELS.index(label)] = True
        else:
            raise NLICheckError(f"label {label!r} is not canonical: use {', '.join(LABELS)} or not_entailment")
    allowed = np.ones_like(gold)
    if kind == "two_way":
        if gold[:, LABELS.index(NEUTRAL)].any():
            raise NLICheckError("a two_way set holds only entailment and contradiction labels, not neutral")
        allowed[:, LABELS.index(NEUTRAL)] = False
    return gold, allowed


def _logsumexp(z: np.ndarray, mask: np.ndarray) -> np.ndarray:
    z = np.where(mask, z, -np.inf)
    top = z.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))[:, 0]


def nll(logits: np.ndarray, gold: np.ndarray, allowed: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of the gold classes at ``temperature`` (masks as above)."""
    z = np.asarray(logits, dtype=np.float64) / float(temperature)
    return float(np.mean(_logsumexp(z, allowed) - _logsumexp(z, gold & allowed)))


def fit_temperature(logits: np.ndarray, labels: Sequence, *, allowed: np.ndarray | None = None,
                    kind: str | None = None) -> float:
    """The temperature ``T`` that minimises the NLL of ``labels`` under ``softmax(logits / T)``.

    ``logits`` is ``(n, 3)`` in :data:`LABELS` order (uncalibrated, as
    :meth:`NLIModel.predict_logits` returns them); ``labels`` are canonical names or class
    indices. ``allowed`` optionally restricts, per row, the classes the softmax runs over;
    ``kind="two_way"`` does that for a supports/refutes set. The NLL is convex in ``1/T``, so
    a bounded scalar search on ``log T`` (Brent's method) finds the global minimum; the result
    is clipped to :data:`T_BOUNDS`.

    Example::

        T = fit_temperature(model.predict_logits(dev.pairs()), dev.labels)
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[1] != len(LABELS):
        raise NLICheckError(f"logits must have shape (n, {len(LABELS)}), got {logits.shape}")
    if len(labels) != len(logits):
        raise NLICheckError(f"{len(logits)} logit rows but {len(labels)} labels")
    if not len(labels):
        raise NLICheckError("no labelled pairs to fit a temperature on")
    if not np.isfinite(logits).all():
        raise NLICheckError("the logits hold NaN or infinite values: the model is broken for some inputs")
    gold, default_allowed = class_masks(labels, kind)
    allowed = default_allowed if allowed is None else np.asarray(allowed, dtype=bool) & default_allowed
    if not (gold & allowed).any(axis=1).all():
        raise NLICheckError("some gold labels are masked out by `allowed`: nothing to fit for those rows")
    return _minimise(logits, gold, allowed)


def calibrate(
    model_dir: str | os.PathLike,
    data,
    *,
    device: str | None = "auto",
    batch_size: int = 64,
    max_length: int | None = None,
    show_progress: bool = False,
    write: bool = True,
) -> dict:
    """Fit temperature scaling for the model in ``model_dir`` on labelled dev ``data`` (one
    :class:`~nli_check.data.LabelledPairs` or a list of them) and store it in the model's
    ``calibration.json`` (unless ``write=False``).

    Returns the report that is stored: ``temperature``, ``nll_before`` / ``nll_after`` (the
    fitted objective over all pairs at T=1 and at T), ``ece_before`` / ``ece_after`` (the
    pair-weighted mean over sets of each set's ECE, scored as eval scores it), ``pairs``, and
    per set under ``data`` its name, path, SHA-256, kind, pairs and the same four numbers.

    Example::

        from nli_check.data import read_pairs
        report = calibrate("my-model", read_pairs("claims-dev.csv"))
        report["temperature"], report["ece_before"], report["ece_after"]
    """
    from nli_check.evaluation import ECE_BINS, metrics_from_probabilities
    from nli_check.nli import NLIModel, _softmax, write_calibration

    sets = [data] if not isinstance(data, (list, tuple)) else list(data)
    if not sets:
        raise NLICheckError("no dev data to calibrate on: give at least one labelled set")
    path = Path(model_dir).expanduser()
    if not path.is_dir():
        raise NLICheckError(f"calibrate needs a local model directory; {model_dir} is not one")
    model = NLIModel(path, device=device, max_length=max_length, temperature=1.0)

    # A class the model does not have (a two-way model's neutral) is never allowed; pairs whose
    # gold label only such a class could explain are left out of the fit.
    has_class = np.array([name in model.label_index for name in LABELS])
    logits_all, gold_all, allowed_all, per_set = [], [], [], []
    for item in sets:
        if len(item) == 0:
            raise NLICheckError(f"{item.name}: no labelled pairs to calibrate on")
        all_logits = model.predict_logits(item.pairs(), batch_size=batch_size, show_progress=show_progress)
        gold, allowed = class_masks(item.labels, item.kind)
        allowed &= has_class
        usable = (gold & allowed).any(axis=1)
        if not usable.all():
            logger.warning("%s: %d pairs are left out of the fit: the model has no class for their label",
                           item.name, int((~usable).sum()))
        logits, gold, allowed = all_logits[usable], gold[usable], allowed[usable]
        logits_all.append(logits.astype(np.float64))
        gold_all.append(gold)
        allowed_all.append(allowed)
        per_set.append((item, all_logits, logits, gold, allowed))
    logits = np.concatenate(logits_all)
    if not len(logits):
        raise NLICheckError(f"no dev pair has a label {model.name} can predict: nothing to calibrate on")
    gold = np.concatenate(gold_all)
    allowed = np.concatenate(allowed_all)
    if not np.isfinite(logits).all():
        raise NLICheckError(f"{model.name} gives NaN or infinite logits for some dev pairs: the model is broken")
    temperature = _minimise(logits, gold, allowed)

    records = []
    for item, item_logits, set_logits, set_gold, set_allowed in per_set:
        before = metrics_from_probabilities(_softmax(item_logits), item.labels, item.kind)
        after = metrics_from_probabilities(_softmax(item_logits / temperature), item.labels, item.kind)
        records.append({
            "name": item.name, "path": item.path, "sha256": item.sha256, "kind": item.kind,
            "pairs": len(item),
            "ece_before": before["ece"], "ece_after": after["ece"],
            "pairs_fitted": len(set_logits),
            "nll_before": nll(set_logits, set_gold, set_allowed, 1.0) if len(set_logits) else None,
            "nll_after": nll(set_logits, set_gold, set_allowed, temperature) if len(set_logits) else None,
        })
    total = sum(r["pairs"] for r in records)
    report = {
        "temperature": temperature,
        "method": "temperature scaling (NLL, bounded search on log T)",
        "ece_before": sum(r["ece_before"] * r["pairs"] for r in records) / total,
        "ece_after": sum(r["ece_after"] * r["pairs"] for r in records) / total,
        "nll_before": nll(logits, gold, allowed, 1.0),
        "nll_after": nll(logits, gold, allowed, temperature),
        "ece_bins": ECE_BINS,
        "pairs": total,
        "pairs_fitted": len(logits),
        "data": records,
    }
    if write:
        report["file"] = str(write_calibration(path, report))
    return report


def _minimise(logits: np.ndarray, gold: np.ndarray, allowed: np.ndarray) -> float:
    """The NLL-minimising temperature for rows given as (gold, allowed) masks."""
    from scipy.optimize import minimize_scalar

    lo, hi = np.log(T_BOUNDS[0]), np.log(T_BOUNDS[1])
    result = minimize_scalar(lambda log_t: nll(logits, gold, allowed, np.exp(log_t)),
                             bounds=(lo, hi), method="bounded", options={"xatol": 1e-5})
    temperature = float(np.exp(result.x))
    if min(abs(result.x - lo), abs(result.x - hi)) < 1e-3:
        logger.warning("the fitted temperature %.3g is at the edge of the search range %s: the model's "
                       "confidence barely depends on its logits, or the dev set is tiny", temperature, T_BOUNDS)
    return temperature


__all__ = ["T_BOUNDS", "calibrate", "class_masks", "fit_temperature", "nll"]
