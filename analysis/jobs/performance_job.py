"""Performance of one window from the labels that have arrived, whole and per slice (pure).

Per segment: label coverage, error rate and (with a latency SLO) slow rate; the task's metrics
with intervals on the labeled rows (binary: from scores when every labeled row has one, else
from predicted labels); the confusion matrix;
for classifiers with scores, the label-free expected accuracy (labeled rows count with their
realized correctness, so it turns into the realized accuracy as labels arrive). The whole window
also gets the label lag and the worst slices by excess error. A metric with a threshold in the
model's ``analysis.performance`` is ``degraded`` / ``ok`` / ``insufficient``
(analysis/performance/thresholds.py), whole window and per slice alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis.jobs.results import INSUFFICIENT, PERFORMANCE, ResultRow, finite, json_safe
from analysis.jobs.segments import Segment
from analysis.performance import (
    MetricEstimate, binary_metrics, expected_accuracy, label_coverage, label_lag, multiclass_metrics,
    regression_metrics,
)
from analysis.performance.rates import error_rate, slow_rate
from analysis.performance.thresholds import judge_with
from analysis.slices import loss_excess
from analysis.stats.policy import AnalysisPolicy, PerformanceSettings
from config.monitors import Model, Task
from config.slo import SloKind
from store.analysis_reads import WindowData


def _metric_row(m: MetricEstimate, key: str, value: str, settings: PerformanceSettings) -> ResultRow:
    """The metric's row; its status is the verdict of the model's threshold for it, if any
    (analysis.performance.thresholds: degraded only beyond the confidence interval)."""
    verdict = judge_with(m, settings)
    details = {k: v for k, v in m.to_dict().items() if k not in ("name", "value", "n")}
    return ResultRow(PERFORMANCE, m.name, "", key, value, finite(m.value), verdict.threshold, verdict.status, m.n,
                     json_safe({**details, **verdict.details()}))


def latency_threshold(model: Model) -> float | None:
    """The threshold_ms of the model's first latency SLO: a slower request is a bad event."""
    return next((float(s.threshold_ms) for s in model.slos if s.kind is SloKind.latency and s.threshold_ms), None)


def rate_metrics(model: Model, data: WindowData, rows: np.ndarray, confidence: float) -> list[MetricEstimate]:
    """Error rate of the rows and, with a latency SLO, their slow rate (weighted by 1/rate):
    per slice they show where an availability or latency SLO burns."""
    if data.failed is None:
        return []
    failed, w = data.failed[rows], data.weight[rows]
    out = [error_rate(failed, weights=w, confidence=confidence)]
    threshold = latency_threshold(model)
    if threshold is not None and data.latency_ms is not None:
        out.append(slow_rate(data.latency_ms[rows], threshold, failed=failed, weights=w, confidence=confidence))
    return out


def _present(values: np.ndarray) -> np.ndarray:
    return np.fromiter((v is not None for v in values), bool, values.shape[0])


def _within(values: np.ndarray, allowed: set[str]) -> np.ndarray:
    # a set lookup: np.isin sorts object arrays, which fails on None mixed with text
    return np.fromiter((v in allowed for v in values), bool, values.shape[0])


def correctness(model: Model, data: WindowData, rows: np.ndarray, threshold: float) -> np.ndarray:
    """Per row of ``rows``: 1.0 right, 0.0 wrong, NaN without a label or a usable output
    (classifiers; regression rows give NaN)."""
    out = np.full(rows.shape[0], np.nan)
    labeled = data.labeled[rows]
    label = data.label[rows]
    if model.task is Task.binary:
        score = data.score[rows]
        by_score = labeled & np.isfinite(score)
        positive = np.asarray(label == model.positive_class, float)
        out[by_score] = ((score[by_score] >= threshold) == (positive[by_score] > 0)).astype(float)
        by_label = labeled & ~by_score & _present(data.prediction[rows])
        out[by_label] = (data.prediction[rows][by_label] == label[by_label]).astype(float)
    elif model.task is Task.multiclass:
        by_label = labeled & _present(data.prediction[rows])
        out[by_label] = (data.prediction[rows][by_label] == label[by_label]).astype(float)
    return out


def _classifier_metrics(model: Model, data: WindowData, rows: np.ndarray, policy: AnalysisPolicy
                        ) -> tuple[list[MetricEstimate], dict[str, object]]:
    perf = policy.performance
    options: dict[str, Any] = {"confidence": perf.confidence, "ece_bins": perf.ece_bins, "bootstrap": perf.bootstrap, "seed": perf.seed}
    y, w = data.label[rows], data.weight[rows]
    predicted = data.prediction[rows]
    if model.task is Task.binary:
        scores = data.score[rows]
        if np.isfinite(scores).all():
            report = binary_metrics(y, scores, positive_label=model.positive_class or "1", weights=w,
                                    threshold=perf.decision_threshold, **options)
        elif _present(predicted).all():
            report = binary_metrics(y, y_pred=predicted, positive_label=model.positive_class or "1", weights=w,
                                    **options)
        else:
            keep = np.isfinite(scores)
            if not keep.any():
                return [], {"reason": "no scores or predicted labels"}
            report = binary_metrics(y[keep], scores[keep], positive_label=model.positive_class or "1",
                                    weights=w[keep], threshold=perf.decision_threshold, **options)
        matrix = {"classes": list(report.classes), "matrix": report.confusion_matrix}
        return list(report.metrics.values()), matrix
    classes = model.classes or tuple(sorted({v for v in (*y, *predicted) if v is not None}))
    allowed = set(classes)
    known = _within(y, allowed) & (~_present(predicted) | _within(predicted, allowed))
    probs = None if data.probabilities is None else data.probabilities[rows][known]
    if probs is not None and not np.isfinite(probs).all():
        probs = None
    pred = predicted[known]
    if probs is None and not _present(pred).all():
        return [], {"reason": "no probabilities or predicted labels"}
    report = multiclass_metrics(y[known], probs, classes=classes, y_pred=None if probs is not None else pred,
                                weights=w[known], **options)
    return list(report.metrics.values()), {"classes": list(report.classes), "matrix": report.confusion_matrix,
                                           "unknown_labels": int((~known).sum())}


