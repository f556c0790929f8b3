"""Burn-rate alerting simulated over synthetic per-minute counter streams."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from analysis.slo import RuleState, SliCounts, SloSpec, SloState, evaluate_slo, evaluate_timeline
from analysis.slo.series import availability_counts, latency_counts, quality_counts, timeslice_counts

DAY = 1440
AVAILABILITY = SloSpec(name="availability", kind="availability", objective=0.999)


def steady(minutes: int, rate: float, error_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """``rate`` requests a minute with errors spread exactly: cumulative errors = floor(ratio * requests)."""
    total = np.full(minutes, rate)
    cumulative_errors = np.floor(np.cumsum(total) * error_ratio + 1e-9)
    return total, np.diff(np.concatenate(([0.0], cumulative_errors)))


def first_index(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def last_index(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[-1]) if hits.size else None


@pytest.mark.parametrize("outage_minutes", [2, 20])
def test_full_outage_pages_within_two_minutes_and_clears_within_the_short_window(outage_minutes: int) -> None:
    start = 2 * DAY
    total, bad = steady(3 * DAY, 100, 0.0001)
    bad[start : start + outage_minutes] = total[start : start + outage_minutes]
    timeline = evaluate_timeline(AVAILABILITY, SliCounts.from_total_bad(total, bad))
    page = timeline.fired("page")
    # timeline index i = state after minute i's data; the outage's first minute is index `start`.
    assert not page[:start].any()
    fired_at = first_index(page)
    assert fired_at is not None and fired_at - start + 1 <= 2
    recovered = start + outage_minutes  # first healthy minute
    fast = timeline.rule_fired(0)  # 14.4x over 1h and 5m
    assert fast[recovered - 1]
    assert last_index(fast) - recovered + 1 < 5  # cleared once 5 healthy minutes are in
    # The page alert is the OR of both page rules: each clears within its own short window.
    slow = timeline.rule_fired(1)  # 6x over 6h and 30m
    if slow.any():
        assert last_index(slow) - recovered + 1 < 30
    else:
        assert last_index(page) - recovered + 1 < 5
    assert last_index(page) - recovered + 1 < 30
    assert outage_minutes != 2 or not slow.any()  # a 2-minute outage is only 5.6x over 6h


def test_error_rate_at_one_budget_never_pages_and_tickets_within_three_days() -> None:
    total, bad = steady(4 * DAY, 100, 0.001)
    counts = SliCounts.from_total_bad(total, bad)
    timeline = evaluate_timeline(AVAILABILITY, counts)
    assert not timeline.fired("page").any()
    ticket_at = first_index(timeline.fired("ticket"))
    assert ticket_at is not None and ticket_at < 3 * DAY
    final = evaluate_slo(AVAILABILITY, counts)
    assert final.rules[3].long.burn_rate == pytest.approx(1.0)
    assert final.firing_severities == ("ticket",)
    assert final.budget.remaining == pytest.approx(0.0, abs=1e-9)


def test_binomial_noise_at_a_third_of_the_budget_never_alerts() -> None:
    rng = np.random.default_rng(7)
    total = rng.poisson(50, 6 * DAY).astype(float)
    bad = rng.binomial(total.astype(int), 0.001 / 3).astype(float)
    timeline = evaluate_timeline(AVAILABILITY, SliCounts.from_total_bad(total, bad))
    assert not timeline.fired("page").any()
    # Tickets decide on raw ratios: judged once the 3-day window holds 3 days of traffic.
    assert not timeline.fired("ticket")[3 * DAY :].any()


def test_quiet_endpoint_with_one_error_in_ten_requests_does_not_page() -> None:
    total = np.zeros(DAY)
    total[DAY - 59 :: 6] = 1  # 10 requests in the last hour, one in the last 5 minutes
    bad = np.zeros(DAY)
    bad[DAY - 5] = 1
    counts = SliCounts.from_total_bad(total, bad)
    result = evaluate_slo(AVAILABILITY, counts)
    assert not result.is_firing("page")
    assert result.rules[0].state is RuleState.low_traffic  # 10 events < min_events 20

    # Without the event minimum the Wilson bound decides: the raw burn would page a 99.5 % SLO.
    lenient = SloSpec(name="a", kind="availability", objective=0.995, min_events=1)
    result = evaluate_slo(lenient, counts)
    fast = result.rules[0]
    assert fast.long.burn_rate == pytest.approx(20.0)  # 0.1 / 0.005, above 14.4
    assert fast.long.decision_burn == pytest.approx(0.0227 / 0.005, rel=0.01)
    assert not result.is_firing("page")
    assert not evaluate_timeline(lenient, counts).fired("page").any()


def test_sustained_errors_on_a_low_traffic_endpoint_still_page() -> None:
    total, bad = steady(DAY, 2, 0.0)
    bad[-30:] = total[-30:]
    assert evaluate_slo(AVAILABILITY, SliCounts.from_total_bad(total, bad)).is_firing("page")


def test_no_data_is_its_own_state() -> None:
    counts = SliCounts.from_total_bad(np.zeros(DAY), np.zeros(DAY))
    result = evaluate_slo(AVAILABILITY, counts)
    assert result.state is SloState.no_data
    assert all(r.state is RuleState.no_data for r in result.rules)
    assert math.isnan(result.budget.remaining) and result.budget.time_to_exhaustion is None
    # Traffic stopped an hour ago: the fast rule has no data, so the SLO is not "ok".
    total, bad = steady(DAY, 100, 0.0)
    total[-60:] = 0
    result = evaluate_slo(AVAILABILITY, SliCounts.from_total_bad(total, bad))
    assert result.rules[0].state is RuleState.no_data
    assert result.state is SloState.no_data
    assert evaluate_slo(AVAILABILITY, SliCounts.from_total_bad([], [])).state is SloState.no_data


def test_quality_without_labels_is_insufficient_labels() -> None:
    spec = SloSpec(name="accuracy", kind="quality", objective=0.95, alerts=[{"severity": "page", "burn_rate": 6, "long_window": "6h", "short_window": "30m"}])
    predictions = np.full(DAY, 100.0)
    counts = quality_counts(predictions, np.zeros(DAY), np.zeros(DAY))
    result = evaluate_slo(spec, counts)
    assert result.state is SloState.insufficient_labels
    assert result.rules[0].long.coverage == 0.0

    # Labels arrived for all but the last 20 minutes, and half are wrong: still not enough for
    # the 30 m window, so nothing fires on a window whose labels have not arrived...
    labelled = predictions.copy()
    labelled[-20:] = 0
    counts = quality_counts(predictions, labelled, labelled / 2)
    result = evaluate_slo(spec, counts)
    assert result.rules[0].short.coverage == pytest.approx(1 / 3)
    assert result.state is SloState.insufficient_labels and not result.firing_severities
    # ...until the windows are evaluated where labels have arrived.
    delayed = spec.model_copy(update={"evaluation_delay": spec.alerts[0].short_window})
    result = evaluate_slo(SloSpec.model_validate(delayed.model_dump()), counts)
    assert result.rules[0].short.coverage == 1.0
    assert result.is_firing("page")


def test_latency_counts_come_from_histogram_buckets() -> None:
    spec = SloSpec(name="p", kind="latency", objective=0.99, threshold_ms=250)
    bounds = len(spec.buckets_ms)
    rows = np.zeros((DAY, bounds + 1))
    rows[:, 3] = 95  # 50 ms bucket
    rows[:, spec.threshold_bucket] = 5  # exactly 250 ms counts as good (le)
    rows[-10:, :] = 0
    rows[-10:, spec.threshold_bucket + 1] = 100  # last 10 minutes: everything 500 ms
    counts = latency_counts(rows, spec.threshold_bucket)
    assert counts.total[0] == 100 and counts.bad[0] == 0 and counts.bad[-1] == 100
    assert evaluate_slo(spec, counts).is_firing("page")


def test_timeslice_budgeting_counts_bad_slices() -> None:
    total, bad = steady(DAY, 100, 0.0)
    bad[-30:] = 5  # 95 % good per minute: every one of those slices misses 99 %
    sliced = timeslice_counts(SliCounts.from_total_bad(total, bad), 5, 0.99)
    assert sliced.total.sum() == DAY / 5 and sliced.bad.sum() == 6
    spec = SloSpec(name="a", kind="availability", objective=0.99, budgeting="timeslice", timeslice="5m")
    result = evaluate_slo(spec, availability_counts(total, bad))
    assert result.rules[0].long.total == 12  # twelve 5-minute slices in the hour
    assert result.rules[0].long.bad == 6
    assert result.budget.total == DAY / 5


def test_evaluating_a_thousand_slos_over_three_days_is_fast() -> None:
    rng = np.random.default_rng(1)
    total = rng.poisson(100, 3 * DAY).astype(float)
    series = [SliCounts.from_total_bad(total, rng.binomial(total.astype(int), 0.002).astype(float)) for _ in range(20)]
    started = time.perf_counter()
    for i in range(1000):
        evaluate_slo(AVAILABILITY, series[i % 20])
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"1,000 SLO evaluations took {elapsed:.2f} s"
