"""Data quality of one window, whole and per slice (pure).

The whole window also gets the volume check: its weighted rows (estimated traffic) against the
expected volume from earlier windows (``expected_volume``).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from analysis.drift.profile import Profile
from analysis.jobs.results import QUALITY, ResultRow, finite, json_safe, stored_status
from analysis.jobs.segments import Segment
from analysis.quality.findings import QualityReport
from analysis.quality.report import check_quality
from analysis.stats.policy import AnalysisPolicy
from config.monitors import Feature

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

    def check(rows: np.ndarray | None, name: str, expected: float | None) -> QualityReport:
        cols = features if rows is None else {n: c[rows] for n, c in features.items()}
        w = weights if rows is None else weights[rows]
        window = profiles.get(name)
        if window is None and reference.features:
            window = reference.summarise(cols, w)  # on the float columns: raw ones may hold text
        sent = {**cols, **(raw if rows is None else {n: c[rows] for n, c in raw.items()})}
        return check_quality(reference, sent, declared, w, policy, expected_rows=expected, window=window)

    out = _rows(check(None, "", expected_rows), "", "")
    for seg in segments:
        if seg.rows.shape[0]:
            out.extend(_rows(check(seg.rows, seg.name, None), seg.key, seg.value))
    return out
