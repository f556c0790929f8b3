"""Distributions through the drift engine (pure): the canary's predictions against the stable
version's, and each version's inputs against the model's reference profile.

Predictions: the stable version's sampled outputs (label, score or value) are profiled like a
reference dataset (analysis.drift.fit_profile, with the model's profile settings) and the
canary's outputs are compared with that profile by compute_drift -- every registered statistic,
the model's alert method per kind, its decision rule (effect size AND significance AND min n)
and Benjamini-Hochberg across the output columns. Weights (1 / sampling rate) count throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.canary.inputs import OUTPUT_KINDS, VersionSample
from analysis.drift.engine import FeatureDrift, compute_drift
from analysis.drift.profile import Profile, fit_profile
from analysis.stats.plain import plain
from analysis.stats.policy import AnalysisPolicy

__all__ = ["DistributionShift", "VersionDrift", "prediction_shift", "reference_drift"]

TOP_FEATURES = 5  # drifted features listed per version, largest effect first


@dataclass(frozen=True)
class DistributionShift:
    """One column's drift decision: ``method`` is the alert statistic, ``effect_size`` its
    value against ``threshold``; ``p_adjusted`` BH-adjusted within the family."""

    column: str
    kind: str
    method: str
    effect_size: float
    threshold: float | None
    p_value: float | None
    p_adjusted: float | None
    status: str
    reason: str

    @property
    def drift(self) -> bool:
        return self.status == "drift"

    @classmethod
    def of(cls, f: FeatureDrift) -> DistributionShift:
        d = f.decision
        return cls(f.feature, f.kind, f.method, d.effect_size, d.threshold, d.p_value, d.p_adjusted, d.status.value,
                   d.reason)

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


def _with_output(sample: VersionSample) -> np.ndarray:
    """Rows with at least one output (a failed request has none: it counts as an error)."""
    present = np.zeros(sample.n, dtype=bool)
    for column in sample.outputs.values():
        if column.dtype == object:
            present |= np.fromiter((v is not None for v in column), bool, column.shape[0])
        else:
            present |= ~np.isnan(column)
    return present


def prediction_shift(stable: VersionSample, canary: VersionSample,
                     policy: AnalysisPolicy | None = None) -> tuple[DistributionShift, ...]:
    """The canary's output distributions against the stable version's, one entry per output
    column both have; empty when either version has no output rows."""
    policy = policy or AnalysisPolicy()
    rows_s, rows_c = _with_output(stable), _with_output(canary)
    names = [n for n in OUTPUT_KINDS if n in stable.outputs and n in canary.outputs]
    if not (names and rows_s.any() and rows_c.any()):
        return ()
    settings = policy.profile
    profile = fit_profile({n: stable.outputs[n][rows_s] for n in names}, {n: OUTPUT_KINDS[n] for n in names},
                          stable.weight[rows_s], bins=settings.bins, sketch_size=settings.sketch_size,
                          top_k=settings.top_k, max_tracked=settings.max_tracked)
    # the model's per-feature overrides name features, not outputs: only the drift settings apply
    outputs_policy = policy.model_copy(update={"features": {}})
    report = compute_drift(profile, {n: canary.outputs[n][rows_c] for n in names}, canary.weight[rows_c],
                           outputs_policy)
    return tuple(DistributionShift.of(f) for f in report.features)


@dataclass(frozen=True)
class VersionDrift:
    """One version's inputs against the reference: how many features were decided and drifted;
    ``drifted`` lists the largest effects first, at most TOP_FEATURES."""

    version: str
    rows: int
    features: int
    decided: int
    n_drifted: int
    drifted: tuple[DistributionShift, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "rows": self.rows, "features": self.features, "decided": self.decided,
                "n_drifted": self.n_drifted, "drifted": [d.to_dict() for d in self.drifted]}


def reference_drift(reference: Profile, sample: VersionSample, policy: AnalysisPolicy | None = None) -> VersionDrift:
    """Drift of one version's sampled inputs against the reference profile."""
    policy = policy or AnalysisPolicy()
    report = compute_drift(reference, sample.features, sample.weight, policy)
    shifts = [DistributionShift.of(f) for f in report.features]
    decided = [s for s in shifts if s.status in ("drift", "no_drift")]
    drifted = sorted((s for s in shifts if s.drift), key=lambda s: -s.effect_size)
    return VersionDrift(sample.version, sample.n, len(shifts), len(decided), len(drifted), tuple(drifted[:TOP_FEATURES]))
