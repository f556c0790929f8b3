"""Real faults on the PostgreSQL path: the server stopped, a backend killed in the middle of COPY."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema
from store.engine import create_engine
from store.records import PredictionRow, WriteResult
from store.writes import write_predictions

pytestmark = pytest.mark.postgres

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)


def predictions(ids: range) -> list[PredictionRow]:
    return [PredictionRow(time=T0 + timedelta(milliseconds=i), model="m", version="v1", prediction_id=f"p{i}",
                          features={f"x{k}": float(i + k) for k in range(20)}) for i in ids]


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(schema.predictions)).scalar_one()


def kill_copy_when_it_starts(admin: Engine, database: str, deadline: float) -> None:
    """Terminate the backend of the first COPY seen in ``database``."""
    with admin.connect() as conn:
        while time.monotonic() < deadline:
            killed = conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :db AND query LIKE 'COPY%' AND state = 'active'"), {"db": database}).all()
            if killed:
                return
            time.sleep(0.005)


def test_backend_killed_mid_copy_is_an_operational_error_and_nothing_is_half_written(
        pg_engine: Engine, postgres_url: str) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    killer = threading.Thread(target=kill_copy_when_it_starts,
                              args=(admin, pg_engine.url.database, time.monotonic() + 20))
    killer.start()
    try:
        with pytest.raises(sa.exc.OperationalError) as raised:
            # Big enough that the COPY is still streaming when the killer sees it.
            for _ in range(20):
                write_predictions(pg_engine, predictions(range(0, 40_000)))
                with pg_engine.begin() as conn:
                    conn.execute(schema.predictions.delete())
    finally:
        killer.join()
        admin.dispose()
    assert raised.value.connection_invalidated
    assert count(pg_engine) in (0, 40_000)  # all of a batch or none of it
    # The dead connection was dropped from the pool: the retry just works.
    with pg_engine.begin() as conn:
        conn.execute(schema.predictions.delete())
    assert write_predictions(pg_engine, predictions(range(100))) == WriteResult(100, 0)


def test_server_stopped_then_started_again(pg_engine: Engine, postgres_server) -> None:  # type: ignore[no-untyped-def]
    assert write_predictions(pg_engine, predictions(range(10))) == WriteResult(10, 0)
    postgres_server.stop()
    try:
        with pytest.raises(sa.exc.OperationalError):
            write_predictions(pg_engine, predictions(range(10, 20)))
    finally:
        postgres_server.start()
    # Same URL, same data; the retried batch is stored exactly once.
    assert write_predictions(pg_engine, predictions(range(5, 20))) == WriteResult(10, 5)
    assert count(pg_engine) == 20
