"""Replay stored predictions through a candidate: a backtest over a time range, or one pass of
the continuous tail. Each page is inferred and stored with its progress in one transaction, so
a crash loses at most the page in flight, and outputs are inserted with ON CONFLICT DO NOTHING,
so a rerun never stores one twice.

The tail re-reads ``lookback`` before its high-water mark on every pass (skipping rows already
replayed) to catch predictions that arrived late: an SDK retry keeps the prediction's time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from config.monitors import Model
from modelwatch.sampling import is_sampled
from shadow.infer import InferredBatch, infer
from shadow.reads import FeatureBatch, Key, read_page
from shadow.registry import LoadedCandidate
from store.schema_shadow import shadow_outputs, shadow_progress
from store.upsert import upsert

__all__ = ["DEFAULT_BATCH", "ReplayOutcome", "TAIL", "backtest", "backtest_run", "tail"]

DEFAULT_BATCH = 1024
TAIL = "tail"


def backtest_run(start: datetime, end: datetime) -> str:
    """The progress key of a backtest over [start, end)."""
    return f"backtest:{start.astimezone(timezone.utc).isoformat()}/{end.astimezone(timezone.utc).isoformat()}"


@dataclass(frozen=True)
class ReplayOutcome:
    candidate: str
    run: str
    rows_read: int  # predictions read this call (not yet replayed)
    rows_replayed: int  # outputs stored this call (sampled rows)
    errors: int  # of those, rows without an output
    batches: int
    finished: bool  # the range (or, for the tail, everything up to now - lag) is done
    provider: str
    seconds: float


@dataclass
class _State:
    cursor: Key | None
    rows_done: int
    batches_done: int


def _load_state(conn: Connection, candidate_id: int, run: str) -> tuple[_State, bool]:
    row = conn.execute(sa.select(shadow_progress).where(shadow_progress.c.candidate_id == candidate_id,
                                                        shadow_progress.c.run == run)).first()
    if row is None:
        return _State(None, 0, 0), False
    cursor = (row.cursor_time, row.cursor_id or "") if row.cursor_time is not None else None
    return _State(cursor, row.rows_done, row.batches_done), row.finished_at is not None


def _output_rows(candidate_id: int, batch: FeatureBatch, result: InferredBatch, now: datetime) -> list[dict[str, Any]]:
    def num(v: float) -> float | None:
        return None if np.isnan(v) else float(v)
    return [
        {"candidate_id": candidate_id, "prediction_id": pid, "time": t, "label": label, "score": num(score),
         "value": num(value), "error": error, "batch_latency_ms": float(latency), "batch_size": int(size),
         "provider": result.provider, "replayed_at": now}
        for pid, t, label, score, value, error, latency, size in zip(
            batch.prediction_id.tolist(), batch.time, result.label.tolist(), result.score.tolist(),
            result.value.tolist(), result.errors.tolist(), result.batch_latency_ms.tolist(), result.batch_size.tolist())
    ]


def _save(conn: Connection, candidate_id: int, run: str, state: _State, rng: tuple[datetime | None, datetime | None],
          provider: str, now: datetime, finished: bool) -> None:
    cursor_time, cursor_id = state.cursor if state.cursor else (None, None)
    upsert(conn, shadow_progress, [{
        "candidate_id": candidate_id, "run": run, "range_start": rng[0], "range_end": rng[1],
        "cursor_time": cursor_time, "cursor_id": cursor_id, "rows_done": state.rows_done,
        "batches_done": state.batches_done, "provider": provider, "updated_at": now,
        "finished_at": now if finished else None}], keys=("candidate_id", "run"))


def _insert_outputs(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING as one executemany: no RETURNING, which made the
    write half of an end-to-end replay's time (nothing here needs the inserted count)."""
    if rows:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        conn.execute(dialect.insert(shadow_outputs).on_conflict_do_nothing(), rows)


def _sampled(batch: FeatureBatch, rate: float) -> FeatureBatch:
    if rate >= 1.0:
        return batch
    keep = np.fromiter((is_sampled(pid, rate) for pid in batch.prediction_id.tolist()), bool, batch.n)
    return batch.take(np.flatnonzero(keep))


