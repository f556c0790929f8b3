"""Drift of one window against the reference profile, whole and per slice (pure).

Every feature is binned once per segment on the reference's bins; ``compute_drift_profiles``
then decides with Benjamini-Hochberg across features x slices. Stored rows: per segment and
feature, the alert decision (metric ``drift``); every registered statistic for the whole window
(per slice only the alert decision, which keeps a cycle's writes small); per segment a summary
row (feature ``""``); and the slices that contribute most to each drifted feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

import numpy as np

from analysis.drift.engine import WHOLE_WINDOW, DriftReport, FeatureDrift, compute_drift_profiles
from analysis.drift.profile import Profile
from analysis.drift.registry import REGISTRY, Registry
from analysis.jobs.results import (
    ANY_DRIFT, DRIFT, INSUFFICIENT, WINDOW_METRIC, ResultRow, finite, json_safe, statistic_status, stored_status,
)
from analysis.jobs.segments import Segment
from analysis.slices import drift_contributions
from analysis.stats.policy import AnalysisPolicy


def window_profiles(reference: Profile, features: Mapping[str, np.ndarray], weights: np.ndarray,
                    segments: Sequence[Segment], min_rows: int) -> tuple[dict[str, Profile], dict[str, tuple[str, str]]]:
    """Window profile of the whole window (segment ``""``) and of each segment with at least
    ``min_rows`` rows (smaller ones could only be insufficient), with their (key, value)."""
    profiles = {WHOLE_WINDOW: reference.summarise(features, weights)}
    where = {WHOLE_WINDOW: ("", "")}
    for seg in segments:
        if seg.rows.shape[0] >= max(min_rows, 1):
            profiles[seg.name] = reference.summarise({n: c[seg.rows] for n, c in features.items()}, weights[seg.rows])
            where[seg.name] = (seg.key, seg.value)
    return profiles, where


def _feature_rows(f: FeatureDrift, key: str, value: str, all_statistics: bool) -> list[ResultRow]:
    d = f.decision
    result = f.results[f.method]
    rows = [ResultRow(DRIFT, WINDOW_METRIC, f.feature, key, value, finite(d.effect_size), d.threshold,
                      stored_status(d.status), result.n_current,
                      json_safe({"method": f.method, "kind": f.kind, "p_value": d.p_value, "p_adjusted": d.p_adjusted,
                                 "alpha": d.alpha, "n_eff": d.n_eff, "min_n": d.min_n, "reason": d.reason}))]
    if all_statistics:
        for name, r in f.results.items():
            dec = f.decisions[name]
            rows.append(ResultRow(
                DRIFT, name, f.feature, key, value, finite(r.value), dec.threshold, statistic_status(dec.status),
                r.n_current, json_safe({"effect_size": r.effect_size, "p_value": r.p_value,
                                        "p_adjusted": dec.p_adjusted, "n_eff_reference": r.n_eff_reference,
                                        "n_eff_current": r.n_eff_current, "alert": name == f.method,
                                        "reason": dec.reason, **r.details})))
    return rows


def _segment_summary(features: Sequence[FeatureDrift], key: str, value: str, n: int) -> ResultRow:
    drifted = sorted(f.feature for f in features if f.drift)
    decided = [f for f in features if stored_status(f.decision.status) != INSUFFICIENT]
    status = ANY_DRIFT if drifted else ("no_drift" if decided else INSUFFICIENT)
    return ResultRow(DRIFT, WINDOW_METRIC, "", key, value, float(len(drifted)), None, status, n,
                     {"drifted": drifted, "features": len(features), "decided": len(decided)})


def decide_drift(reference: Profile, profiles: Mapping[str, Profile], policy: AnalysisPolicy,
                 registry: Registry = REGISTRY) -> DriftReport:
    """Drift of the window profiles: every statistic for the whole window, only the alert
    method per slice (slices store only their alert decision, so computing the rest would be
    wasted -- it was 2/3 of the drift time with 4 slice values).

    The alert family (BH across features x slices) is exactly the engine's; the other
    statistics form their families over the whole window's features.
    """
    if len(profiles) == 1:
        return compute_drift_profiles(reference, profiles, policy, registry=registry)
    alert_only = policy.model_copy(update={"drift": policy.drift.model_copy(update={"statistics": ()})})
    alerts = compute_drift_profiles(reference, profiles, alert_only, registry=registry)
    every = compute_drift_profiles(reference, {WHOLE_WINDOW: profiles[WHOLE_WINDOW]}, policy, registry=registry)
    decided = {f.feature: f.decision for f in alerts.features if f.segment == WHOLE_WINDOW}
    whole = tuple(replace(f, decisions=MappingProxyType({**f.decisions, f.method: decided[f.feature]}))
                  for f in every.features)
    return DriftReport(whole + tuple(f for f in alerts.features if f.segment != WHOLE_WINDOW))


def drift_rows(reference: Profile, features: Mapping[str, np.ndarray], weights: np.ndarray,
               segments: Sequence[Segment], policy: AnalysisPolicy, *, registry: Registry = REGISTRY,
               ) -> tuple[list[ResultRow], DriftReport, dict[str, Profile]]:
    """Rows of the window's drift, the report, and the window profiles by segment name ("" =
    the whole window; quality reuses them)."""
    columns = {n: features[n] for n in reference.features}
    profiles, where = window_profiles(reference, columns, weights, segments, policy.drift.min_n)
    report = decide_drift(reference, profiles, policy, registry)
    by_segment: dict[str, list[FeatureDrift]] = {}
    for f in report.features:
        by_segment.setdefault(f.segment, []).append(f)
    rows: list[ResultRow] = []
    sizes = {WHOLE_WINDOW: int(weights.shape[0]), **{s.name: int(s.rows.shape[0]) for s in segments}}
    for segment, found in by_segment.items():
        key, value = where[segment]
        for f in found:
            rows.extend(_feature_rows(f, key, value, all_statistics=segment == WHOLE_WINDOW))
        rows.append(_segment_summary(found, key, value, sizes[segment]))
    total = float(weights.sum())
    shares = {s.name: float(weights[s.rows].sum()) / total for s in segments if s.name in where} if total > 0 else {}
    for c in drift_contributions(report, shares):
        key, value = where[c.segment]
        rows.append(ResultRow(DRIFT, "worst_slice", c.feature, key, value, c.contribution, None, "worst",
                              sizes[c.segment], {"share": c.share, "effect_size": c.effect_size, "method": c.method}))
    return rows, report, profiles