def segment_rows(model: Model, data: WindowData, rows: np.ndarray, key: str, value: str,
                 policy: AnalysisPolicy, correct: np.ndarray | None = None) -> list[ResultRow]:
    """Coverage, metrics, confusion matrix and expected accuracy of the rows ``rows``;
    ``correct`` is ``correctness`` of the whole window when already known."""
    perf = policy.performance
    w = data.weight[rows]
    labeled = data.labeled[rows]
    coverage = label_coverage(labeled, weights=w, confidence=perf.confidence)
    out = [_metric_row(m, key, value, perf) for m in (coverage, *rate_metrics(model, data, rows, perf.confidence))]
    if model.task is not Task.regression:
        scores = data.score[rows] if model.task is Task.binary else (
            None if data.probabilities is None else data.probabilities[rows])
        if scores is not None:
            usable = np.isfinite(scores) if scores.ndim == 1 else np.isfinite(scores).all(axis=1)
            if usable.any():
                right = correctness(model, data, rows, perf.decision_threshold) if correct is None else correct[rows]
                out.append(_metric_row(expected_accuracy(scores[usable], weights=w[usable], correct=right[usable],
                                                         confidence=perf.confidence,
                                                         threshold=perf.decision_threshold), key, value, perf))
    if not labeled.any():
        return out
    at = rows[labeled]
    if model.task is Task.regression:
        report = regression_metrics(data.label_value[at], data.prediction_value[at], weights=data.weight[at],
                                    confidence=perf.confidence)
        out.extend(_metric_row(m, key, value, perf) for m in report.metrics.values())
        return out
    metrics, matrix = _classifier_metrics(model, data, at, policy)
    out.extend(_metric_row(m, key, value, perf) for m in metrics)
    out.append(ResultRow(PERFORMANCE, "confusion_matrix", "", key, value, None, None,
                         "ok" if metrics else INSUFFICIENT, int(at.shape[0]), json_safe(matrix)))
    return out


def performance_rows(model: Model, data: WindowData, segments: Sequence[Segment],
                     policy: AnalysisPolicy) -> list[ResultRow]:
    """Performance rows of the whole window and of every slice value, plus label lag and the
    worst slices."""
    everything = np.arange(data.n)
    # per row once: slices index into it instead of comparing labels again per segment
    correct = None if model.task is Task.regression else \
        correctness(model, data, everything, policy.performance.decision_threshold)
    out = segment_rows(model, data, everything, "", "", policy, correct)
    lag = label_lag(data.time, data.label_time)
    out.append(ResultRow(PERFORMANCE, "label_lag", "", "", "", finite(lag.p50), None,
                         "ok" if lag.n else INSUFFICIENT, lag.n,
                         json_safe({"unit": "s", "p90": lag.p90, "p99": lag.p99, "max": lag.max})))
    for seg in segments:
        if seg.rows.shape[0]:
            out.extend(segment_rows(model, data, seg.rows, seg.key, seg.value, policy, correct))
    out.extend(worst_slice_rows(model, data, segments, policy, correct))
    return out


def worst_slice_rows(model: Model, data: WindowData, segments: Sequence[Segment],
                     policy: AnalysisPolicy, correct: np.ndarray | None = None) -> list[ResultRow]:
    """Slices whose error rate (absolute error for regression) significantly exceeds the rest."""
    if not segments or not data.labeled.any():
        return []
    if model.task is Task.regression:
        loss = np.abs(data.label_value - data.prediction_value)
    else:
        if correct is None:
            correct = correctness(model, data, np.arange(data.n), policy.performance.decision_threshold)
        loss = 1.0 - correct
    usable = np.isfinite(loss)
    if not usable.any():
        return []
    index = np.full(data.n, -1)
    index[usable] = np.arange(int(usable.sum()))
    parts = [(s.key, s.value, index[s.rows][index[s.rows] >= 0]) for s in segments]
    found = loss_excess(loss[usable], data.weight[usable], parts, alpha=policy.drift.alpha)
    metric = "mae" if model.task is Task.regression else "error_rate"
    return [
        ResultRow(PERFORMANCE, "worst_slice", "", s.key, s.value, finite(s.excess), None, "worst", s.n,
                  json_safe({"loss": metric, "slice_loss": s.loss, "rest_loss": s.rest_loss, "share": s.share,
                             "p_value": s.p_value, "p_adjusted": s.p_adjusted, "n_eff": s.n_eff}))
        for s in found if s.worst
    ]
