"""Everything measured on one candidate's paired rows (shadow.columns), as one frozen result.
Pure: arrays and the model's declaration in, numbers out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from config.monitors import Model, Task
from config.slo import SloKind
from shadow.columns import PairedColumns
from shadow.compare import (
    AgreementStats, LatencyStats, QuantileSummary, Rate, agreement, error_rate, latency_stats, quantile_summary,
    rank_correlation, value_agreement,
)
from shadow.compare_paired import PairedAbsError, PairedAccuracy, paired_abs_error, paired_accuracy
from shadow.compare_slo import WouldBeBurn, quality_bad, would_be_burn

__all__ = ["Comparison", "NoiseFloor", "RELATIVE_TOLERANCE", "compare", "noise_floor", "regression_tolerance"]

# Regressors "agree" within the quality SLO's tolerance, else within 0.01 % of production's
# value: float32 ONNX vs float64 scikit-learn differ around 1e-7 relative.
RELATIVE_TOLERANCE = 1e-4


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def regression_tolerance(model: Model, production_value: np.ndarray) -> np.ndarray | float:
    """The tolerance under which two regression values agree (see RELATIVE_TOLERANCE)."""
    declared = [s.tolerance for s in model.slos if s.kind is SloKind.quality and s.tolerance is not None]
    if declared:
        return float(min(declared))
    return RELATIVE_TOLERANCE * np.maximum(1.0, np.abs(production_value))


@dataclass(frozen=True)
class Comparison:
    n: int
    agreement: AgreementStats
    score_delta: QuantileSummary  # binary: score; regression: value (candidate - production)
    rank_correlation: float
    latency_candidate: LatencyStats  # per row: batch run time / batch size
    latency_production: LatencyStats  # as logged by the serving code (latency_ms)
    errors_candidate: Rate
    errors_production: Rate
    labelled: int  # rows with a label and an output from both
    accuracy: PairedAccuracy | None  # classifiers
    abs_error: PairedAbsError | None  # regressors
    burns: tuple[WouldBeBurn, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "agreement": self.agreement.to_dict(), "score_delta": self.score_delta.to_dict(),
            "rank_correlation": _finite(self.rank_correlation),
            "latency_ms": {"candidate": self.latency_candidate.to_dict(), "production": self.latency_production.to_dict()},
            "errors": {"candidate": self.errors_candidate.to_dict(), "production": self.errors_production.to_dict()},
            "labelled": self.labelled,
            "accuracy": self.accuracy.to_dict() if self.accuracy else None,
            "abs_error": self.abs_error.to_dict() if self.abs_error else None,
            "would_be_burn": [b.to_dict() for b in self.burns],
        }


def _agreement(columns: PairedColumns, model: Model) -> AgreementStats:
    if model.task is Task.regression:
        return value_agreement(columns.prod_value, columns.cand_value,
                               regression_tolerance(model, columns.prod_value))
    return agreement(columns.prod_label, columns.cand_label)


def _burns(columns: PairedColumns, model: Model) -> tuple[WouldBeBurn, ...]:
    out = []
    regression = model.task is Task.regression
    for spec in model.slos:
        if spec.kind is not SloKind.quality:
            continue
        prod_bad = quality_bad(spec, regression, columns.true_label, columns.true_value, columns.prod_label,
                               columns.prod_value)
        cand_bad = quality_bad(spec, regression, columns.true_label, columns.true_value, columns.cand_label,
                               columns.cand_value)
        if prod_bad is not None and cand_bad is not None:
            out.append(would_be_burn(spec, columns.weight, prod_bad, cand_bad))
    return tuple(out)


def compare(columns: PairedColumns, model: Model, confidence: float = 0.95) -> Comparison:
    """Agreement, deltas, latency and errors over all rows; paired accuracy (or absolute error)
    and would-be SLO burns over the rows with a label and an output from both sides."""
    ran = columns.take(columns.both_ran)
    judged = ran.take(ran.labelled)
    regression = model.task is Task.regression
    deltas = (ran.cand_value - ran.prod_value) if regression else (ran.cand_score - ran.prod_score)
    accuracy = abs_error = None
    if regression:
        abs_error = paired_abs_error(np.abs(judged.prod_value - judged.true_value),
                                     np.abs(judged.cand_value - judged.true_value), confidence)
    else:
        accuracy = paired_accuracy(judged.prod_label == judged.true_label, judged.cand_label == judged.true_label,
                                   confidence)
    return Comparison(
        n=columns.n, agreement=_agreement(ran, model), score_delta=quantile_summary(deltas),
        rank_correlation=rank_correlation(*((ran.prod_value, ran.cand_value) if regression
                                            else (ran.prod_score, ran.cand_score))),
        latency_candidate=latency_stats(columns.cand_latency_ms[~columns.cand_failed]),
        latency_production=latency_stats(columns.prod_latency_ms),
        errors_candidate=error_rate(columns.cand_failed), errors_production=error_rate(columns.prod_failed),
        labelled=judged.n, accuracy=accuracy, abs_error=abs_error, burns=_burns(judged, model))


@dataclass(frozen=True)
class NoiseFloor:
    """How closely replaying production's own ONNX reproduces the logged production outputs:
    disagreement below this is replay noise, not a difference between models."""

    candidate: str
    n: int
    agreement: float
    score_delta_abs_p99: float
    latency: LatencyStats  # the production ONNX replayed: the like-for-like latency baseline

    def to_dict(self) -> dict[str, Any]:
        return {"candidate": self.candidate, "n": self.n, "agreement": _finite(self.agreement),
                "score_delta_abs_p99": _finite(self.score_delta_abs_p99), "latency_ms": self.latency.to_dict()}


def noise_floor(name: str, columns: PairedColumns, model: Model) -> NoiseFloor:
    """The noise floor from the production ONNX's replay (its paired columns)."""
    ran = columns.take(columns.both_ran)
    regression = model.task is Task.regression
    deltas = (ran.cand_value - ran.prod_value) if regression else (ran.cand_score - ran.prod_score)
    deltas = np.abs(deltas[~np.isnan(deltas)])
    return NoiseFloor(name, columns.n, _agreement(ran, model).agreement,
                      float(np.quantile(deltas, 0.99)) if deltas.size else math.nan,
                      latency_stats(columns.cand_latency_ms[~columns.cand_failed]))
