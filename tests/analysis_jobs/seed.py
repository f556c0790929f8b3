"""Seeded data for the analysis-job tests: a binary classifier with numeric, categorical and text
features, two slice keys (one a slice tag, one a feature), a reference, hourly windows with
drift injected from ``drift_from`` on, a slice (country=FR) whose labels are often wrong, some
NaN, and labels that arrive late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy.engine import Engine

from config.loader import parse_monitors
from config.monitors import Model, Monitors
from store.catalog import sync_models, write_reference
from store.records import LabelRow, PredictionRow
from store.writes import write_labels, write_predictions

HOUR = timedelta(hours=1)
COUNTRIES = np.array(["DE", "FR", "US"], dtype=object)
CHANNELS = np.array(["web", "ios"], dtype=object)


def model_spec(name: str = "fraud", **analysis: object) -> dict:
    return {
        "name": name, "task": "binary", "classes": ["0", "1"], "positive_class": "1",
        "features": [
            {"name": "x", "type": "numeric", "range": [-10, 10]},
            {"name": "amount", "type": "numeric"},
            {"name": "country", "type": "categorical", "categories": ["DE", "FR", "US"]},
            {"name": "note", "type": "text"},
        ],
        "slices": ["channel", "country"],
        "analysis": {"schedule": {"window": "1h", "delay": "5m", "catchup": "4h"}, **analysis},
    }


def monitors(*specs: dict) -> Monitors:
    return parse_monitors({"version": 1, "models": list(specs or [model_spec()])})


@dataclass(frozen=True)
class Sample:
    x: np.ndarray
    amount: np.ndarray
    country: np.ndarray
    channel: np.ndarray
    score: np.ndarray
    label: np.ndarray


def sample(rng: np.random.Generator, n: int, shift: float = 0.0) -> Sample:
    x = rng.normal(shift, 1.0, n)
    amount = rng.lognormal(3.0, 1.0, n)
    amount[rng.random(n) < 0.05] = np.nan
    country = COUNTRIES[rng.choice(3, n, p=[0.5, 0.2, 0.3])]
    channel = CHANNELS[rng.choice(2, n)]
    score = 1.0 / (1.0 + np.exp(-2.0 * (x - shift)))  # the model tracks the shift: calibrated scores
    label = (rng.random(n) < score).astype(int)
    flip = (country == "FR") & (rng.random(n) < 0.35)  # FR labels are often the other class
    label[flip] = 1 - label[flip]
    return Sample(x, amount, country, channel, score, label)


def reference_rows(rng: np.random.Generator, n: int = 4000) -> list[dict]:
    s = sample(rng, n)
    return [{"x": float(s.x[i]), "amount": None if np.isnan(s.amount[i]) else float(s.amount[i]),
             "country": str(s.country[i]), "note": "n/a"} for i in range(n)]


def recent_t0(hours_ago: int = 6) -> datetime:
    """The start of the hour ``hours_ago`` hours before this one: recent data, real clock."""
    now = datetime.now(timezone.utc)
    return now.replace(minute=0, second=0, microsecond=0) - hours_ago * HOUR


def seed(engine: Engine, model: Model, t0: datetime, *, hours: int = 4, per_hour: int = 1500, drift_from: int = 2,
         label_hours: int | None = None, seed_value: int = 7, with_reference: bool = True) -> dict[int, Sample]:
    """Predictions for ``hours`` windows from ``t0`` (drift from hour ``drift_from``), labels
    for the first ``label_hours`` of them (all by default), a reference. Returns the samples."""
    rng = np.random.default_rng(seed_value)
    sync_models(engine, monitors(model.model_dump(mode="json")))
    if with_reference:
        write_reference(engine, model, "default", reference_rows(rng))
    samples = {}
    for h in range(hours):
        s = sample(rng, per_hour, shift=1.0 if h >= drift_from else 0.0)
        samples[h] = s
        start = t0 + h * HOUR
        rows = [PredictionRow(
            time=start + timedelta(seconds=float(i) * 3600 / per_hour), model=model.name, version="v1",
            prediction_id=f"{model.name}-{h}-{i}",
            features={"x": float(s.x[i]), "amount": None if np.isnan(s.amount[i]) else float(s.amount[i]),
                      "country": str(s.country[i]), "note": "free text"},
            prediction="1" if s.score[i] >= 0.5 else "0", score=float(s.score[i]),
            slices={"channel": str(s.channel[i])}, weight=1.0) for i in range(per_hour)]
        write_predictions(engine, rows)
        if label_hours is None or h < label_hours:
            add_labels(engine, model, t0, h, s)
    return samples


def add_labels(engine: Engine, model: Model, t0: datetime, hour: int, s: Sample, flip: bool = False,
               after: timedelta = 2 * HOUR) -> None:
    """Labels for every prediction of hour ``hour``, stamped ``after`` the hour's start
    (``flip``: every label the other class -- a correction needs a later ``after``)."""
    start = t0 + hour * HOUR
    rows = [LabelRow(time=start + after + timedelta(seconds=i), model=model.name,
                     prediction_id=f"{model.name}-{hour}-{i}", label=str((1 - v) if flip else v))
            for i, v in enumerate(s.label.tolist())]
    write_labels(engine, rows)
