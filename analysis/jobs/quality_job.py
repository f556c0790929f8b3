"""Data quality of one window, whole and per slice (pure).

The whole window gets every check of ``check_quality``, with the volume check: its weighted
rows (estimated traffic) against the expected volume from earlier windows
(``expected_volume``). Slices get the distribution checks (range, nulls, missing rate, new
categories); type violations are reported for the whole window only.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from analysis.drift.categorical_profile import CategoricalSummary
from analysis.drift.profile import Profile
from analysis.jobs.results import QUALITY, ResultRow, finite, json_safe, stored_status
from analysis.jobs.segments import Segment
from analysis.quality.checks import missing_rate_change, new_categories, not_null, out_of_range
from analysis.quality.findings import QualityFinding, QualityReport
from analysis.quality.report import check_quality
from analysis.stats.policy import AnalysisPolicy
from config.monitors import Feature, FeatureType

SEASON = timedelta(days=1)  # traffic repeats daily: compare an hour with the same hour before
MIN_HISTORY = 3


def expected_volume(history: Mapping[datetime, float], start: datetime, length: timedelta,
                    days: int = 7) -> float | None:
    """Expected weighted rows of the window starting at ``start``: the median of the same
    window on each of the previous ``days`` days when at least 3 of them were analysed, else the
    median of the 24 windows before it (at least 3), else None (no volume check).
    ``history`` maps earlier window starts to their weighted rows."""
    same_time = [history[start - k * SEASON] for k in range(1, days + 1) if start - k * SEASON in history]
    if length < SEASON and len(same_time) >= MIN_HISTORY:
        return float(statistics.median(same_time))
    recent = [history[start - k * length] for k in range(1, 25) if start - k * length in history]
    return float(statistics.median(recent)) if len(recent) >= MIN_HISTORY else None


def _rows(report: QualityReport, key: str, value: str) -> list[ResultRow]:
    return [
        ResultRow(QUALITY, f.check, f.feature or "", key, value, finite(f.value), finite(f.threshold),
                  stored_status(f.status), f.n, json_safe({"count": f.count, "p_value": f.p_value, **f.details}))
        for f in report.findings
    ]


def quality_rows(reference: Profile, features: Mapping[str, np.ndarray], raw: Mapping[str, np.ndarray],
                 declared: Sequence[Feature], weights: np.ndarray, segments: Sequence[Segment],
                 policy: AnalysisPolicy, *, expected_rows: float | None = None,
                 profiles: Mapping[str, Profile] | None = None) -> list[ResultRow]:
    """Quality findings of the whole window (with the volume check when ``expected_rows`` is
    known) and of each slice value with rows.

    ``features`` are the analysed columns (numeric as float), ``raw`` the as-sent values of
    numeric features that had non-numbers (type checks see those); ``profiles`` the window
    profiles the drift job already built, by segment name ("" = whole window).
    """
    profiles = profiles or {}

    window = profiles.get("")
    if window is None and reference.features:
        window = reference.summarise(features, weights)  # on the float columns: raw ones may hold text
    out = _rows(check_quality(reference, {**features, **raw}, declared, weights, policy,
                              expected_rows=expected_rows, window=window), "", "")
    for seg in segments:
        if seg.rows.shape[0]:
            cols = {n: c[seg.rows] for n, c in features.items()}
            w = weights[seg.rows]
            part = profiles.get(seg.name)
            if part is None and reference.features:
                part = reference.summarise(cols, w)
            out.extend(_rows(QualityReport(tuple(slice_findings(reference, part, cols, declared, w, policy))),
                             seg.key, seg.value))
    return out


def slice_findings(reference: Profile, window: Profile | None, columns: Mapping[str, np.ndarray],
                   declared: Sequence[Feature], weights: np.ndarray, policy: AnalysisPolicy) -> list[QualityFinding]:
    """check_quality's checks for one slice, except types: a type violation is a row's schema
    problem, reported once for the whole window (slicing it repeats the same rows, and the
    per-value type test is the slowest check on text columns)."""
    q = policy.quality
    found: list[QualityFinding] = []
    for feature in declared:
        name = feature.name
        if feature.type is FeatureType.numeric and feature.range is not None and name in columns:
            found.append(out_of_range(name, columns[name], *feature.range, weights, max_rate=q.out_of_range_rate))
        if window is None or name not in reference.features or name not in window.features:
            continue
        summary = window[name]
        if not feature.nullable:
            found.append(not_null(name, summary))
        found.append(missing_rate_change(name, reference[name], summary, max_increase=policy.missing_rate_increase(name),
                                         alpha=q.alpha, min_n=q.min_n))
        ref = reference[name]
        if isinstance(ref, CategoricalSummary) and isinstance(summary, CategoricalSummary):
            found.append(new_categories(name, ref, summary, feature.categories, max_rate=q.new_category_rate))
    return found
