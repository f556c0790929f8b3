"""A window analysed end to end on a real database (SQLite and PostgreSQL): results stored,
reruns idempotent, late and corrected labels update performance, the profile fitted once."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analysis.jobs.cycle import run_cycle
from analysis.jobs.late_labels import refresh_late_labels
from analysis.jobs.run import RunContext, run_window
from analysis.jobs.schedule import Window, model_analysis
from store import claims, schema
from store.analysis_reads import read_window
from store.analysis_results import read_results
from store.schema_scheduler import analysis_windows
from tests.analysis_jobs.seed import HOUR, add_labels, monitors, recent_t0, seed

NO_MARGIN = timedelta(0)  # labels are written before the runs here, never while they read


def context(engine: Engine, owner: str = "test") -> RunContext:
    return RunContext(engine, owner, label_margin=NO_MARGIN)


def run(ctx: RunContext, model, window: Window, **kwargs):
    assert claims.claim_window(ctx.engine, model.name, window.start, window.end, ctx.owner, ctx.clock(), ctx.lease,
                               force=True)
    outcome = run_window(ctx, model, model_analysis(model), window, **kwargs)
    assert outcome.status == "done", outcome.error
    return outcome


def result_keys(engine: Engine) -> list[tuple]:
    r = schema.analysis_results
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(r.c.window_start, r.c.slice_key, r.c.slice_value, r.c.kind, r.c.metric,
                                             r.c.feature, r.c.value, r.c.status)).all(), key=repr)


def metric(engine: Engine, model: str, kind: str, window: Window, name: str, feature: str | None = None,
           slice_key: str | None = "", slice_value: str | None = ""):
    rows = read_results(engine, model, kind, window.start, window.end, metric=name, feature=feature,
                        slice_key=slice_key, slice_value=slice_value)
    return {(r.slice_key, r.slice_value, r.feature): r for r in rows}


@pytest.fixture
def fraud():
    return monitors().models[0]


def test_window_read_joins_the_latest_label_and_keeps_nan(engine: Engine, fraud):
    t0 = recent_t0()
    samples = seed(engine, fraud, t0, hours=1, per_hour=300)
    add_labels(engine, fraud, t0, 0, samples[0], flip=True, after=3 * HOUR)  # corrections: later label time
    data = read_window(engine, fraud, t0, t0 + HOUR)
    assert data.n == 300 and set(data.features) == {"x", "amount", "country"}  # text features are not read
    assert data.features["amount"].dtype.kind == "f" and (data.features["amount"] != data.features["amount"]).any()
    order = {pid: i for i, pid in enumerate(data.prediction_id)}
    i = order[f"{fraud.name}-0-7"]
    assert data.label[i] == str(1 - samples[0].label[7])  # the correction won
    assert set(data.slices) == {"channel", "country"} and data.slices["country"][i] == samples[0].country[7]
    assert data.slices["channel"][i] == samples[0].channel[7]


def test_window_results_are_stored_and_a_rerun_replaces_them(engine: Engine, fraud):
    t0 = recent_t0()
    seed(engine, fraud, t0, hours=4, drift_from=2)
    ctx = context(engine)
    windows = [Window(t0 + h * HOUR, t0 + (h + 1) * HOUR) for h in range(4)]
    outcomes = [run(ctx, fraud, w) for w in windows]
    assert [o.drift for o in outcomes] == [False, False, True, True]

    x = metric(engine, fraud.name, "drift", windows[3], "drift", "x")[("", "", "x")]
    assert x.status == "drift" and x.details["method"] == "wasserstein_norm" and x.value > 0.5
    assert metric(engine, fraud.name, "drift", windows[0], "drift", "x")[("", "", "x")].status == "no_drift"
    assert metric(engine, fraud.name, "drift", windows[3], "psi", "x")[("", "", "x")].value > 0.2
    per_slice = metric(engine, fraud.name, "drift", windows[3], "drift", "x", slice_key="country", slice_value=None)
    assert {k[1] for k in per_slice} == {"DE", "FR", "US"}
    worst = metric(engine, fraud.name, "performance", windows[1], "worst_slice", slice_key=None, slice_value=None)
    assert [k[:2] for k in worst] == [("country", "FR")]
    acc = metric(engine, fraud.name, "performance", windows[0], "accuracy")[("", "", "")]
    assert 0.6 < acc.value < 0.85 and acc.details["lower"] < acc.value < acc.details["upper"]
    fr = metric(engine, fraud.name, "performance", windows[0], "accuracy", slice_key="country", slice_value="FR")
    assert fr[("country", "FR", "")].value < acc.value - 0.1
    coverage = metric(engine, fraud.name, "performance", windows[0], "label_coverage")[("", "", "")]
    assert coverage.value == 1.0
    missing = metric(engine, fraud.name, "quality", windows[0], "missing_rate", "amount")[("", "", "amount")]
    assert missing.status == "ok"  # 5% NaN in the reference and in the window alike

    before = result_keys(engine)
    run(ctx, fraud, windows[3])
    assert result_keys(engine) == before  # same rows, no duplicates
    r = schema.analysis_results
    with engine.connect() as conn:
        groups = conn.execute(sa.select(sa.func.count()).select_from(r).group_by(
            r.c.window_start, r.c.slice_key, r.c.slice_value, r.c.kind, r.c.metric, r.c.feature)
            .having(sa.func.count() > 1)).all()
        assert groups == []
        profile = conn.execute(sa.select(schema.references.c.profile)).scalar_one()
    assert profile["fit"]["kinds"] == {"x": "numeric", "amount": "numeric", "country": "categorical"}


def test_late_and_corrected_labels_rerun_performance(engine: Engine, fraud):
    t0 = recent_t0()
    samples = seed(engine, fraud, t0, hours=3, label_hours=1)
    ctx = context(engine)
    report = run_cycle(ctx, monitors(fraud.model_dump(mode="json")), t0 + 3 * HOUR + timedelta(minutes=6), alerts=False)
    assert all(o.status == "done" for o in report.outcomes)
    assert sorted(o.window.start for o in report.outcomes if o.n_rows) == [t0 + h * HOUR for h in range(3)]
    w1 = Window(t0 + HOUR, t0 + 2 * HOUR)
    assert metric(engine, fraud.name, "performance", w1, "label_coverage")[("", "", "")].value == 0.0
    assert "accuracy" not in {k for k in metric(engine, fraud.name, "performance", w1, "accuracy")}
    estimate = metric(engine, fraud.name, "performance", w1, "expected_accuracy")[("", "", "")]
    assert estimate.details["estimated"] is True and 0.6 < estimate.value < 0.9

    analysis = model_analysis(fraud)
    refresh_late_labels(ctx, fraud, analysis, ctx.clock())  # catches the scan up to now
    add_labels(engine, fraud, t0, 1, samples[1])  # window 1's labels arrive late
    outcomes = refresh_late_labels(ctx, fraud, analysis, ctx.clock())
    assert [(o.window, o.kinds, o.status) for o in outcomes] == [(w1, ("performance",), "done")]
    assert metric(engine, fraud.name, "performance", w1, "label_coverage")[("", "", "")].value == 1.0
    accuracy = metric(engine, fraud.name, "performance", w1, "accuracy")[("", "", "")].value
    realized = metric(engine, fraud.name, "performance", w1, "expected_accuracy")[("", "", "")]
    assert realized.details["estimated"] is False and realized.value == pytest.approx(accuracy)
    assert metric(engine, fraud.name, "drift", w1, "drift", "x")  # drift rows were left alone
    assert refresh_late_labels(ctx, fraud, analysis, ctx.clock()) == []  # nothing new: no rerun

    add_labels(engine, fraud, t0, 1, samples[1], flip=True, after=5 * HOUR)  # every label corrected
    (outcome,) = refresh_late_labels(ctx, fraud, analysis, ctx.clock())
    assert outcome.window == w1
    flipped = metric(engine, fraud.name, "performance", w1, "accuracy")[("", "", "")].value
    assert flipped == pytest.approx(1 - accuracy)
    with engine.connect() as conn:
        attempts = conn.execute(sa.select(analysis_windows.c.attempts).where(
            analysis_windows.c.window_start == w1.start)).scalar_one()
    assert attempts == 3  # first run + two label reruns


def test_a_window_taken_over_after_its_lease_rolls_back(engine: Engine, fraud):
    t0 = recent_t0()
    seed(engine, fraud, t0, hours=1, per_hour=200)
    w = Window(t0, t0 + HOUR)
    slow, fast = context(engine, "slow"), context(engine, "fast")
    assert claims.claim_window(engine, fraud.name, w.start, w.end, "slow", slow.clock(), timedelta(0))
    assert not claims.claim_window(engine, fraud.name, w.start, w.end, "other", slow.clock() - timedelta(seconds=1),
                                   timedelta(minutes=5))  # not expired yet at that time
    assert claims.claim_window(engine, fraud.name, w.start, w.end, "fast", fast.clock(), fast.lease)
    assert run_window(slow, fraud, model_analysis(fraud), w).status == "lost"
    assert read_results(engine, fraud.name, "drift", w.start, w.end) == []
    assert run_window(fast, fraud, model_analysis(fraud), w).status == "done"


def test_no_reference_and_empty_windows_say_so(engine: Engine, fraud):
    t0 = recent_t0()
    seed(engine, fraud, t0, hours=1, per_hour=200, with_reference=False)
    ctx = context(engine)
    run(ctx, fraud, Window(t0, t0 + HOUR))
    (row,) = read_results(engine, fraud.name, "drift", t0, t0 + HOUR)
    assert row.status == "no_reference"
    assert metric(engine, fraud.name, "quality", Window(t0, t0 + HOUR), "range", "x")[("", "", "x")].status == "ok"
    empty = Window(t0 + HOUR, t0 + 2 * HOUR)
    assert run(ctx, fraud, empty).n_rows == 0
    assert [r.status for r in read_results(engine, fraud.name, "drift", empty.start, empty.end)] == ["no_reference"]


def test_results_range_excludes_other_windows(sqlite_engine: Engine, fraud):
    t0 = recent_t0()
    seed(sqlite_engine, fraud, t0, hours=2, per_hour=200)
    ctx = context(sqlite_engine)
    for h in range(2):
        run(ctx, fraud, Window(t0 + h * HOUR, t0 + (h + 1) * HOUR))
    rows = read_results(sqlite_engine, fraud.name, "drift", t0 + HOUR, t0 + 2 * HOUR, metric="drift", feature="")
    assert [r.window_start for r in rows] == [t0 + HOUR]
    assert isinstance(rows[0].computed_at, datetime)


def test_multiclass_and_regression_windows(engine: Engine):
    from store.catalog import sync_models
    from store.records import LabelRow, PredictionRow
    from store.writes import write_labels, write_predictions

    classes = ["a", "b", "c"]
    config = monitors(
        {"name": "multi", "task": "multiclass", "classes": classes, "features": [{"name": "x", "type": "numeric"}],
         "slices": ["region"]},
        {"name": "price", "task": "regression", "features": [{"name": "x", "type": "numeric"}]})
    multi, price = config.models
    sync_models(engine, config)
    rng = np.random.default_rng(11)
    t0 = recent_t0()
    n = 600
    x = rng.normal(0, 1, n)
    probs = rng.dirichlet([2, 2, 2], n)
    truth = [classes[int(np.argmax(p))] if rng.random() < 0.7 else classes[rng.integers(3)] for p in probs]
    write_predictions(engine, [PredictionRow(
        time=t0 + timedelta(seconds=i), model="multi", version="v1", prediction_id=f"m{i}", features={"x": float(x[i])},
        prediction=classes[int(np.argmax(probs[i]))], probabilities=dict(zip(classes, probs[i].tolist())),
        slices={"region": "eu" if i % 3 else "us"}) for i in range(n)])
    write_labels(engine, [LabelRow(time=t0 + HOUR, model="multi", prediction_id=f"m{i}", label=truth[i])
                          for i in range(n) if i % 2])
    y = 3 * x + rng.normal(0, 1, n)
    write_predictions(engine, [PredictionRow(
        time=t0 + timedelta(seconds=i), model="price", version="v1", prediction_id=f"p{i}", features={"x": float(x[i])},
        prediction=repr(3 * float(x[i])), prediction_value=3 * float(x[i])) for i in range(n)])
    write_labels(engine, [LabelRow(time=t0 + HOUR, model="price", prediction_id=f"p{i}", label=repr(float(y[i])),
                                   label_value=float(y[i])) for i in range(n)])
    ctx = context(engine)
    w = Window(t0, t0 + HOUR)
    for model in (multi, price):
        run(ctx, model, w)
    accuracy = metric(engine, "multi", "performance", w, "accuracy")[("", "", "")]
    expected = np.mean([truth[i] == classes[int(np.argmax(probs[i]))] for i in range(n) if i % 2])
    assert accuracy.value == pytest.approx(expected) and accuracy.n == n // 2
    assert metric(engine, "multi", "performance", w, "label_coverage")[("", "", "")].value == pytest.approx(0.5)
    assert metric(engine, "multi", "performance", w, "roc_auc")[("", "", "")].status == "ok"
    estimate = metric(engine, "multi", "performance", w, "expected_accuracy")[("", "", "")]
    assert estimate.details["estimated"] is True
    assert set(metric(engine, "multi", "performance", w, "accuracy", slice_key="region", slice_value=None)) == \
        {("region", "eu", ""), ("region", "us", "")}
    mae = metric(engine, "price", "performance", w, "mae")[("", "", "")]
    assert mae.value == pytest.approx(np.mean(np.abs(y - 3 * x)))
    assert metric(engine, "price", "performance", w, "r2")[("", "", "")].value > 0.8
    (drift,) = read_results(engine, "price", "drift", w.start, w.end)
    assert drift.status == "no_reference"
