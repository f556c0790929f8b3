"""The side-by-side comparison of a canary with its stable version over one window (pure):
counters in, every comparison out. The verdict is decided from it (analysis/canary/verdict.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.canary.distributions import DistributionShift, VersionDrift, prediction_shift, reference_drift
from analysis.canary.inputs import VersionCounters, VersionSample
from analysis.canary.quality import QualityComparison, compare_quality
from analysis.canary.traffic import LatencyComparison, compare_errors, compare_latency
from analysis.drift.profile import Profile
from analysis.stats.policy import AnalysisPolicy
from analysis.stats.proportions import ProportionDifference

__all__ = ["CanaryComparison", "VersionSummary", "compare"]


@dataclass(frozen=True)
class VersionSummary:
    """``requests`` / ``errors``: exact counters; ``sampled`` / ``labelled``: stored samples."""

    version: str
    requests: int
    errors: int
    sampled: int
    labelled: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else float("nan")

    def to_dict(self) -> dict[str, Any]:
        rate = self.error_rate
        return {"version": self.version, "requests": self.requests, "errors": self.errors,
                "error_rate": rate if rate == rate else None, "sampled": self.sampled, "labelled": self.labelled}


@dataclass(frozen=True, eq=False)
class CanaryComparison:
    """``errors``, ``latency.tail`` and ``quality`` differences are canary - stable.
    ``drift``: each version against the reference (stable first), empty without a reference."""

    stable: VersionSummary
    canary: VersionSummary
    errors: ProportionDifference
    latency: LatencyComparison
    quality: QualityComparison | None
    predictions: tuple[DistributionShift, ...]
    drift: tuple[VersionDrift, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"stable": self.stable.to_dict(), "canary": self.canary.to_dict(), "error_rate": self.errors.to_dict(),
                "latency": self.latency.to_dict(), "quality": self.quality.to_dict() if self.quality else None,
                "predictions": [p.to_dict() for p in self.predictions], "drift": [d.to_dict() for d in self.drift]}


def _summary(counters: VersionCounters, sample: VersionSample) -> VersionSummary:
    return VersionSummary(counters.version, counters.requests, counters.errors, sample.n, int(sample.labelled.sum()))


def compare(stable: tuple[VersionCounters, VersionSample], canary: tuple[VersionCounters, VersionSample], *,
            regression: bool, policy: AnalysisPolicy | None = None, reference: Profile | None = None,
            confidence: float = 0.95) -> CanaryComparison:
    """Every comparison of ``canary`` with ``stable`` (each its counters and its sample).
    ``regression``: MAE instead of accuracy; ``policy``: the model's analysis policy (drift
    methods and thresholds); ``reference``: the model's reference profile, if it has one.
    Raises ValueError when a counter and its sample name different versions."""
    for counters, sample in (stable, canary):
        if counters.version != sample.version:
            raise ValueError(f"counters of version {counters.version!r} paired with a sample of {sample.version!r}")
    policy = policy or AnalysisPolicy()
    drift = () if reference is None else tuple(reference_drift(reference, s, policy) for _, s in (stable, canary))
    return CanaryComparison(
        stable=_summary(*stable), canary=_summary(*canary),
        errors=compare_errors(stable[0], canary[0], confidence),
        latency=compare_latency(stable[0], canary[0], confidence),
        quality=compare_quality(regression, stable[1], canary[1], confidence),
        predictions=prediction_shift(stable[1], canary[1], policy),
        drift=drift,
    )
