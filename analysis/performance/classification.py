"""Classification metrics with confidence intervals, weighted; binary and multiclass.

Intervals (docs/statistics.md): Wilson for proportions (accuracy, binary precision and recall)
at the effective sample size; DeLong for ROC AUC; the delta method (influence functions) for
F1, macro precision / recall / F1, log loss and Brier; a seeded bootstrap for ECE.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from analysis.performance.auc import auc_influence
from analysis.performance.calibration import expected_calibration_error
from analysis.performance.metric import MetricEstimate, estimate, labels_as_text, prepare
from analysis.stats.intervals import Interval, influence_interval, wilson_interval, z_value
from analysis.stats.weights import effective_sample_size

LOG_EPS = np.finfo(np.float64).eps  # probabilities clipped to [eps, 1 - eps], as sklearn's log_loss


@dataclass(frozen=True)
class ClassificationReport:
    metrics: Mapping[str, MetricEstimate]
    confusion_matrix: np.ndarray  # weighted; rows = true class, columns = predicted, in `classes` order
    classes: tuple[str, ...]
    n_missing_labels: int

    def __getitem__(self, name: str) -> MetricEstimate:
        return self.metrics[name]


def _ratio(name: str, num: np.ndarray, den: np.ndarray, w: np.ndarray, level: float) -> MetricEstimate:
    """Weighted share num/den over rows (num, den per-row 0/1) with a Wilson interval."""
    sub = den > 0
    total = float(np.dot(w[sub], den[sub]))
    if total <= 0:
        return estimate(name, math.nan, Interval(math.nan, math.nan, "wilson"), level, w[sub],
                        {"reason": "undefined: empty denominator"})
    p = float(np.dot(w[sub], num[sub])) / total
    n_eff = effective_sample_size(total, float(np.dot(w[sub], w[sub])))
    return estimate(name, p, wilson_interval(p, n_eff, level), level, w[sub])


def _f1_terms(y: np.ndarray, pred: np.ndarray, w: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class F1 = 2 TP / (predicted + actual) and the denominators."""
    tp = np.bincount(y[y == pred], weights=w[y == pred], minlength=k)
    den = np.bincount(pred, weights=w, minlength=k) + np.bincount(y, weights=w, minlength=k)
    f1 = np.divide(2 * tp, den, out=np.full(k, np.nan), where=den > 0)
    return f1, den


def _macro(name: str, per_class: np.ndarray, psi_of: np.ndarray, w: np.ndarray, level: float,
           classes: Sequence[str]) -> MetricEstimate:
    defined = ~np.isnan(per_class)
    details = {"per_class": {c: (float(v) if d else None) for c, v, d in zip(classes, per_class, defined)}}
    if not defined.any():
        return estimate(name, math.nan, Interval(math.nan, math.nan, "delta"), level, w, details)
    value = float(per_class[defined].mean())
    return estimate(name, value, influence_interval(value, psi_of / defined.sum(), level, (0.0, 1.0)), level, w,
                    details)


def _macro_prf(y: np.ndarray, pred: np.ndarray, w: np.ndarray, k: int, level: float,
               classes: Sequence[str]) -> dict[str, MetricEstimate]:
    correct = (y == pred).astype(np.float64)
    tp = np.bincount(y, weights=w * correct, minlength=k)
    pp, ap = np.bincount(pred, weights=w, minlength=k), np.bincount(y, weights=w, minlength=k)
    prec = np.divide(tp, pp, out=np.full(k, np.nan), where=pp > 0)
    rec = np.divide(tp, ap, out=np.full(k, np.nan), where=ap > 0)
    f1, den = _f1_terms(y, pred, w, k)
    # influence of each row on each defined class's ratio (rows touch their predicted / true class)
    psi_p = np.where(pp[pred] > 0, w * (correct - np.nan_to_num(prec)[pred]) / np.where(pp[pred] > 0, pp[pred], 1), 0)
    psi_r = np.where(ap[y] > 0, w * (correct - np.nan_to_num(rec)[y]) / np.where(ap[y] > 0, ap[y], 1), 0)
    f1z, safe = np.nan_to_num(f1), np.where(den > 0, den, 1)
    psi_f = np.where(correct > 0, 2 * w * (1 - f1z[y]) / safe[y],
                     -w * f1z[pred] / safe[pred] - w * f1z[y] / safe[y])
    return {"precision": _macro("precision", prec, psi_p, w, level, classes),
            "recall": _macro("recall", rec, psi_r, w, level, classes),
            "f1": _macro("f1", f1, psi_f, w, level, classes)}