def _replay(engine: Engine, model: Model, loaded: LoadedCandidate, run: str, start: datetime, end: datetime,
            state: _State, batch_size: int, max_batches: int | None, stop: threading.Event | None,
            rows_per_second: float | None, on_batch: Callable[[int, int], None] | None,
            range_end: datetime | None) -> ReplayOutcome:
    cand, runnable = loaded.candidate, loaded.runnable
    began = time.monotonic()
    read = replayed = errors = batches = 0
    finished = False
    while not (stop is not None and stop.is_set()) and (max_batches is None or batches < max_batches):
        with engine.connect() as conn:
            page = read_page(conn, model, cand.id, start, end, state.cursor, batch_size)
        finished = page.n < batch_size
        if page.n == 0:
            break
        batch = _sampled(page, cand.sample_rate)
        result = infer(runnable, batch.features, batch.raw, batch.n)
        now = datetime.now(timezone.utc)
        state.cursor, state.rows_done, state.batches_done = page.last_key, state.rows_done + batch.n, state.batches_done + 1
        with engine.begin() as conn:
            _insert_outputs(conn, _output_rows(cand.id, batch, result, now))
            _save(conn, cand.id, run, state, (start, range_end), result.provider, now, finished)
        read, replayed, batches = read + page.n, replayed + batch.n, batches + 1
        errors += int(sum(e is not None for e in result.errors.tolist()))
        if on_batch is not None:
            on_batch(page.n, batch.n)
        if finished:
            break
        if rows_per_second:
            # Throttle so a backtest never starves a serving box's shared cores.
            delay = read / rows_per_second - (time.monotonic() - began)
            if delay > 0 and stop is not None and stop.wait(delay):
                break
            if delay > 0 and stop is None:
                time.sleep(delay)
    return ReplayOutcome(cand.name, run, read, replayed, errors, batches, finished, runnable.session.provider,
                         time.monotonic() - began)


def backtest(engine: Engine, model: Model, loaded: LoadedCandidate, start: datetime, end: datetime, *,
             batch_size: int = DEFAULT_BATCH, restart: bool = False, max_batches: int | None = None,
             stop: threading.Event | None = None, rows_per_second: float | None = None,
             on_batch: Callable[[int, int], None] | None = None) -> ReplayOutcome:
    """Replay predictions with ``start <= time < end``, resuming from the stored position of the
    same range (``restart``: from ``start``; rows already replayed are still skipped).
    ``max_batches`` / ``stop`` end the call early; the next call resumes. ``on_batch(read, replayed)``
    is called after each stored page (the progress bar)."""
    if start >= end:
        raise ValueError(f"backtest range is empty: {start.isoformat()} >= {end.isoformat()}")
    run = backtest_run(start, end)
    with engine.connect() as conn:
        state, done = _load_state(conn, loaded.candidate.id, run)
    if restart:
        state, done = _State(None, 0, 0), False
    if done:
        return ReplayOutcome(loaded.candidate.name, run, 0, 0, 0, 0, True, loaded.runnable.session.provider, 0.0)
    return _replay(engine, model, loaded, run, start, end, state, batch_size, max_batches, stop, rows_per_second,
                   on_batch, end)


def tail(engine: Engine, model: Model, loaded: LoadedCandidate, now: datetime, *, lag: timedelta = timedelta(seconds=5),
         lookback: timedelta = timedelta(hours=1), batch_size: int = DEFAULT_BATCH, max_batches: int | None = None,
         stop: threading.Event | None = None) -> ReplayOutcome:
    """One pass of the continuous replay: predictions from the candidate's registration on
    (or ``lookback`` before the last pass's high-water mark) up to ``now - lag``."""
    end = now - lag
    with engine.connect() as conn:
        state, _ = _load_state(conn, loaded.candidate.id, TAIL)
    start = min(state.cursor[0] - lookback if state.cursor else loaded.candidate.created_at, end)
    outcome = _replay(engine, model, loaded, TAIL, start, end, _State(None, state.rows_done, state.batches_done),
                      batch_size, max_batches, stop, None, None, None)
    if outcome.finished:
        # The pass reached ``end``: that is the new high-water mark (even with no new rows).
        with engine.begin() as conn:
            _save(conn, loaded.candidate.id, TAIL, _State((end, ""), state.rows_done + outcome.rows_replayed,
                                                          state.batches_done + outcome.batches),
                  (None, None), outcome.provider, datetime.now(timezone.utc), False)
    return outcome
