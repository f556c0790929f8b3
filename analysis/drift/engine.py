"""The drift engine: every applicable statistic, decision and FDR control for a window.

``compute_drift(reference, current, weights, policy)`` bins each feature of the window once on
the reference's bins (one pass, no sort: numeric_profile.py), computes every registered statistic
of the feature's kind from the two summaries, then decides. Benjamini-Hochberg runs over
families: the alert family is each (segment, feature)'s alert method -- across features x
slices -- and each other statistic forms its own family across the same (segment, feature)s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from analysis.drift.decision import Decision, decide
from analysis.drift.profile import Profile, Summary
from analysis.drift.registry import REGISTRY, Registry, StatResult
from analysis.stats.fdr import benjamini_hochberg
from analysis.stats.policy import AnalysisPolicy

WHOLE_WINDOW = ""  # the segment name of the unsliced window


@dataclass(frozen=True, eq=False)
class FeatureDrift:
    feature: str
    kind: str
    segment: str  # "" for the whole window, else a slice such as "country=DE"
    method: str  # the statistic whose decision is this feature's alert
    results: Mapping[str, StatResult]
    decisions: Mapping[str, Decision]
    window: Summary  # the window's summary on the reference bins (store it, merge it)

    @property
    def decision(self) -> Decision:
        return self.decisions[self.method]

    @property
    def drift(self) -> bool:
        return self.decision.drift


@dataclass(frozen=True, eq=False)
class DriftReport:
    features: tuple[FeatureDrift, ...]

    @property
    def drifted(self) -> tuple[FeatureDrift, ...]:
        return tuple(f for f in self.features if f.drift)

    @property
    def drift(self) -> bool:
        return any(f.drift for f in self.features)

    def get(self, feature: str, segment: str = WHOLE_WINDOW) -> FeatureDrift:
        for f in self.features:
            if f.feature == feature and f.segment == segment:
                return f
        raise KeyError(f"no drift result for feature {feature!r} in segment {segment!r}")


@dataclass(frozen=True, eq=False)
class _Measured:
    feature: str
    kind: str
    segment: str
    method: str
    results: dict[str, StatResult]
    window: Summary


def compute_drift(
    reference: Profile,
    current: Mapping[str, np.ndarray],
    weights: np.ndarray | None = None,
    policy: AnalysisPolicy | None = None,
    *,
    registry: Registry = REGISTRY,
) -> DriftReport:
    """Drift of one window against a reference profile.

    ``current`` maps every profiled feature (with drift enabled) to its window values; weights
    are per row (1 / sampling rate). Raises KeyError for a missing feature column and
    InvalidWeightsError for bad weights; never raises on the data's values.
    """
    policy = policy or AnalysisPolicy()
    names = [n for n in reference.features if policy.drift_enabled(n)]
    missing = [n for n in names if n not in current]
    if missing:
        raise KeyError(f"window has no column for feature(s): {', '.join(missing)}")
    window = Profile({n: reference[n].summarise(current[n], weights) for n in names})
    return compute_drift_profiles(reference, {WHOLE_WINDOW: window}, policy, registry=registry)


def compute_drift_profiles(
    reference: Profile,
    windows: Mapping[str, Profile],
    policy: AnalysisPolicy | None = None,
    *,
    registry: Registry = REGISTRY,
) -> DriftReport:
    """Drift of window profiles (e.g. merged hourly profiles, or one per slice keyed by segment
    name) against the reference, with FDR control across all features x segments."""
    policy = policy or AnalysisPolicy()
    measured = [
        _measure(name, reference[name], summary, segment, policy, registry)
        for segment, window in windows.items()
        for name, summary in window.features.items()
        if name in reference.features and policy.drift_enabled(name)
    ]
    return DriftReport(tuple(_decide(measured, policy, registry)))


def _measure(name: str, ref: Summary, cur: Summary, segment: str, policy: AnalysisPolicy,
             registry: Registry) -> _Measured:
    kind = ref.kind
    results = {s: registry.get(s, kind).compute(ref, cur) for s in policy.statistics(name, kind, registry)}
    return _Measured(name, kind, segment, policy.method(name, kind, registry), results, cur)


def _decide(measured: list[_Measured], policy: AnalysisPolicy, registry: Registry) -> Iterable[FeatureDrift]:
    # families: the alert methods together, every other statistic on its own
    families: dict[str, list[tuple[int, str]]] = {}
    for i, m in enumerate(measured):
        for stat in m.results:
            families.setdefault("\0alert" if stat == m.method else stat, []).append((i, stat))
    adjusted: dict[tuple[int, str], float] = {}
    if policy.drift.fdr:
        for members in families.values():
            tested = []
            for i, stat in members:
                m = measured[i]
                result, rule = m.results[stat], policy.rule(m.feature, m.kind, stat, registry)
                if result.ok and result.p_value is not None and \
                        min(result.n_eff_reference, result.n_eff_current) >= rule.min_n:
                    tested.append((i, stat))
            if tested:
                p = [measured[i].results[stat].p_value for i, stat in tested]
                fdr = benjamini_hochberg(p, policy.drift.alpha)
                adjusted.update(zip(tested, fdr.adjusted.tolist()))
    for i, m in enumerate(measured):
        decisions = {
            stat: decide(result, policy.rule(m.feature, m.kind, stat, registry), adjusted.get((i, stat)))
            for stat, result in m.results.items()
        }
        yield FeatureDrift(m.feature, m.kind, m.segment, m.method, MappingProxyType(m.results),
                           MappingProxyType(decisions), m.window)
