"""Two schedulers on one PostgreSQL database never enqueue a page twice: the advisory lock makes
one of them skip, and the outbox key stops the second even when the lock is out of the way."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from alerts import cycle as cycle_module
from alerts.cycle import CycleReport, run_alert_cycle
from store.engine import create_engine
from tests.alerts_io.conftest import T0, make_monitors, model_entry
from tests.alerts_io.streams import write_counters

MODELS = ("fraud", "churn")


@pytest.fixture
def two_engines(pg_engine: Engine) -> Iterator[tuple[Engine, Engine]]:
    """Two schedulers' own engines (own pools, own connections) on one database."""
    url = pg_engine.url.render_as_string(hide_password=False)
    first, second = create_engine(url), create_engine(url)
    for i, model in enumerate(MODELS):
        requests = np.full(400, 100.0)
        errors = np.zeros_like(requests)
        errors[300 + i:320 + i] = 100.0
        write_counters(pg_engine, model, T0, requests, errors)
    yield first, second
    first.dispose()
    second.dispose()


def race(engines: tuple[Engine, Engine], minutes: range, run: Callable[[Engine, object], CycleReport]) -> list[CycleReport]:
    """Both schedulers run each minute's cycle at once, a second apart (so no run sees a `now`
    the other already used)."""
    reports: list[CycleReport] = []
    errors: list[BaseException] = []
    for minute in minutes:
        barrier = threading.Barrier(2)
        base = T0 + timedelta(minutes=minute + 1, seconds=5)

        def one(engine: Engine, offset: int) -> None:
            try:
                barrier.wait(timeout=10)
                reports.append(run(engine, base + timedelta(seconds=offset)))
            except BaseException as exc:  # surfaced below: a thread's failure must fail the test
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(engine, i)) for i, engine in enumerate(engines)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
    return reports


def enqueued(engine: Engine) -> Counter[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT receiver, group_key, kind FROM notifications"))
        return Counter((r.receiver, r.group_key, r.kind) for r in rows)


def test_two_schedulers_never_double_page(two_engines: tuple[Engine, Engine], pg_engine: Engine) -> None:
    monitors = make_monitors("http://127.0.0.1:9", "http://127.0.0.1:9", [model_entry(m) for m in MODELS])
    reports = race(two_engines, range(298, 360), lambda engine, now: run_alert_cycle(engine, monitors, now))
    counts = enqueued(pg_engine)
    pages = {k: v for k, v in counts.items() if k[0] == "pagerduty"}
    assert sorted(pages.values()) == [1, 1, 1, 1]  # a trigger and a resolve per model, each once
    assert {kind for (_, _, kind) in pages} == {"firing", "resolved"}
    assert any(r.skipped for r in reports), "the advisory lock made one scheduler stand aside"
    assert max(counts.values()) == 1


def test_the_outbox_key_stops_a_second_scheduler_without_the_lock(two_engines: tuple[Engine, Engine], pg_engine: Engine,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    @contextmanager
    def no_lock(engine: Engine) -> Iterator[Connection]:
        with engine.begin() as conn:
            yield conn

    # As if the lock failed us (or a scheduler ran an old version without it).
    monkeypatch.setattr(cycle_module, "locked_transaction", no_lock)
    monitors = make_monitors("http://127.0.0.1:9", "http://127.0.0.1:9", [model_entry(m) for m in MODELS])
    reports = race(two_engines, range(298, 360), lambda engine, now: run_alert_cycle(engine, monitors, now))
    counts = enqueued(pg_engine)
    assert max(counts.values()) == 1
    assert sum(1 for (receiver, _, _) in counts if receiver == "pagerduty") == 4
    assert not any(r.skipped for r in reports)


def test_a_scheduler_acting_on_stale_group_state_rolls_back_on_the_outbox_key(pg_engine: Engine, two_engines: tuple[Engine, Engine]) -> None:
    monitors = make_monitors("http://127.0.0.1:9", "http://127.0.0.1:9", [model_entry("fraud")])
    for minute in range(298, 303):
        run_alert_cycle(pg_engine, monitors, T0 + timedelta(minutes=minute + 1, seconds=5))
    before = enqueued(pg_engine)
    assert sum(before.values()) == 1
    # What a second scheduler would hold had it read the groups before the first committed.
    with pg_engine.begin() as conn:
        conn.execute(sa.text("UPDATE alert_groups SET sequence = sequence - 1, last_flush_at = NULL, log_firing = NULL,"
                             " log_resolved = NULL, log_sent_at = NULL"))
    report = run_alert_cycle(pg_engine, monitors, T0 + timedelta(minutes=304))
    assert report.conflict and report.enqueued == 0
    assert enqueued(pg_engine) == before
    with pg_engine.connect() as conn:  # rolled back as a whole: the group state is as the test left it
        assert conn.execute(sa.text("SELECT log_sent_at FROM alert_groups")).scalar() is None
