"""analysis.cost against figures worked out by hand (docs/cost.md has the same example)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from analysis.cost import ceil_hour, daily_spend, floor_hour, hour_range, project_day, summarize
from config.deploys import CostModel
from config.monitors import Model

T = datetime(2025, 3, 1, tzinfo=timezone.utc)
H = timedelta(hours=1)

# v1 on a fleet at 3.20 an hour; v2 on its own fleet at 1.50 an hour plus 0.0001 a request; v3
# is priced by the "*" entry in PRICED and by nothing in UNPRICED.
PRICED = Model.model_validate({
    "name": "fraud", "task": "binary", "positive_class": "1", "features": [{"name": "amount", "type": "numeric"}],
    "costs": [{"version": "*", "per_hour": 3.20}, {"version": "v2", "per_hour": 1.50, "per_request": 0.0001}],
})
UNPRICED = Model.model_validate({
    "name": "fraud", "task": "binary", "positive_class": "1", "features": [{"name": "amount", "type": "numeric"}],
    "costs": [{"version": "v1", "per_hour": 3.20}, {"version": "v2", "per_hour": 1.50, "per_request": 0.0001}],
})
ROWS = [
    ("v1", T + 10 * H, 1000), ("v1", T + 11 * H, 500), ("v1", T + 13 * H, 0),  # an hour without requests: free
    ("v2", T + 11 * H, 200), ("v2", T + 12 * H, 300),
    ("v3", T + 12 * H, 70),
]


def test_hours_and_ranges_are_whole_utc_hours() -> None:
    t = datetime(2025, 3, 1, 10, 30, 15, tzinfo=timezone.utc)
    assert floor_hour(t) == T + 10 * H and ceil_hour(t) == T + 11 * H and ceil_hour(T + 10 * H) == T + 10 * H
    assert hour_range(t, t + timedelta(minutes=5)) == (T + 10 * H, T + 11 * H)
    berlin = timezone(timedelta(hours=1))
    assert floor_hour(datetime(2025, 3, 1, 11, 30, tzinfo=berlin)) == T + 10 * H


def test_version_and_model_costs_by_hand() -> None:
    s = summarize(ROWS, UNPRICED.cost_model, T, T + 24 * H)
    v1, v2, v3 = s.versions
    # v1: 1,500 requests in 2 hours (10:00, 11:00; 13:00 had none): 2 x 3.20 = 6.40
    assert (v1.requests, v1.active_hours, v1.fleet_cost, v1.request_cost) == (1500, 2, pytest.approx(6.40), 0.0)
    assert v1.per_1k_predictions == pytest.approx(6.40 / 1500 * 1000)  # 4.2667
    # v2: 500 requests in 2 hours: 2 x 1.50 + 500 x 0.0001 = 3.00 + 0.05 = 3.05; per 1k 6.10
    assert (v2.requests, v2.active_hours) == (500, 2)
    assert (v2.fleet_cost, v2.request_cost, v2.cost) == (pytest.approx(3.0), pytest.approx(0.05), pytest.approx(3.05))
    assert v2.per_1k_predictions == pytest.approx(6.10)
    # v3 has no price: its 70 requests are reported apart, never in a denominator
    assert v3.price is None and v3.per_1k_predictions is None and v3.cost == 0.0
    assert (s.requests, s.unpriced_requests, s.currency) == (2000, 70, "USD")
    assert s.cost == pytest.approx(9.45) and s.per_1k_predictions == pytest.approx(9.45 / 2000 * 1000)  # 4.725


def test_the_star_entry_prices_every_version_without_its_own() -> None:
    s = summarize(ROWS, PRICED.cost_model, T, T + 24 * H)
    v3 = s.versions[2]
    assert v3.price is not None and v3.price.version == "*" and v3.cost == pytest.approx(3.20)
    assert s.unpriced_requests == 0 and s.requests == 2070 and s.cost == pytest.approx(12.65)


def test_costs_add_up_across_adjacent_ranges() -> None:
    whole = summarize(ROWS, PRICED.cost_model, T, T + 24 * H).cost
    parts = [summarize(ROWS, PRICED.cost_model, T + a * H, T + b * H).cost for a, b in ((0, 11), (11, 12), (12, 24))]
    assert sum(parts) == pytest.approx(whole)


def test_an_empty_range_has_no_cost_per_1k() -> None:
    s = summarize(ROWS, PRICED.cost_model, T + 20 * H, T + 24 * H)
    assert s.versions == () and s.cost == 0.0 and s.per_1k_predictions is None and s.currency is None


def test_spend_per_utc_day_marks_partial_and_open_days() -> None:
    rows = [*ROWS, ("v1", T - 1 * H, 100)]  # 23:00 the day before
    days = daily_spend(rows, UNPRICED.cost_model, T - 2 * H, T + 14 * H, now=T + 2 * 24 * H)
    assert [(d.day, d.complete) for d in days] == [(date(2025, 2, 28), False), (date(2025, 3, 1), False)]
    assert days[0].cost == pytest.approx(3.20) and days[0].summary.requests == 100
    assert days[1].cost == pytest.approx(9.45)
    whole = daily_spend(rows, UNPRICED.cost_model, T - 24 * H, T + 24 * H, now=T + 24 * H)
    assert [d.complete for d in whole] == [True, True]
    still_open = daily_spend(rows, UNPRICED.cost_model, T, T + 24 * H, now=T + 23 * H)
    assert [d.complete for d in still_open] == [False]


def test_projection_of_today_by_hand() -> None:
    now = T + 12 * H + timedelta(minutes=30)
    p = project_day(ROWS, UNPRICED.cost_model, now)
    assert p.day == date(2025, 3, 1) and p.spent == pytest.approx(9.45)
    # Recent window [11:00, 12:30) = 90 min; 11.5 h left in the day; 12 hours from 12:00 to midnight.
    # v1 served 500 in the window, not yet in the 12:00 hour: 12 hours of fleet left, 0 per request: 12 x 3.20 = 38.40
    # v2 served 500 in the window, 12:00 already charged: 11 x 1.50 = 16.50, plus 500 x 690/90 x 0.0001 = 0.38333
    # v3 is unpriced: nothing.
    assert p.projected == pytest.approx(9.45 + 38.40 + 16.50 + 500 * 690 / 90 * 0.0001)
    assert p.summary.currency == "USD"


def test_a_version_that_stopped_serving_adds_nothing_to_the_projection() -> None:
    p = project_day(ROWS, UNPRICED.cost_model, T + 20 * H)
    assert p.projected == pytest.approx(p.spent) == pytest.approx(9.45)


def test_a_version_serving_since_last_night_is_projected_from_midnight() -> None:
    # 00:10: v1 served 600 requests at 23:00 yesterday and none yet today: today's 24 fleet hours
    # are all ahead (00:00 not yet charged); requests priced at 0 for v1.
    rows = [("v1", T - H, 600)]
    p = project_day(rows, UNPRICED.cost_model, T + timedelta(minutes=10))
    assert p.spent == 0.0 and p.projected == pytest.approx(24 * 3.20)


def test_cost_model_needs_a_price_and_one_currency_per_model() -> None:
    with pytest.raises(ValueError, match="per_hour, per_request or both"):
        CostModel.model_validate({"version": "*"})
    with pytest.raises(ValueError, match="share a currency"):
        Model.model_validate({"name": "m", "task": "regression", "features": [{"name": "x", "type": "numeric"}], "costs": [
            {"version": "*", "per_hour": 1.0}, {"version": "v2", "per_hour": 1.0, "currency": "EUR"}]})