def _mean_loss(name: str, loss: np.ndarray, w: np.ndarray, level: float, bounds: tuple[float, float]) -> MetricEstimate:
    total = float(w.sum())
    value = float(np.dot(w, loss) / total)
    return estimate(name, value, influence_interval(value, w * (loss - value) / total, level, bounds), level, w)


def _auc(scores: np.ndarray, is_pos: np.ndarray, w: np.ndarray, level: float) -> MetricEstimate:
    auc, _, var = auc_influence(scores, is_pos, w)
    if math.isnan(auc):
        return estimate("roc_auc", math.nan, Interval(math.nan, math.nan, "delong"), level, w,
                        {"reason": "undefined: one class only"})
    half = z_value(level) * math.sqrt(var)
    return estimate("roc_auc", auc, Interval(max(0.0, auc - half), min(1.0, auc + half), "delong"), level, w)


def _drop_unlabeled(y_text: np.ndarray, *arrays: np.ndarray | None) -> tuple[np.ndarray, int, list]:
    keep = np.fromiter((v is not None for v in y_text), bool, y_text.shape[0])
    dropped = int((~keep).sum())
    return keep, dropped, [None if a is None else a[keep] for a in arrays]


def binary_metrics(
    y_true: np.ndarray, scores: np.ndarray | None = None, *, y_pred: np.ndarray | None = None,
    positive_label: str = "1", weights: np.ndarray | None = None, threshold: float = 0.5,
    confidence: float = 0.95, ece_bins: int = 10, bootstrap: int = 1000, seed: int = 0,
) -> ClassificationReport:
    """Binary metrics from labels and positive-class scores (and/or predicted labels).

    Predicted positive = ``score >= threshold`` unless ``y_pred`` is given. Score-based metrics
    (roc_auc, log_loss, brier, ece) need ``scores``. Rows without a label are dropped (counted).
    Raises ValueError when neither scores nor y_pred is given.
    """
    if scores is None and y_pred is None:
        raise ValueError("binary_metrics needs scores or y_pred")
    y_text = labels_as_text(y_true)
    w_all = prepare(y_text.shape[0], weights)
    keep, dropped, (s, p_text, w) = _drop_unlabeled(
        y_text, None if scores is None else np.asarray(scores, np.float64).reshape(-1),
        None if y_pred is None else labels_as_text(y_pred), w_all)
    pos = np.asarray(y_text[keep] == str(positive_label), dtype=np.float64)
    pred = (s >= threshold).astype(np.float64) if p_text is None else np.asarray(p_text == str(positive_label), float)
    correct = (pos == pred).astype(np.float64)
    m = {"accuracy": _ratio("accuracy", correct, np.ones_like(pos), w, confidence),
         "precision": _ratio("precision", pos, pred, w, confidence),
         "recall": _ratio("recall", pred, pos, w, confidence)}
    # binary F1 is the positive class's F1 = 2 TP / (predicted + actual positives)
    f1c, den = _f1_terms(pos.astype(np.intp), pred.astype(np.intp), w, 2)
    if den[1] > 0:
        f1 = float(f1c[1])
        psi = np.where((pos > 0) & (pred > 0), 2 * w * (1 - f1), -w * f1 * (pos + pred)) / den[1]
        m["f1"] = estimate("f1", f1, influence_interval(f1, psi, confidence, (0.0, 1.0)), confidence, w)
    else:
        m["f1"] = estimate("f1", math.nan, Interval(math.nan, math.nan, "delta"), confidence, w,
                           {"reason": "undefined: no positive predicted or actual"})
    if s is not None:
        p = np.clip(s, LOG_EPS, 1 - LOG_EPS)
        m["roc_auc"] = _auc(s, pos > 0, w, confidence)
        m["log_loss"] = _mean_loss("log_loss", -(pos * np.log(p) + (1 - pos) * np.log1p(-p)), w, confidence,
                                   (0.0, math.inf))
        m["brier"] = _mean_loss("brier", (s - pos) ** 2, w, confidence, (0.0, 1.0))
        top = np.maximum(s, 1 - s)
        top_correct = ((s >= 0.5) == (pos > 0)).astype(np.float64)
        value, interval = expected_calibration_error(top, top_correct, w, bins=ece_bins, bootstrap=bootstrap,
                                                     seed=seed, level=confidence)
        m["ece"] = estimate("ece", value, interval, confidence, w, {"bins": ece_bins})
    cm = np.zeros((2, 2))
    np.add.at(cm, (pos.astype(np.intp), pred.astype(np.intp)), w)
    return ClassificationReport(MappingProxyType(m), cm, ("not " + str(positive_label), str(positive_label)), dropped)


