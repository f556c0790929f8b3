"""The dashboard's pure parts: percentiles from histogram buckets, the URL selection, the fleet's
risk order, number formats, and the histogram overlay on a reference profile's bins."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from analysis.drift.profile import fit_profile
from analysis.stats.histogram import histogram_quantile
from dashboard import fmt
from dashboard.histogram import overlay
from dashboard.risk import fleet_rows
from dashboard.state import ALL_VERSIONS, bucket_minutes, parse_selection
from store.dashboard_reads_alerts import SloStatus

NOW = datetime(2025, 3, 1, 12, 30, 45, tzinfo=timezone.utc)
BOUNDS = (5.0, 10.0, 25.0, 50.0, 100.0)


def buckets(latencies: np.ndarray) -> np.ndarray:
    return np.bincount(np.searchsorted(BOUNDS, latencies, side="left"), minlength=len(BOUNDS) + 1)


def test_histogram_quantile_interpolates_inside_the_bucket_like_prometheus():
    counts = np.array([0, 10, 0, 0, 0, 0])  # all ten in (5, 10]
    assert float(histogram_quantile(0.5, BOUNDS, counts)) == pytest.approx(7.5)
    assert float(histogram_quantile(0.99, BOUNDS, counts)) == pytest.approx(9.95)
    assert float(histogram_quantile(0.5, BOUNDS, np.array([4, 0, 0, 0, 0, 0]))) == pytest.approx(2.5)  # from 0 ms
    # a rank in the +Inf bucket: the largest finite bound (only "above 100 ms" is known)
    assert float(histogram_quantile(0.99, BOUNDS, np.array([90, 0, 0, 0, 0, 10]))) == 100.0
    assert np.isnan(histogram_quantile(0.5, BOUNDS, np.zeros(6)))


def test_histogram_quantile_rows_and_the_true_percentile_share_a_bucket():
    rng = np.random.default_rng(0)
    samples = [rng.gamma(4.0, s, 5000) for s in (2.0, 6.0, 15.0)]
    matrix = np.stack([buckets(x) for x in samples])
    for q in (0.5, 0.95, 0.99):
        got = histogram_quantile(q, BOUNDS, matrix)
        assert got.shape == (3,)
        for value, x in zip(got, samples):
            exact = np.quantile(x, q)
            if exact > BOUNDS[-1]:
                assert value == BOUNDS[-1]  # past the last bound only "more than 100 ms" is known
            else:
                assert np.searchsorted(BOUNDS, exact) == np.searchsorted(BOUNDS, value)
    with pytest.raises(ValueError):
        histogram_quantile(1.0, BOUNDS, matrix)
    with pytest.raises(ValueError):
        histogram_quantile(0.5, BOUNDS, np.zeros(3))


def test_selection_from_the_url_and_back():
    sel = parse_selection({"model": "fraud", "version": "v2", "range": "7d"}, ["churn", "fraud"], NOW, ["v1", "v2"])
    assert (sel.model, sel.version, sel.range, sel.problems) == ("fraud", "v2", "7d", ())
    assert sel.end == datetime(2025, 3, 1, 12, 30, tzinfo=timezone.utc) and sel.span == timedelta(days=7)
    assert sel.query() == {"model": "fraud", "version": "v2", "range": "7d"}
    assert parse_selection(sel.query(), ["churn", "fraud"], NOW) == sel
    custom = parse_selection({"model": "fraud", "from": "2025-02-28T00:00:00Z", "to": "2025-03-01"}, ["fraud"], NOW)
    assert custom.range == "custom" and custom.span == timedelta(days=1) and custom.version == ALL_VERSIONS
    assert parse_selection(custom.query(), ["fraud"], NOW) == custom


def test_a_bad_link_falls_back_and_says_why():
    sel = parse_selection({"model": "gone", "range": "2y", "version": "v9"}, ["fraud"], NOW, ["v1"])
    assert sel.model == "fraud" and sel.range == "24h"
    assert len(sel.problems) == 3 and "'gone' is not configured" in sel.problems[0]
    backwards = parse_selection({"from": "2025-03-02", "to": "2025-03-01"}, ["fraud"], NOW)
    assert backwards.range == "24h" and "is not before" in backwards.problems[0]
    garbage = parse_selection({"from": "yesterday"}, ["fraud"], NOW)
    assert garbage.range == "24h" and garbage.problems[0].startswith("custom range ignored")
    assert parse_selection({}, [], NOW).model is None


@pytest.mark.parametrize(("span", "step"), [(timedelta(hours=1), 1), (timedelta(hours=6), 5), (timedelta(days=1), 15),
                                            (timedelta(days=7), 60), (timedelta(days=30), 240)])
def test_bucket_minutes_keep_a_chart_to_a_few_hundred_points(span, step):
    assert bucket_minutes(span) == step and span / timedelta(minutes=step) <= 400


def _status(model: str, slo: str, budget: float | None) -> SloStatus:
    return SloStatus(model, slo, "availability", 0.999, "ok", None, 0.0, 0.0, budget, None, None, None, {}, (), (),
                     NOW, NOW)


def test_fleet_rows_are_ordered_by_risk():
    models = [("a", None), ("b", "team-b"), ("c", None), ("d", None), ("e", None)]
    traffic = {"a": (1000, 0), "b": (1000, 50), "c": (1000, 1), "e": (1000, 0)}
    statuses = [_status("a", "availability", 0.9), _status("b", "availability", 0.5), _status("c", "latency", 0.1),
                _status("c", "availability", 0.6), _status("e", "availability", 0.95)]
    alerts = {"b": {"page": 1, "ticket": 2}, "e": {"ticket": 1}}
    rows = fleet_rows(models, traffic, statuses, {}, {"a": 2}, alerts, range_days=7.0)
    assert [(r.model, r.risk) for r in rows] == [("b", "paging"), ("e", "ticket"), ("c", "budget low"),
                                                 ("d", "no traffic"), ("a", "ok")]
    c = rows[2]
    assert c.worst_slo == "latency" and c.budget_remaining == 0.1 and c.availability == pytest.approx(0.999)
    assert rows[-1].deploys_per_week == 2.0 and rows[0].pages == 1 and rows[0].tickets == 2
    assert rows[3].availability is None


def test_formats():
    assert fmt.pct(0.99951, 2) == "99.95 %" and fmt.pct(None) == fmt.pct(float("nan")) == "—"
    assert (fmt.ms(4.23), fmt.ms(187.4), fmt.ms(2500.0), fmt.ms(0.0004)) == ("4.2 ms", "187 ms", "2.50 s", "0.4 µs")
    assert (fmt.burn(14.4), fmt.burn(200.0)) == ("14.4x", "200x")
    assert (fmt.duration(3 * 86400 + 4 * 3600), fmt.duration(5 * 3600 + 720), fmt.duration(None)) == \
        ("3d 4h", "5h 12m", "not burning")
    assert fmt.budget_end(-0.5, 0.0) == "exhausted" and fmt.budget_end(0.5, 3600.0) == "1h 0m"
    assert fmt.state("insufficient_labels") == "few labels" and fmt.state("firing") == "firing"
    assert fmt.when(NOW) == "2025-03-01 12:30 UTC" and fmt.value(1.23456789) == "1.235" and fmt.value(None) == "—"


def test_overlay_bins_the_current_values_like_the_drift_statistics():
    rng = np.random.default_rng(1)
    reference = {"x": rng.normal(0, 1, 4000), "c": rng.choice(np.array(["a", "b"], dtype=object), 4000)}
    profile = fit_profile(reference, {"x": "numeric", "c": "categorical"}).to_dict()["features"]
    current = rng.normal(1.0, 1, 2000)
    current[:100] = np.nan
    o = overlay("x", profile["x"], current)
    assert len(o.bins) == len(o.reference) == len(o.current) and o.bins[-1] == "missing"
    assert sum(o.reference) == pytest.approx(1.0) and sum(o.current) == pytest.approx(1.0)
    assert o.current[-1] == pytest.approx(100 / 2000) and o.current_rows == 2000
    assert o.current[-2] > 2 * o.reference[-2]  # the shifted values pile into the top bin
    cats = overlay("c", profile["c"], np.array(["a", "z", None], dtype=object))
    assert sorted(cats.bins[:2]) == ["a", "b"] and cats.bins[2:] == ("other", "unseen", "missing")
    shares = dict(zip(cats.bins, cats.current))
    assert shares == pytest.approx({"a": 1 / 3, "b": 0.0, "other": 0.0, "unseen": 1 / 3, "missing": 1 / 3})
    with pytest.raises(ValueError):
        overlay("x", {"kind": "text"}, current)


def test_html_table_formats_escapes_and_draws_bars_and_intervals():
    from dashboard import html_table as t
    from tests.dashboard.html_read import parse_tables

    rows = [{"model": "<b>fraud</b>", "n": 12500.0, "budget": 1.7, "p": None, "ci": (0.70, 0.75, 0.80)},
            {"model": "churn", "n": 3, "budget": -0.2, "p": 0.0123, "ci": (0.5, 0.6, None), "extra": "only here"}]
    markup = t.html_table(rows, {"n": t.number(",d"), "budget": t.bar(1), "p": t.number(".2g"), "ci": t.interval()})
    assert "<b>fraud" not in markup and "&lt;b&gt;fraud&lt;/b&gt;" in markup  # text is escaped, never markup
    table, = parse_tables(markup)
    assert list(table.columns) == ["model", "n", "budget", "p", "ci", "extra"]  # every key, in first-seen order
    assert list(table["n"]) == ["12,500", "3"] and list(table["p"]) == [fmt.MISSING, "0.012"]
    assert list(table["budget"]) == ["170.0 %", "-20.0 %"] and list(table["extra"]) == ["", "only here"]
    assert 'style="width:100.0%"' in markup and 'style="width:0.0%"' in markup  # bars stay inside their track
    assert list(table["ci"]) == ["0.750 [0.700, 0.800]", "0.600 [0.500, —]"]
    # one scale for the column: 0.5 .. 0.8, so the first interval spans 2/3 .. 1 and its dot sits at 5/6
    assert 'left:66.7%;width:33.3%' in markup and 'left:83.3%' in markup


def test_sparkline_keeps_spikes_and_says_what_it_shows():
    from dashboard.html_table import SPARK_HEIGHT, html_table, sparkline, sparkline_points
    from tests.dashboard.html_read import parse_tables

    values = [0.0] * 500 + [2.0] + [0.0] * 499 + [None, 1.0]
    points = sparkline_points(values, width=100, height=20)
    assert len(points) == 100 and points[0][0] == 0.0 and points[-1][0] == 100.0  # one point per pixel column
    assert min(y for _, y in points) == pytest.approx(1.5)  # the one-window spike reaches the top
    assert max(y for _, y in points) == pytest.approx(18.5)  # zeros (and the gap) sit at the bottom
    assert sparkline_points([0.3], width=10, height=SPARK_HEIGHT) == [(0.0, 1.5)]
    table, = parse_tables(html_table([{"f": "x", "history": values}], {"history": sparkline("effect size")}))
    assert table["history"][0] == "effect size over 1002 windows: 0 to 2, latest 1"
    assert "data:image/svg+xml;base64," in html_table([{"h": [0.1, 0.2]}], {"h": sparkline()})


def test_histogram_bars_scale_to_a_round_axis_and_carry_exact_shares():
    from dashboard.histogram import Overlay
    from dashboard.html_bars import axis_top, histogram_html

    assert [axis_top(x) for x in (0.4, 0.173, 0.55, 1.0, 0.0, 0.026)] == pytest.approx([0.4, 0.2, 0.8, 1.0, 1.0, 0.04])
    o = Overlay("x", ("(-inf, 0]", "(0, +inf)", "missing"), (0.5, 0.5, 0.0), (0.1, 0.85, 0.05), 2000)
    markup = histogram_html(o)
    assert 'style="height:85.00%;background:#0068c9" title="(0, +inf) · current (2,000 rows): 85.00 %"' in markup
    assert 'style="height:50.00%;background:#83c9ff" title="(-inf, 0] · reference: 50.00 %"' in markup
    assert [f"<div>{v} %</div>" in markup for v in (100, 75, 50, 25, 0)] == [True] * 5  # the axis: 0 .. 100 %
