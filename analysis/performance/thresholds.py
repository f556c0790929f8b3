"""Performance thresholds: is a window's (or a slice's) metric degraded? (pure)

A metric is ``degraded`` only when its whole confidence interval lies on the wrong side of the
threshold: for a ``min`` threshold (accuracy, F1, ...) the interval's upper bound is below it,
for a ``max`` threshold (MAE, log loss, error rate, ...) the lower bound is above it. A small
sample has a wide interval, so it cannot page on noise; below ``min_n`` effective rows (or with
an undefined metric) the verdict is ``insufficient``, neither ok nor degraded. Thresholds are
declared per model in ``analysis.performance`` (analysis/stats/policy.py) and apply to the whole
window and to every slice value alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.performance.metric import MetricEstimate
from analysis.stats.policy import PERFORMANCE_METRICS, PerformanceSettings, PerformanceThreshold
from config.monitors import Task

__all__ = ["DEGRADED", "TASK_METRICS", "Verdict", "check_thresholds", "judge"]

DEGRADED = "degraded"
OK = "ok"
INSUFFICIENT = "insufficient"

_CLASSIFIER = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "brier", "ece",
                         "expected_accuracy"})
_REGRESSION = frozenset({"mae", "rmse", "mape", "r2"})
_EVERY_TASK = frozenset({"label_coverage", "error_rate", "slow_rate"})
# The metrics the performance job computes per task (score-based ones only when scores are sent).
TASK_METRICS: Mapping[Task, frozenset[str]] = {
    Task.binary: _CLASSIFIER | _EVERY_TASK,
    Task.multiclass: _CLASSIFIER | _EVERY_TASK,
    Task.regression: _REGRESSION | _EVERY_TASK,
}


@dataclass(frozen=True)
class Verdict:
    status: str  # ok | degraded | insufficient
    threshold: float | None = None
    direction: str | None = None  # min | max
    bound: float | None = None  # the interval bound compared with the threshold
    reason: str | None = None

    def details(self) -> dict[str, Any]:
        """What to store beside the metric's own details (nothing without a threshold)."""
        if self.threshold is None:
            return {}
        out: dict[str, Any] = {"direction": self.direction, "bound": self.bound}
        if self.reason:
            out["reason"] = self.reason
        return out


def _finite(value: float) -> bool:
    return value is not None and math.isfinite(value)


def judge(metric: MetricEstimate, threshold: PerformanceThreshold | None, min_n: float) -> Verdict:
    """The verdict on ``metric`` against ``threshold`` (None: no threshold, ``ok`` when the
    metric is defined)."""
    if not _finite(metric.value):
        return Verdict(INSUFFICIENT, None if threshold is None else threshold.value,
                       None if threshold is None else threshold.direction, reason="undefined")
    if threshold is None:
        return Verdict(OK)
    direction, limit = threshold.direction, threshold.value
    bound = metric.upper if direction == "min" else metric.lower
    if metric.n_eff < min_n:
        return Verdict(INSUFFICIENT, limit, direction, bound if _finite(bound) else None,
                       f"n_eff {metric.n_eff:.0f} < min_n {min_n:g}")
    if not _finite(bound):
        return Verdict(INSUFFICIENT, limit, direction, None, "no interval")
    worse = bound < limit if direction == "min" else bound > limit
    return Verdict(DEGRADED if worse else OK, limit, direction, bound)


def judge_with(metric: MetricEstimate, settings: PerformanceSettings) -> Verdict:
    """``judge`` with the model's threshold for this metric, if any."""
    return judge(metric, settings.thresholds.get(metric.name), settings.min_n)


def check_thresholds(settings: PerformanceSettings, task: Task, has_latency_slo: bool) -> list[tuple[str, str]]:
    """Thresholds that can never be evaluated for this model, as (metric, problem): a metric
    its task does not compute (MAE on a classifier), or ``slow_rate`` without a latency SLO to
    define "slow"."""
    problems = []
    for name in settings.thresholds:
        if name not in PERFORMANCE_METRICS:
            continue  # the policy's own validation reports it
        if name not in TASK_METRICS[task]:
            problems.append((name, f"a {task.value} model has no {name}"))
        elif name == "slow_rate" and not has_latency_slo:
            problems.append((name, "the model has no latency SLO (its threshold_ms defines a slow request)"))
    return problems