def multiclass_metrics(
    y_true: np.ndarray, probabilities: np.ndarray | None = None, *, classes: Sequence[str],
    y_pred: np.ndarray | None = None, weights: np.ndarray | None = None, confidence: float = 0.95,
    ece_bins: int = 10, bootstrap: int = 1000, seed: int = 0,
) -> ClassificationReport:
    """Multiclass metrics; ``probabilities`` columns follow ``classes``. Predicted class = the
    column with the highest probability (first on ties) unless ``y_pred`` is given. Precision,
    recall, F1 and ROC AUC (one-vs-rest) are macro averages over the classes where they are
    defined (per-class values in details). Labels outside ``classes`` raise ValueError."""
    classes = tuple(str(c) for c in classes)
    index = {c: i for i, c in enumerate(classes)}
    y_text = labels_as_text(y_true)
    w_all = prepare(y_text.shape[0], weights)
    probs = None if probabilities is None else np.asarray(probabilities, np.float64).reshape(len(y_text), -1)
    keep, dropped, (probs, p_text, w) = _drop_unlabeled(
        y_text, probs, None if y_pred is None else labels_as_text(y_pred), w_all)
    unknown = sorted({v for v in y_text[keep] if v not in index} | ({v for v in p_text if v not in index}
                                                                    if p_text is not None else set()))
    if unknown:
        raise ValueError(f"labels not among classes {list(classes)}: {unknown[:5]}")
    y = np.fromiter((index[v] for v in y_text[keep]), np.intp, int(keep.sum()))
    if p_text is not None:
        pred = np.fromiter((index[v] for v in p_text), np.intp, y.shape[0])
    elif probs is not None:
        pred = np.argmax(probs, axis=1)
    else:
        raise ValueError("multiclass_metrics needs probabilities or y_pred")
    k = len(classes)
    correct = (y == pred).astype(np.float64)
    m = {"accuracy": _ratio("accuracy", correct, np.ones_like(correct), w, confidence),
         **_macro_prf(y, pred, w, k, confidence, classes)}
    if probs is not None:
        rows = np.arange(y.shape[0])
        m["log_loss"] = _mean_loss("log_loss", -np.log(np.clip(probs[rows, y], LOG_EPS, 1 - LOG_EPS)), w,
                                   confidence, (0.0, math.inf))
        onehot = np.zeros_like(probs)
        onehot[rows, y] = 1.0
        m["brier"] = _mean_loss("brier", ((probs - onehot) ** 2).sum(1), w, confidence, (0.0, 2.0))
        aucs, psis = [], []
        for c in range(k):
            auc, psi, _ = auc_influence(probs[:, c], y == c, w)
            aucs.append(auc)
            psis.append(psi)
        defined = ~np.isnan(aucs)
        if defined.any():
            value = float(np.mean(np.array(aucs)[defined]))
            psi = np.sum([p for p, d in zip(psis, defined) if d], axis=0) / defined.sum()
            interval = influence_interval(value, psi, confidence, (0.0, 1.0))
            m["roc_auc"] = estimate("roc_auc", value, Interval(interval.lower, interval.upper, "delong"),
                                    confidence, w, {"per_class": {c: (a if d else None)
                                                                  for c, a, d in zip(classes, aucs, defined)}})
        top = probs[rows, pred]
        value, interval = expected_calibration_error(top, correct, w, bins=ece_bins, bootstrap=bootstrap,
                                                     seed=seed, level=confidence)
        m["ece"] = estimate("ece", value, interval, confidence, w, {"bins": ece_bins})
    cm = np.zeros((k, k))
    np.add.at(cm, (y, pred), w)
    return ClassificationReport(MappingProxyType(m), cm, classes, dropped)
