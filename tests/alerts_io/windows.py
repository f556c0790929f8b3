"""Hourly windows of predictions with a chosen accuracy / error rate per country, written to a
real store and analysed by the real job (run_window), for the performance-alert and slice-page
tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.engine import Engine

from analysis.jobs.run import RunContext, WindowOutcome, run_window
from analysis.jobs.schedule import Window, model_analysis
from config.monitors import Model
from store import claims
from store.records import LabelRow, PredictionRow
from store.writes import write_labels, write_predictions

HOUR = timedelta(hours=1)


def write_window(engine: Engine, model: Model, start: datetime, rows: Mapping[str, int],
                 accuracy: Mapping[str, float], *, errors: Mapping[str, float] | None = None,
                 latency_ms: Mapping[str, float] | None = None, labels: bool = True, seed: int = 1
                 ) -> list[tuple[str, int, datetime]]:
    """``rows[country]`` predictions of a binary model in the hour from ``start``; a share
    ``accuracy[country]`` of each country's labels agrees with the prediction (exactly: the
    wrong ones are a shuffled fixed count), a share ``errors[country]`` failed (no output),
    every one took ``latency_ms[country]``. Labels are written with them unless ``labels`` is
    False. Returns (prediction id, label, window start) of each prediction with an output:
    ``write_labels_for`` sends their labels later."""
    rng = np.random.default_rng(seed)
    predictions, truth = [], []
    i = 0
    for country, n in rows.items():
        wrong = np.zeros(n, bool)
        wrong[: round(n * (1.0 - accuracy[country]))] = True
        failed = np.zeros(n, bool)
        failed[: round(n * (errors or {}).get(country, 0.0))] = True
        rng.shuffle(wrong)
        rng.shuffle(failed)
        for j in range(n):
            predicted = int(rng.random() < 0.5)
            pid = f"{model.name}-{start:%d%H}-{i}"
            predictions.append(PredictionRow(
                time=start + timedelta(seconds=3500 * i / max(sum(rows.values()), 1)), model=model.name, version="v1",
                prediction_id=pid, features={"amount": float(j)}, slices={"country": country}, weight=1.0,
                prediction=None if failed[j] else str(predicted), score=None if failed[j] else (0.9 if predicted else 0.1),
                error="TimeoutError" if failed[j] else None, latency_ms=(latency_ms or {}).get(country)))
            if not failed[j]:
                truth.append((pid, (1 - predicted) if wrong[j] else predicted, start))
            i += 1
    write_predictions(engine, predictions)
    if labels:
        write_labels_for(engine, model, truth)
    return truth


def write_labels_for(engine: Engine, model: Model, truth: list[tuple[str, int, datetime]]) -> None:
    """The labels of ``truth`` (write_window's), stamped an hour after their window."""
    write_labels(engine, [LabelRow(time=start + HOUR + timedelta(seconds=k), model=model.name, prediction_id=pid,
                                   label=str(label)) for k, (pid, label, start) in enumerate(truth)])


def analyse(engine: Engine, model: Model, start: datetime, kinds: tuple[str, ...] = ("performance",)) -> WindowOutcome:
    """Run the real analysis job on the hour from ``start`` (a rerun replaces its results)."""
    ctx = RunContext(engine, "test", label_margin=timedelta(0))
    window = Window(start, start + HOUR)
    assert claims.claim_window(engine, model.name, window.start, window.end, ctx.owner, ctx.clock(), ctx.lease,
                               force=True)
    outcome = run_window(ctx, model, model_analysis(model), window, kinds)
    assert outcome.status == "done", outcome.error
    return outcome
