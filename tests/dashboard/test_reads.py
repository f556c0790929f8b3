"""store/dashboard_reads*: the dashboard's SQL on SQLite and PostgreSQL, against hand counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import dashboard_reads as traffic
from store import dashboard_reads_alerts as alerting
from store import dashboard_reads_analysis as analysis
from store import dashboard_reads_samples as samples
from store import schema
from store import schema_alerts as t
from store.analysis_results import replace_window_results
from store.records import CounterRow, PredictionRow
from store.writes import note_versions, write_counters, write_predictions

T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)


def counter(minute: int, version: str, requests: int, errors: int, buckets: dict[str, int], batch: str = "b") -> CounterRow:
    return CounterRow(minute=T0 + minute * MIN, model="m", version=version, batch_id=f"{batch}{minute}", requests=requests,
                      errors=errors, latency_count=sum(buckets.values()), latency_sum_ms=1.0, latency_buckets=buckets)


def test_traffic_series_sums_counters_and_buckets_in_sql(engine: Engine):
    rows = [counter(m, "v1" if m < 30 else "v2", 10, m % 3, {"5": 4, "10": 3, "+Inf": 3 - m % 3}) for m in range(60)]
    # another client with its own bounds (75 ms): its bucket is read too
    rows.append(counter(50, "v2", 5, 0, {"5": 0, "75": 5, "+Inf": 0}, batch="other"))
    write_counters(engine, rows)
    s = traffic.traffic_series(engine, "m", T0, T0 + 60 * MIN, 15, bounds_ms=(5, 10))
    assert s.bounds_ms == (5.0, 10.0, 75.0) and list(s.starts) == [int(T0.timestamp() // 60) + 15 * k for k in range(4)]
    assert list(s.requests) == [150, 150, 150, 155] and s.total_errors == sum(m % 3 for m in range(60))
    assert list(s.total_buckets) == [240, 180, 5, sum(3 - m % 3 for m in range(60))]
    v2 = traffic.traffic_series(engine, "m", T0, T0 + 60 * MIN, 60, version="v2", bounds_ms=(5, 10))
    assert v2.total_requests == 305 and v2.buckets.shape == (1, 4)
    empty = traffic.traffic_series(engine, "m", T0 - 60 * MIN, T0, 15)
    assert empty.total_requests == 0 and empty.buckets.shape == (0, len(empty.bounds_ms) + 1)
    assert traffic.fleet_traffic(engine, ["m", "other"], T0, T0 + 60 * MIN) == {"m": (605, s.total_errors)}


def test_versions_deploys_and_the_current_version(engine: Engine):
    with engine.begin() as conn:
        conn.execute(schema.models.insert().values(name="m", task="binary", spec={}, created_at=T0, updated_at=T0))
    note_versions(engine, "m", ["v1"], T0)
    note_versions(engine, "m", ["v2"], T0 + 40 * MIN)
    write_counters(engine, [counter(10, "v1", 1, 0, {}), counter(45, "v2", 1, 0, {})])
    assert traffic.model_versions(engine, "m") == ["v1", "v2"]
    assert [d.version for d in traffic.deploys(engine, "m", T0, T0 + 60 * MIN)] == ["v2", "v1"]
    assert traffic.deploy_counts(engine, ["m"], T0 + MIN, T0 + 60 * MIN) == {"m": 1}
    assert traffic.current_version(engine, "m", T0 + 60 * MIN) == "v2"
    assert traffic.current_version(engine, "m", T0 + 20 * MIN) == "v1"
    assert traffic.current_version(engine, "m", T0 + 3 * 24 * 60 * MIN) == "v2"  # no traffic: the latest deploy


def _predictions(n: int, errors_every: int = 0) -> list[PredictionRow]:
    return [PredictionRow(time=T0 + i * MIN / 2, model="m", version="v1", prediction_id=f"p{i}",
                          features={"x": i if i % 10 else "n/a", "c": "DE" if i % 2 else None},
                          error="boom" if errors_every and i % errors_every == 0 else None, weight=2.0)
            for i in range(n)]


def test_recent_failures_by_the_counters_error_minutes_or_a_bounded_scan(engine: Engine):
    write_predictions(engine, _predictions(120, errors_every=25))  # errors at i = 0, 25, 50, 75, 100
    # without counters: the latest rows are scanned
    found = samples.recent_failures(engine, "m", T0, T0 + 60 * MIN, limit=3)
    assert [f.prediction_id for f in found] == ["p100", "p75", "p50"] and found[0].features["c"] is None
    # with counters, only the minutes they say had errors are looked at
    write_counters(engine, [counter(m, "v1", 2, 1 if m in (25, 50) else 0, {}) for m in range(60)])
    found = samples.recent_failures(engine, "m", T0, T0 + 60 * MIN)
    assert [f.prediction_id for f in found] == ["p100", "p50"]  # minutes 50 and 25
    assert samples.recent_failures(engine, "m", T0, T0 + 20 * MIN) == []


def test_feature_values_are_extracted_by_the_database(engine: Engine):
    write_predictions(engine, _predictions(40))
    values, weights = samples.feature_values(engine, "m", "x", True, T0, T0 + 60 * MIN, limit=30)
    assert len(values) == 30 and set(weights) == {2.0}
    assert np.isnan(values).sum() == 3 and np.nanmax(values) == 39.0  # "n/a" is not a number
    cats, _ = samples.feature_values(engine, "m", "c", False, T0, T0 + 60 * MIN)
    assert sorted(c for c in cats if c) == ["DE"] * 20 and sum(c is None for c in cats) == 20


def _result(kind: str, metric: str, value: float | None, status: str = "ok", feature: str = "", slice_key: str = "",
            slice_value: str = "", n: int = 100, **details) -> dict:
    return {"slice_key": slice_key, "slice_value": slice_value, "kind": kind, "metric": metric, "feature": feature,
            "value": value, "threshold": 0.1 if kind == "drift" else None, "status": status, "n": n, "details": details}


def test_analysis_reads_pick_the_latest_window_and_say_realized_or_estimated(engine: Engine):
    hour = timedelta(hours=1)
    with engine.begin() as conn:
        for h in range(3):
            start = T0 + h * hour
            drifted = h == 2
            rows = [_result("drift", "drift", 0.3 if drifted else 0.05, "drift" if drifted else "no_drift", "x",
                            method="psi", p_adjusted=0.001),
                    _result("drift", "psi", 0.3, "exceeds" if drifted else "within", "x", p_value=0.01),
                    _result("quality", "missing_rate", 0.4, "violation" if h else "ok", "amount"),
                    _result("performance", "label_coverage", 0.9 if h < 2 else 0.1),
                    _result("performance", "expected_accuracy", 0.8, lower=0.7, upper=0.9, estimated=True),
                    _result("performance", "accuracy", 0.75 if h < 2 else None, lower=0.6, upper=0.85)]
            if h == 1:
                rows += [_result("performance", "accuracy", 0.5, slice_key="country", slice_value="FR", n=20,
                                 lower=0.3, upper=0.7),
                         _result("performance", "worst_slice", 0.3, "worst", slice_key="country", slice_value="FR",
                                 loss="error_rate", slice_loss=0.5, rest_loss=0.2)]
            replace_window_results(conn, "m", start, start + hour, ["drift", "quality", "performance"], rows, start)
    table = analysis.drift_table(engine, "m", T0, T0 + 3 * hour)
    assert table.windows == 3 and table.window_start == T0 + 2 * hour
    (x,) = table.features
    assert (x.feature, x.status, x.method, x.windows_drifted, x.history) == ("x", "drift", "psi", 1, (0.05, 0.05, 0.3))
    assert [s.metric for s in x.statistics] == ["psi"] and x.statistics[0].p_value == 0.01
    (finding,) = analysis.quality_findings(engine, "m", T0, T0 + 3 * hour)
    assert (finding.check, finding.feature, finding.windows, finding.last_window_end) == \
        ("missing_rate", "amount", 2, T0 + 3 * hour)
    perf = analysis.slice_performance(engine, "m", T0, T0 + 3 * hour)
    assert perf is not None and perf.coverage is not None
    assert perf.window_start == T0 + hour  # the latest window whose accuracy has a value
    assert perf.slices[0][:2] == ("country", "FR") and perf.slices[0][2].lower == 0.3
    assert perf.worst[0].slice_loss == 0.5 and perf.coverage.value == 0.9
    assert analysis.slice_performance(engine, "m", T0 + 2 * hour, T0 + 3 * hour) is None
    latest = analysis.accuracy_proxies(engine, ["m"], T0, T0 + 3 * hour)["m"]
    assert (latest.kind, latest.value, latest.coverage) == ("estimated", 0.8, 0.1)  # 10 % labelled: estimate
    earlier = analysis.accuracy_proxies(engine, ["m"], T0, T0 + 2 * hour)["m"]
    assert (earlier.kind, earlier.value, earlier.lower) == ("realized", 0.75, 0.6)


def test_slo_and_alert_reads(engine: Engine):
    from store.alert_reads import write_slo_status

    status = {"model": "m", "slo": "availability", "kind": "availability", "objective": 0.999, "state": "firing",
              "sli": 0.99, "events_total": 1000.0, "events_bad": 10.0, "budget_remaining": -9.0, "current_burn": 10.0,
              "time_to_exhaustion_s": 0.0, "label_coverage": None, "burn_rates": {"1h": 10.0},
              "rules": [{"name": "page-14.4x-1h-5m", "threshold": 14.4}], "firing_severities": "page",
              "window_end": T0, "evaluated_at": T0}
    history = [{"model": "m", "slo": "availability", "hour": T0 - h * timedelta(hours=1), "state": "ok", "sli": 1.0,
                "budget_remaining": 1.0 - h / 10, "current_burn": 0.0, "events_total": 1.0, "events_bad": 0.0,
                "evaluated_at": T0} for h in range(3)]
    alert = {"fingerprint": "f1", "alertname": "SLOBurnRate", "model": "m", "source": "slo",
             "labels": {"severity": "page", "slo": "availability"}, "annotations": {"summary": "burning"},
             "state": "firing", "active_since": T0, "fired_at": T0, "resolved_at": None, "last_evaluated_at": T0,
             "silenced_by": None, "inhibited": False}
    with engine.begin() as conn:
        write_slo_status(conn, [status], history)
        conn.execute(t.alerts.insert(), [alert, {**alert, "fingerprint": "f2", "state": "inactive"}])
        note = conn.execute(t.notifications.insert().values(
            notification_id="n1", receiver="pd", group_key="g", dedup_key="d", sequence=1, kind="firing",
            payload={"content": {"title": "m: burning"}, "alerts": [{"labels": {"model": "m", "alertname": "SLOBurnRate"}}]},
            status="sent", attempts=1, next_attempt_at=T0, created_at=T0, sent_at=T0).returning(t.notifications.c.id)).scalar_one()
        conn.execute(t.delivery_attempts.insert().values(notification=note, attempt=1, at=T0, ok=True, status=202,
                                                         error=None, duration_ms=12.5, worker="w"))
    (s,) = alerting.slo_statuses(engine, ["m"])
    assert (s.state, s.budget_remaining, s.firing_severities, s.rules[0]["threshold"]) == ("firing", -9.0, ("page",), 14.4)
    points = alerting.slo_history(engine, "m", T0 - timedelta(hours=5), T0 + MIN)["availability"]
    assert [p.budget_remaining for p in points] == [0.8, 0.9, 1.0]
    assert [a.fingerprint for a in alerting.alert_rows(engine, "m")] == ["f1"]
    assert alerting.open_alert_counts(engine, ["m"]) == {"m": {"page": 1}}
    (d,) = alerting.delivery_log(engine, T0, T0 + MIN, "m")
    assert (d.receiver, d.status, d.title, d.models, d.alertnames) == ("pd", "sent", "m: burning", ("m",), ("SLOBurnRate",))
    assert alerting.delivery_log(engine, T0, T0 + MIN, "other") == []
    (a,) = alerting.delivery_attempts(engine, [d.id])
    assert (a.ok, a.status, a.duration_ms) == (True, 202, 12.5)


def test_reads_of_an_unknown_model_are_empty(engine: Engine):
    model = "m"
    assert analysis.drift_table(engine, model, T0, T0 + MIN).features == ()
    assert analysis.accuracy_proxies(engine, [model], T0, T0 + MIN) == {}
    assert traffic.current_version(engine, model, T0) is None
    assert alerting.slo_history(engine, model, T0, T0 + MIN) == {}
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.predictions)).scalar_one() == 0
