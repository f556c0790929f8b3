"""The pure parts of the jobs: windows, settings, segments, volume baseline, worst slices,
late-label grouping, result rows. No database, no clock."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from pydantic import ValidationError

from analysis.jobs.late_labels import newest_label_per_window
from analysis.jobs.quality_job import expected_volume
from analysis.jobs.results import json_safe, stored_status
from analysis.jobs.schedule import ScheduleSettings, Window, closed_windows, model_analysis, window_floor
from analysis.jobs.segments import MISSING, OTHER, parse_slice, slice_segments
from analysis.slices import loss_excess
from tests.analysis_jobs.seed import monitors, model_spec

UTC = timezone.utc
T = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def test_windows_are_aligned_and_closed_after_the_delay():
    assert window_floor(T + timedelta(minutes=59, seconds=59), timedelta(hours=1)) == T
    assert window_floor(T + timedelta(minutes=17), timedelta(minutes=15)) == T + timedelta(minutes=15)
    s = ScheduleSettings(window="1h", delay="5m", catchup="3h")
    due = closed_windows(T + timedelta(minutes=4), s)
    assert due == [Window(T - timedelta(hours=3), T - timedelta(hours=2)),
                   Window(T - timedelta(hours=2), T - timedelta(hours=1))]  # [T-1h, T) closes at T+5m
    assert closed_windows(T + timedelta(minutes=5), s)[-1] == Window(T - timedelta(hours=1), T)
    assert closed_windows(T + timedelta(minutes=5), s, since=T - timedelta(hours=1)) == [Window(T - timedelta(hours=1), T)]


def test_schedule_lives_beside_the_statistics_policy():
    model = monitors(model_spec(drift={"alpha": 0.01}, schedule={"window": "30m", "every": "1m"})).models[0]
    analysis = model_analysis(model)
    assert analysis.schedule.window == timedelta(minutes=30) and analysis.policy.drift.alpha == 0.01
    with pytest.raises(ValidationError, match="windo"):
        model_analysis(monitors(model_spec(schedule={"windo": "1h"})).models[0])
    with pytest.raises(ValidationError):
        ScheduleSettings(window="90s")


def test_segments_pool_rare_values_and_keep_missing_apart():
    values = np.array(["a"] * 5 + ["b"] * 3 + ["c", "d", None, None], dtype=object)
    segs = slice_segments({"k": values}, np.ones(12), max_values=2)
    by_value = {s.value: s.rows.tolist() for s in segs}
    assert by_value == {"a": [0, 1, 2, 3, 4], "b": [5, 6, 7], OTHER: [8, 9], MISSING: [10, 11]}
    assert segs[0].name == "k=a"
    assert parse_slice("country=DE") == ("country", "DE") and parse_slice("k=") == ("k", "")
    with pytest.raises(ValueError):
        parse_slice("country")


def test_expected_volume_prefers_the_same_hour_on_earlier_days():
    day = timedelta(days=1)
    history = {T - k * day: 1000.0 + k for k in range(1, 8)} | {T - timedelta(hours=k): 50.0 for k in range(1, 25)}
    assert expected_volume(history, T, timedelta(hours=1)) == 1004.0
    recent_only = {T - timedelta(hours=k): float(k) for k in range(1, 6)}
    assert expected_volume(recent_only, T, timedelta(hours=1)) == 3.0
    assert expected_volume({T - timedelta(hours=1): 9.0}, T, timedelta(hours=1)) is None


def test_worst_slice_is_the_significantly_worse_one():
    rng = np.random.default_rng(3)
    n = 6000
    group = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    loss = (rng.random(n) < np.where(group == 2, 0.40, 0.20)).astype(float)
    segs = [("country", v, np.flatnonzero(group == i)) for i, v in enumerate(["DE", "US", "FR"])]
    found = loss_excess(loss, np.ones(n), segs)
    assert found[0].value == "FR" and found[0].worst
    assert found[0].excess == pytest.approx(found[0].share * (found[0].loss - found[0].rest_loss))
    assert not any(s.worst for s in found[1:])
    tiny = loss_excess(loss[:40], np.ones(40), [("k", "v", np.arange(5))], min_n=30)
    assert tiny[0].p_value is None and not tiny[0].worst


def test_late_labels_group_by_the_predictions_window():
    hour = 3600.0
    t = T.timestamp()
    times = np.array([t + 10, t + 20, t + hour + 5])
    received = np.array([t + 9000, t + 9500, t + 9100])
    grouped = newest_label_per_window(times, received, timedelta(hours=1))
    assert grouped == {Window(T, T + timedelta(hours=1)): datetime.fromtimestamp(t + 9500, UTC),
                       Window(T + timedelta(hours=1), T + timedelta(hours=2)): datetime.fromtimestamp(t + 9100, UTC)}


def test_rows_hold_json_and_short_statuses():
    assert stored_status("insufficient_data") == "insufficient" and len(stored_status("not_evaluated")) <= 16
    assert json_safe({"a": np.float64("nan"), "b": np.arange(2), "c": (np.int64(3), math.inf)}) == \
        {"a": None, "b": [0, 1], "c": [3, None]}


def test_slices_get_the_engines_alert_decisions_with_fewer_statistics():
    from analysis.drift import fit_profile
    from analysis.drift.engine import compute_drift_profiles
    from analysis.jobs.drift_job import decide_drift, window_profiles
    from analysis.stats.policy import AnalysisPolicy

    rng = np.random.default_rng(5)
    kinds = {"a": "numeric", "k": "categorical"}
    reference = fit_profile({"a": rng.normal(0, 1, 5000), "k": np.array(["u", "v"], object)[rng.integers(0, 2, 5000)]},
                            kinds)
    n = 4000
    group = np.array(["g1", "g2"], dtype=object)[rng.integers(0, 2, n)]
    current = {"a": rng.normal(0, 1, n) + np.where(group == "g2", 0.3, 0.0),
               "k": np.array(["u", "v"], object)[rng.integers(0, 2, n)]}
    segments = slice_segments({"grp": group}, np.ones(n), 10)
    profiles, _ = window_profiles(reference, current, np.ones(n), segments, 100)
    policy = AnalysisPolicy()
    full = compute_drift_profiles(reference, profiles, policy)
    fast = decide_drift(reference, profiles, policy)
    assert [(f.feature, f.segment, f.decision) for f in fast.features] == \
        [(f.feature, f.segment, f.decision) for f in full.features]
    assert fast.get("a", "grp=g2").drift and set(fast.get("a", "grp=g2").results) == {"wasserstein_norm"}
    assert set(fast.get("a").results) == set(full.get("a").results)
