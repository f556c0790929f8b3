"""A store seeded for the dashboard tests through the real write paths, then analysed by the real
jobs: the analysis cycle (drift, quality, performance per window), hourly alert cycles (SLO
status, burndown history, alerts, outbox), the delivery worker (one receiver up, one answering
500), a shadow candidate replayed on ONNX Runtime, a silence and tokens.

The story, ending at ``now`` (the real clock, to the minute):
- fraud: a binary classifier, 100 predictions an hour for 24 h; v1, then v2 deployed 10 h ago;
  feature ``x`` drifts (+1.5 sd) over the last 6 hours and ``amount`` goes missing far more
  often; labels arrive 3 h late and only for predictions older than 6 h; the FR slice's labels
  are often the other class (its accuracy is worst); an outage in the last 30 minutes (20 %
  errors, slow) pages.
- churn: a healthy model with traffic and no alert.
Counters are written per minute from ``now - 26 h``; their exact latencies are kept so tests can
check the percentiles the dashboard derives from the histograms.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy.engine import Engine

from alerts.cycle import alerting_config, run_alert_cycle
from alerts.retry import RetryPolicy
from alerts.silence_service import create_silence
from alerts.worker import DeliveryWorker
from analysis.jobs.cycle import run_cycle
from analysis.jobs.run import RunContext
from config.loader import parse_monitors
from config.monitors import Monitors
from modelwatch.counters import DEFAULT_BOUNDS_MS
from store.catalog import sync_models, write_reference
from store.records import CounterRow, LabelRow, PredictionRow
from store.slo_reads import bound_key
from store.tokens import create_token
from store.writes import note_versions, write_counters, write_labels, write_predictions

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
COUNTRIES = np.array(["DE", "FR", "US"], dtype=object)
CHANNELS = np.array(["web", "ios"], dtype=object)
PER_HOUR = 100
REQUESTS_PER_MINUTE = 100
OUTAGE_MINUTES = 30
OUTAGE_ERROR_RATE = 0.2
DRIFT_HOURS = 6
LABEL_LAG = 3 * HOUR
UNLABELLED_HOURS = 6
DEPLOY_AGO = 10 * HOUR


def monitors_document(webhook_up: str, webhook_down: str) -> dict[str, Any]:
    fraud = {
        "name": "fraud", "task": "binary", "classes": ["0", "1"], "positive_class": "1", "team": "payments-ml",
        "description": "Card fraud classifier",
        "features": [
            {"name": "x", "type": "numeric", "range": [-10, 10]}, {"name": "amount", "type": "numeric"},
            {"name": "country", "type": "categorical", "categories": ["DE", "FR", "US"]},
            {"name": "email", "type": "text"},
        ],
        "slices": ["channel", "country"],
        "analysis": {"schedule": {"window": "1h", "delay": "5m", "catchup": "1d"}},
        "slos": [
            {"name": "availability", "kind": "availability", "objective": 0.999},
            {"name": "latency-p99", "kind": "latency", "objective": 0.99, "threshold_ms": 100},
            {"name": "accuracy", "kind": "quality", "objective": 0.7, "evaluation_delay": "1h"},
        ],
    }
    churn = {
        "name": "churn", "task": "binary", "classes": ["0", "1"], "positive_class": "1", "team": "growth",
        "features": [{"name": "tenure", "type": "numeric"}],
        "analysis": {"schedule": {"enabled": False}},
        "slos": [{"name": "availability", "kind": "availability", "objective": 0.99}],
    }
    return {
        "version": 1, "dashboard_url": "http://127.0.0.1:8501", "models": [fraud, churn],
        "routes": {"receiver": "oncall", "group_by": ["model", "alertname", "slo"], "group_wait": "0s",
                   "group_interval": "5m", "repeat_interval": "4h",
                   "routes": [{"receiver": "audit", "matchers": ['severity="ticket"']}]},
        "receivers": [{"name": "oncall", "type": "webhook", "url": webhook_up, "timeout_s": 2},
                      {"name": "audit", "type": "webhook", "url": webhook_down, "timeout_s": 2}],
    }


def write_config(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Seeded:
    engine: Engine
    monitors: Monitors
    now: datetime  # the end of the seeded data (a whole minute)
    admin_token: str
    read_token: str
    # exact counters of fraud per minute (epoch minute -> (requests, errors, latencies of successes))
    counters: dict[int, tuple[int, int, np.ndarray]] = field(default_factory=dict)
    candidate: str = "lr-v3"

    @property
    def start(self) -> datetime:
        return self.now - 24 * HOUR

    def totals(self, start: datetime, end: datetime) -> tuple[int, int, np.ndarray]:
        """fraud's requests, errors and success latencies with minutes in ``[start, end)``."""
        lo, hi = int(start.timestamp() // 60), int(end.timestamp() // 60)
        chosen = [v for m, v in self.counters.items() if lo <= m < hi]
        return (sum(v[0] for v in chosen), sum(v[1] for v in chosen),
                np.concatenate([v[2] for v in chosen]) if chosen else np.zeros(0))


def _counter_row(model: str, version: str, minute: datetime, requests: int, errors: int,
                 latencies: np.ndarray, batch: str) -> CounterRow:
    bounds = np.asarray(DEFAULT_BOUNDS_MS)
    index = np.searchsorted(bounds, latencies, side="left")  # right-closed buckets, as the SDK counts
    counts = np.bincount(index, minlength=len(bounds) + 1)
    keys = [bound_key(b) for b in DEFAULT_BOUNDS_MS] + ["+Inf"]
    return CounterRow(minute=minute, model=model, version=version, batch_id=batch, requests=requests, errors=errors,
                      latency_count=int(latencies.size), latency_sum_ms=float(latencies.sum()),
                      latency_buckets={k: int(c) for k, c in zip(keys, counts)})


def _seed_counters(engine: Engine, rng: np.random.Generator, now: datetime) -> dict[int, tuple[int, int, np.ndarray]]:
    rows, exact = [], {}
    for k in range(26 * 60, 0, -1):
        minute = now - k * MINUTE
        outage = k <= OUTAGE_MINUTES
        errors = int(REQUESTS_PER_MINUTE * OUTAGE_ERROR_RATE) if outage else 0
        latencies = rng.gamma(4.0, 300.0 / 4 if outage else 18.0 / 4, REQUESTS_PER_MINUTE - errors)
        version = "v2" if minute >= now - DEPLOY_AGO else "v1"
        rows.append(_counter_row("fraud", version, minute, REQUESTS_PER_MINUTE, errors, latencies, f"b{k}"))
        exact[int(minute.timestamp() // 60)] = (REQUESTS_PER_MINUTE, errors, latencies)
        rows.append(_counter_row("churn", "c1", minute, 20, 0, rng.gamma(4.0, 2.0, 20), f"c{k}"))
    write_counters(engine, rows)
    return exact


def _sample(rng: np.random.Generator, n: int, drifted: bool) -> dict[str, np.ndarray]:
    x = rng.normal(1.5 if drifted else 0.0, 1.0, n)
    amount = rng.lognormal(3.0, 1.0, n)
    amount[rng.random(n) < (0.4 if drifted else 0.02)] = np.nan
    country = COUNTRIES[rng.choice(3, n, p=[0.5, 0.2, 0.3])]
    score = 1.0 / (1.0 + np.exp(-2.0 * x))
    label = (rng.random(n) < score).astype(int)
    flip = (country == "FR") & (rng.random(n) < 0.35)
    label[flip] = 1 - label[flip]
    return {"x": x, "amount": amount, "country": country, "channel": CHANNELS[rng.choice(2, n)], "score": score,
            "label": label}


def _seed_predictions(engine: Engine, rng: np.random.Generator, now: datetime) -> None:
    first_hour = now.replace(minute=0) - 24 * HOUR
    predictions, labels = [], []
    for h in range(25):
        start = first_hour + h * HOUR
        drifted = start >= now.replace(minute=0) - DRIFT_HOURS * HOUR
        s = _sample(rng, PER_HOUR, drifted)
        for i in range(PER_HOUR):
            t = start + timedelta(seconds=i * 3600 / PER_HOUR)
            if t >= now:
                break
            failed = t >= now - OUTAGE_MINUTES * MINUTE and i % 5 == 0
            pid = f"fraud-{h}-{i}"
            amount = None if np.isnan(s["amount"][i]) else round(float(s["amount"][i]), 2)
            predictions.append(PredictionRow(
                time=t, model="fraud", version="v2" if t >= now - DEPLOY_AGO else "v1", prediction_id=pid,
                features={"x": float(s["x"][i]), "amount": amount, "country": str(s["country"][i]),
                          "email": "[redacted:email]"},
                prediction=None if failed else str(int(s["score"][i] >= 0.5)),
                score=None if failed else float(s["score"][i]), latency_ms=float(rng.gamma(4.0, 4.5)),
                error="upstream timeout: feature store" if failed else None,
                slices={"channel": str(s["channel"][i])}))
            if t < now.replace(minute=0) - UNLABELLED_HOURS * HOUR:
                labels.append(LabelRow(time=t + LABEL_LAG, model="fraud", prediction_id=pid, label=str(s["label"][i])))
    write_predictions(engine, predictions)
    write_labels(engine, labels)


def _reference(rng: np.random.Generator, n: int = 3000) -> list[dict[str, Any]]:
    s = _sample(rng, n, drifted=False)
    return [{"x": float(s["x"][i]), "amount": None if np.isnan(s["amount"][i]) else float(s["amount"][i]),
             "country": str(s["country"][i]), "email": "n/a"} for i in range(n)]


def _shadow(engine: Engine, monitors: Monitors, start: datetime, end: datetime, name: str) -> None:
    """A logistic regression over x and country, registered and replayed over the range."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    from shadow.mapping import default_mapping
    from shadow.registry import load_candidate, register_candidate
    from shadow.replay import backtest

    model = monitors.model("fraud")
    assert model is not None
    rng = np.random.default_rng(3)
    s = _sample(rng, 2000, drifted=False)
    matrix = np.column_stack([s["x"], np.nan_to_num(s["amount"]), *[(s["country"] == c) for c in COUNTRIES]])
    estimator = LogisticRegression(max_iter=300).fit(matrix.astype(np.float32), s["label"])
    content = to_onnx(estimator, matrix[:1].astype(np.float32),
                      options={id(estimator): {"zipmap": False}}).SerializeToString()
    mapping = default_mapping(model, "X").model_copy(update={"missing": 0.0})
    registration = register_candidate(engine, model, name, content, mapping, now=start)
    backtest(engine, model, load_candidate(engine, model, registration.candidate), start, end)


def seed_dashboard(engine: Engine, monitors: Monitors, now: datetime | None = None, *, shadow: bool = True) -> Seeded:
    """Seed everything described above; returns what the tests assert against."""
    now = (now or datetime.now(timezone.utc)).replace(second=0, microsecond=0)
    rng = np.random.default_rng(11)
    fraud, alerting = monitors.model("fraud"), alerting_config(monitors)
    assert fraud is not None and alerting is not None
    sync_models(engine, monitors)
    write_reference(engine, fraud, "default", _reference(rng))
    note_versions(engine, "fraud", ["v1"], now - 26 * HOUR)
    note_versions(engine, "fraud", ["v2"], now - DEPLOY_AGO)
    note_versions(engine, "churn", ["c1"], now - 26 * HOUR)
    exact = _seed_counters(engine, rng, now)
    _seed_predictions(engine, rng, now)
    run_cycle(RunContext(engine, "dashboard-seed", label_margin=timedelta(0)), monitors, now, alerts=False)
    # A cycle every 3 hours (a burndown point each), the last one now: the outage pages. (Hourly
    # would be as real but costs 0.5 s a cycle on SQLite: the quality SLI join.)
    for k in range(21, -1, -3):
        run_alert_cycle(engine, monitors, now - k * HOUR + timedelta(seconds=5))
    worker = DeliveryWorker(engine, alerting, env={}, rng=random.Random(1),
                            policy=RetryPolicy(base=timedelta(seconds=5), cap=timedelta(minutes=1)))
    worker.deliver_due(now + timedelta(seconds=10))
    if shadow:
        _shadow(engine, monitors, now - 24 * HOUR, now, "lr-v3")
    create_silence(engine, ['model="churn"'], "sre@example.com", "maintenance window", now, duration=4 * HOUR,
                   actor="seed")
    return Seeded(engine, monitors, now, create_token(engine, ["admin"], "dash-admin"),
                  create_token(engine, ["read"], "dash-read"), exact)


def seeded_monitors(webhook_up: str, webhook_down: str) -> Monitors:
    return parse_monitors(monitors_document(webhook_up, webhook_down))
