"""SLI counts read from the store (GROUP BY in SQL, hourly rollup) against counts made by hand."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alerts.slo_counts import read_slo_counts
from analysis.slo import SliCounts, SloSpec, evaluate_slo
from store import schema, schema_alerts
from store.records import LabelRow, PredictionRow
from store.slo_reads import epoch_minute
from store.upsert import insert_or_ignore
from store.writes import write_labels, write_predictions
from tests.alerts_io.conftest import MINUTE, T0
from tests.alerts_io.streams import write_counters

AVAILABILITY = SloSpec(name="availability", kind="availability", objective=0.999)
LATENCY = SloSpec(name="fast", kind="latency", objective=0.99, threshold_ms=100)


def stream(minutes: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    requests = rng.poisson(40, minutes).astype(float)
    errors = rng.binomial(requests.astype(int), 0.004).astype(float)
    slow = np.minimum(rng.poisson(0.5, minutes), requests - errors).astype(float)
    errors[-25:] = requests[-25:]  # an outage at the end
    slow[-25:] = 0
    return requests, errors, slow


def test_counter_slis_match_the_minute_counts(engine: Engine) -> None:
    minutes = 2 * 1440 + 200
    requests, errors, slow = stream(minutes)
    write_counters(engine, "m", T0, requests, errors, slow)
    start = epoch_minute(T0)
    truth = {
        "availability": SliCounts.from_total_bad(requests, errors, start),
        "fast": SliCounts.from_total_bad(requests - errors, slow, start),
    }
    # Not on an hour boundary, and twice: the second read rolls up new hours incrementally.
    for end_offset in (minutes - 97, minutes):
        end = start + end_offset
        got = read_slo_counts(engine, [("m", AVAILABILITY), ("m", LATENCY)], end)
        for spec in (AVAILABILITY, LATENCY):
            expected = evaluate_slo(spec, truth[spec.name], end_offset)
            actual = evaluate_slo(spec, got[("m", spec.name)])
            assert actual.budget.total == expected.budget.total and actual.budget.bad == expected.budget.bad
            for mine, theirs in zip(actual.rules, expected.rules):
                if mine.rule.long_window <= timedelta(hours=6):  # minute-exact windows
                    assert (mine.long.total, mine.long.bad, mine.state) == (theirs.long.total, theirs.long.bad, theirs.state)
                else:  # hour-aligned: at most 59 minutes longer
                    assert theirs.long.total <= mine.long.total <= theirs.long.total + 59 * 60
                assert (mine.short.total, mine.short.bad) == (theirs.short.total, theirs.short.bad)
    with engine.connect() as conn:
        marks = conn.execute(sa.select(schema_alerts.sli_rollups.c.rolled_until)).scalars().all()
    assert len(marks) == 2 and all(m.minute == 0 for m in marks)


def test_a_changed_threshold_restarts_the_rollup(engine: Engine) -> None:
    requests, errors, slow = stream(1440)
    write_counters(engine, "m", T0, requests, errors, slow)
    end = epoch_minute(T0) + 1440
    read_slo_counts(engine, [("m", LATENCY)], end)
    slower = LATENCY.model_copy(update={"threshold_ms": 500.0})
    got = read_slo_counts(engine, [("m", slower)], end)
    assert evaluate_slo(slower, got[("m", "fast")]).budget.bad == 0  # every request is under 500 ms


def prediction(pid: str, minute: int, prediction: str = "1", value: float | None = None, weight: float = 1.0) -> PredictionRow:
    return PredictionRow(time=T0 + minute * MINUTE + timedelta(seconds=10), model="m", version="v1", prediction_id=pid,
                         features={"x": 1.0}, prediction=prediction, prediction_value=value, weight=weight)


def test_quality_counts_by_prediction_minute_with_the_latest_label(engine: Engine) -> None:
    write_predictions(engine, [prediction("a", 0), prediction("b", 0), prediction("c", 1, weight=2.0), prediction("d", 1)])
    write_labels(engine, [
        LabelRow(time=T0 + 5 * MINUTE, model="m", prediction_id="a", label="1"),
        LabelRow(time=T0 + 5 * MINUTE, model="m", prediction_id="b", label="1"),
        LabelRow(time=T0 + 9 * MINUTE, model="m", prediction_id="b", label="0"),  # corrected: now wrong
        LabelRow(time=T0 + 6 * MINUTE, model="m", prediction_id="c", label="0"),
    ])
    spec = SloSpec(name="accuracy", kind="quality", objective=0.9, min_events=1)
    counts = read_slo_counts(engine, [("m", spec)], epoch_minute(T0) + 4)[("m", "accuracy")]
    # Labelled and weighted: a, b, c (weight 2); wrong: b (corrected label), c; d has no label.
    assert (counts.total.sum(), counts.bad.sum()) == (4.0, 3.0)
    assert counts.expected is not None and counts.expected.sum() == 5.0
    evaluation = evaluate_slo(spec, counts)
    assert evaluation.rules[0].short.coverage == 0.8  # 5m window: 4 of 5 weighted predictions labelled
    # A minute later the predictions of minute 0 leave the 5m window: windows go by prediction time.
    later = read_slo_counts(engine, [("m", spec)], epoch_minute(T0) + 6)[("m", "accuracy")]
    assert evaluate_slo(spec, later).rules[0].short.total == 2.0


def test_quality_with_a_tolerance_and_label_freshness(engine: Engine) -> None:
    write_predictions(engine, [prediction("a", 0, "10", 10.0), prediction("b", 0, "10", 10.0)])
    write_labels(engine, [LabelRow(time=T0 + MINUTE, model="m", prediction_id="a", label="11", label_value=11.0),
                          LabelRow(time=T0 + MINUTE, model="m", prediction_id="b", label="14", label_value=14.0)])
    end = epoch_minute(T0) + 10
    quality = SloSpec(name="mae", kind="quality", objective=0.9, tolerance=2.0)
    got = read_slo_counts(engine, [("m", quality)], end)[("m", "mae")]
    assert (got.total.sum(), got.bad.sum()) == (2.0, 1.0)
    # Labels arrive when written (received_at = now): far later than the predictions' times.
    with engine.begin() as conn:
        conn.execute(schema.labels.update().where(schema.labels.c.prediction_id == "a").values(received_at=T0 + 2 * MINUTE))
        conn.execute(schema.labels.update().where(schema.labels.c.prediction_id == "b").values(received_at=T0 + 3 * MINUTE))
    fresh = SloSpec(name="fresh", kind="label_freshness", objective=0.9, max_lag="150s")
    counts = read_slo_counts(engine, [("m", fresh)], end)[("m", "fresh")]
    assert (counts.total.sum(), counts.bad.sum()) == (2, 1)  # a: 1m50s late, b: 2m50s
    # Counted when the label arrived: at minute 8, only b (arrived at minute 3) is in the 5m window.
    short = evaluate_slo(fresh, read_slo_counts(engine, [("m", fresh)], epoch_minute(T0) + 8)[("m", "fresh")]).rules[0].short
    assert (short.total, short.bad) == (1.0, 1.0)


@pytest.mark.parametrize("statuses, bad", [(["no_drift", "drift"], 1), (["no_drift", "no_drift"], 0)])
def test_drift_free_counts_each_analysis_window_once(engine: Engine, statuses: list[str], bad: int) -> None:
    rows = [{"model": "m", "version": "*", "window_start": T0, "window_end": T0 + 60 * MINUTE, "slice_key": "",
             "slice_value": "", "kind": "drift", "metric": "psi", "feature": feature, "value": 0.3, "threshold": 0.2,
             "status": status, "n": 100, "details": None, "computed_at": T0} for feature, status in zip(("x", "y"), statuses)]
    with engine.begin() as conn:
        insert_or_ignore(conn, schema.analysis_results, rows)
    spec = SloSpec(name="stable", kind="drift_free", objective=0.9)
    counts = read_slo_counts(engine, [("m", spec)], epoch_minute(T0) + 120)[("m", "stable")]
    assert (counts.total.sum(), counts.bad.sum()) == (1, bad)
