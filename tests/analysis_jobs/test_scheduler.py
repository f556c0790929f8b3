"""The scheduler: a failing model never stops the others, replicas never analyse a window
twice (two engines on one PostgreSQL database), APScheduler runs cycles in the background."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from analysis.jobs.cycle import Cadence, run_cycle
from analysis.jobs.run import RunContext
from analysis.jobs.scheduler import AnalysisScheduler
from store.engine import create_engine
from store.schema_scheduler import analysis_windows
from tests.analysis_jobs.seed import HOUR, model_spec, monitors, recent_t0, seed

NOW_AFTER_4H = 4 * HOUR + timedelta(minutes=6)  # with catchup 4h: windows t0 .. t0+3h are due


def claims_of(engine: Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return conn.execute(sa.select(analysis_windows.c.model, analysis_windows.c.window_start,
                                      analysis_windows.c.status, analysis_windows.c.attempts,
                                      analysis_windows.c.n_rows)).all()


def test_a_failing_model_does_not_stop_the_others(sqlite_engine: Engine):
    t0 = recent_t0()
    config = monitors(model_spec("a"), model_spec("broken", drift={"alpha": 5}), model_spec("c"))
    for model in (config.models[0], config.models[2]):
        seed(sqlite_engine, model, t0, per_hour=300)
    ctx = RunContext(sqlite_engine, "test")
    report = run_cycle(ctx, config, t0 + NOW_AFTER_4H)
    assert report.failed_models == ("broken",)
    done = {(o.model, o.window.start) for o in report.outcomes if o.status == "done"}
    assert done == {(m, t0 + h * HOUR) for m in ("a", "c") for h in range(4)}
    assert sum(o.drift for o in report.outcomes) == 4  # hours 2 and 3 of both models

    cadence = Cadence()
    again = run_cycle(ctx, config, t0 + NOW_AFTER_4H, cadence=cadence)
    assert again.outcomes == () and again.failed_models == ("broken",)  # done windows stay done
    later = run_cycle(ctx, config, t0 + NOW_AFTER_4H + timedelta(minutes=1), cadence=cadence)
    assert set(later.skipped_models) == {"a", "c"}  # not due again before `every` (5m)


def test_two_schedulers_never_run_the_same_window(pg_engine: Engine):
    t0 = recent_t0()
    config = monitors(*(model_spec(f"m{i}") for i in range(3)))
    for model in config.models:
        seed(pg_engine, model, t0, per_hour=300, seed_value=len(model.name))
    other = create_engine(pg_engine.url)
    try:
        contexts = [RunContext(pg_engine, "replica-1"), RunContext(other, "replica-2")]
        reports = []
        barrier = threading.Barrier(2)

        def replica(ctx: RunContext) -> None:
            barrier.wait()
            reports.append(run_cycle(ctx, config, t0 + NOW_AFTER_4H, alerts=False))

        threads = [threading.Thread(target=replica, args=(c,)) for c in contexts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        other.dispose()
    runs = [(o.model, o.window.start) for r in reports for o in r.outcomes]
    assert sorted(runs) == sorted({(m.name, t0 + h * HOUR) for m in config.models for h in range(4)})
    assert all(o.status == "done" for r in reports for o in r.outcomes)
    rows = claims_of(pg_engine)
    assert len(rows) == 12 and {(r.status, r.attempts) for r in rows} == {("done", 1)}


def test_apscheduler_runs_cycles_in_the_background(sqlite_engine: Engine):
    t0 = recent_t0(hours_ago=3)
    config = monitors(model_spec("bg", schedule={"window": "1h", "catchup": "3h", "every": "1s"}))
    seed(sqlite_engine, config.models[0], t0, hours=2, per_hour=200)
    scheduler = AnalysisScheduler(sqlite_engine, config, tick=timedelta(seconds=0.2))
    scheduler.start_background()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = {r.window_start for r in claims_of(sqlite_engine) if r.status == "done" and r.n_rows}
            if done == {t0, t0 + HOUR}:
                break
            time.sleep(0.1)
        assert done == {t0, t0 + HOUR}
    finally:
        scheduler.shutdown()
    assert scheduler.context.stop.is_set()


def test_up_runs_the_scheduler_beside_the_collector(tmp_path):
    # what `modelwatch up` starts before serving: the scheduler thread, stopped by the returned function
    from config.settings import Settings
    from modelwatch.cli_analysis import start_background_scheduler
    from store.bootstrap import create_schema

    url = f"sqlite:///{tmp_path / 'up.db'}"
    engine = create_engine(url)
    create_schema(engine)
    t0 = recent_t0(hours_ago=2)
    config = monitors(model_spec("up", schedule={"window": "1h", "catchup": "2h"}))
    seed(engine, config.models[0], t0, hours=1, per_hour=200)
    stop = start_background_scheduler(Settings(database_url=url), config)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(r.status == "done" and r.n_rows for r in claims_of(engine)):
            time.sleep(0.1)
        assert [(r.window_start, r.status) for r in claims_of(engine) if r.n_rows] == [(t0, "done")]
    finally:
        stop()
        engine.dispose()
