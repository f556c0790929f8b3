"""Replay through real ONNX models on a real store: outputs stored once, resumable, provider
recorded, late predictions caught by the tail, bad rows isolated. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from modelwatch.sampling import is_sampled
from shadow.registry import load_candidate, register_candidate
from shadow.replay import TAIL, backtest, backtest_run, tail
from shadow.session import ShadowSession
from store.records import PredictionRow
from store.schema_shadow import candidates, shadow_outputs, shadow_progress
from store.writes import write_predictions
from tests.shadow.conftest import MODEL, N_ROWS, START, Models, Seed, features_of

CPU = "CPUExecutionProvider"


def loaded(seed: Seed, models: Models, name: str = "better", **kwargs: object):
    registration = register_candidate(seed.engine, seed.model, name, models.onnx[name], **kwargs)
    return load_candidate(seed.engine, seed.model, registration.candidate)


def outputs(seed: Seed, candidate_id: int) -> list[sa.Row]:
    with seed.engine.connect() as conn:
        return conn.execute(sa.select(shadow_outputs).where(shadow_outputs.c.candidate_id == candidate_id)
                            .order_by(shadow_outputs.c.prediction_id)).all()


@pytest.fixture
def rows_inferred(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows fed to ONNX Runtime, per run call (the real run still happens)."""
    fed: list[int] = []
    real = ShadowSession.run

    def counting(self: ShadowSession, feeds: dict) -> object:
        fed.append(next(iter(feeds.values())).shape[0])
        return real(self, feeds)

    monkeypatch.setattr(ShadowSession, "run", counting)
    return fed


def test_backtest_stores_each_output_once_matching_scikit_learn(seed: Seed, models: Models, rows_inferred: list[int]) -> None:
    cand = loaded(seed, models)
    first = backtest(seed.engine, seed.model, cand, seed.start, seed.end, batch_size=512)
    assert (first.rows_read, first.rows_replayed, first.errors, first.batches, first.finished) == (N_ROWS, N_ROWS, 0, 3, True)
    assert first.provider == CPU
    stored = outputs(seed, cand.candidate.id)
    assert len(stored) == N_ROWS
    proba = models.better.predict_proba(seed.data.matrix())[:, 1]
    by_id = {r.prediction_id: r for r in stored}
    np.testing.assert_allclose([by_id[i].score for i in seed.ids], proba, atol=1e-5)
    assert {r.provider for r in stored} == {CPU} and {r.batch_size for r in stored} == {512, N_ROWS - 1024}
    assert all(r.batch_latency_ms > 0 and r.error is None for r in stored)
    # A rerun of the finished range does nothing; --restart reads nothing new (all replayed).
    again = backtest(seed.engine, seed.model, cand, seed.start, seed.end)
    restarted = backtest(seed.engine, seed.model, cand, seed.start, seed.end, restart=True)
    assert (again.rows_read, again.finished, restarted.rows_read, restarted.finished) == (0, True, 0, True)
    assert len(outputs(seed, cand.candidate.id)) == N_ROWS
    assert sum(rows_inferred) == N_ROWS + 64  # the replay, plus registration's sample run
    with seed.engine.connect() as conn:
        progress = conn.execute(sa.select(shadow_progress)).one()
        provider = conn.execute(sa.select(candidates.c.provider).where(candidates.c.id == cand.candidate.id)).scalar()
    assert progress.run == backtest_run(seed.start, seed.end) and progress.rows_done == N_ROWS
    assert progress.finished_at is not None and progress.provider == CPU and provider == CPU


def test_backtest_resumes_after_a_crash_without_redoing_work(seed: Seed, models: Models, rows_inferred: list[int]) -> None:
    cand = loaded(seed, models)
    rows_inferred.clear()
    stopped = backtest(seed.engine, seed.model, cand, seed.start, seed.end, batch_size=200, max_batches=2)
    assert (stopped.rows_replayed, stopped.finished) == (400, False)

    def crash(read: int, replayed: int) -> None:
        raise RuntimeError("killed")  # after the page is committed, as a kill between pages would

    with pytest.raises(RuntimeError, match="killed"):
        backtest(seed.engine, seed.model, cand, seed.start, seed.end, batch_size=200, on_batch=crash)
    assert len(outputs(seed, cand.candidate.id)) == 600
    # A fresh runner process: new session, same stored position.
    resumed = backtest(seed.engine, seed.model, load_candidate(seed.engine, seed.model, cand.candidate),
                       seed.start, seed.end, batch_size=200)
    assert (resumed.rows_replayed, resumed.finished) == (N_ROWS - 600, True)
    assert len(outputs(seed, cand.candidate.id)) == N_ROWS
    assert sum(rows_inferred) == N_ROWS  # no row ran twice
    with seed.engine.connect() as conn:
        assert conn.execute(sa.select(shadow_progress.c.rows_done)).scalar() == N_ROWS


def test_tail_replays_new_and_late_predictions(seed: Seed, models: Models) -> None:
    cand = loaded(seed, models, now=START)
    half = START + timedelta(minutes=50)
    first = tail(seed.engine, seed.model, cand, half)
    expected = sum(t < half - timedelta(seconds=5) for t in seed.times)
    assert (first.rows_replayed, first.finished) == (expected, True)
    with seed.engine.connect() as conn:
        mark = conn.execute(sa.select(shadow_progress.c.cursor_time).where(shadow_progress.c.run == TAIL)).scalar()
    assert mark == half - timedelta(seconds=5)
    # A prediction that arrives late (its time well before the mark) and the rest of the range.
    write_predictions(seed.engine, [PredictionRow(time=START + timedelta(minutes=20, seconds=1), model=MODEL, version="v1",
                                                  prediction_id="late-1", features=features_of(seed.data, 0),
                                                  prediction="0", score=0.1)])
    second = tail(seed.engine, seed.model, cand, seed.end + timedelta(minutes=5))
    assert second.rows_replayed == N_ROWS - expected + 1
    assert len(outputs(seed, cand.candidate.id)) == N_ROWS + 1
    assert tail(seed.engine, seed.model, cand, seed.end + timedelta(minutes=6)).rows_replayed == 0


def test_a_bad_row_fails_alone(seed: Seed, models: Models) -> None:
    bad = dict(features_of(seed.data, 1), x1="not a number")  # stored behind the collector's back
    write_predictions(seed.engine, [PredictionRow(time=START + timedelta(seconds=2), model=MODEL, version="v1",
                                                  prediction_id="bad-1", features=bad, prediction="1", score=0.9)])
    cand = loaded(seed, models)
    result = backtest(seed.engine, seed.model, cand, seed.start, seed.end)
    assert (result.rows_replayed, result.errors) == (N_ROWS + 1, 1)
    stored = {r.prediction_id: r for r in outputs(seed, cand.candidate.id)}
    assert stored["bad-1"].error == "feature 'x1': a str, not a number" and stored["bad-1"].label is None
    assert stored[seed.ids[1]].error is None and stored[seed.ids[1]].label in ("0", "1")


def test_sample_rate_replays_the_deterministic_subset(sqlite_seed: Seed, models: Models) -> None:
    cand = loaded(sqlite_seed, models, sample_rate=0.3)
    result = backtest(sqlite_seed.engine, sqlite_seed.model, cand, sqlite_seed.start, sqlite_seed.end)
    expected = {i for i in sqlite_seed.ids if is_sampled(i, 0.3)}
    assert result.rows_read == N_ROWS and result.rows_replayed == len(expected)
    assert {r.prediction_id for r in outputs(sqlite_seed, cand.candidate.id)} == expected
