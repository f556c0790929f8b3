"""Data for bench/dashboard.py: one model's 30 days at 1,000,000 predictions a day in PostgreSQL.

- predictions: ``per_day`` a day, spread evenly, narrow realistic features (4 numeric, 2
  categorical, a slice tag), loaded with store.pgcopy's binary COPY in chunks; feature ``x``
  drifts over the last 3 days; 0.5 % of the last hour's requests fail.
- request_counters: one row a minute with its latency histogram (the SDK's buckets).
- analysis_results: the real analysis jobs run on 6 windows (3 before the drift, the last 3);
  every other hourly window gets a copy of a real window's rows (same rows, jittered values),
  as re-running the jobs on 714 more windows of 41,667 rows would take hours here.
- a reference dataset (fitted profile), deploys, and SLO status from one real alert cycle.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from modelwatch.counters import DEFAULT_BOUNDS_MS
from store import schema
from store.pgcopy import PREDICTION_COLUMNS, PREDICTION_TYPES, copy_rows, json_field, jsonb_field
from store.slo_reads import bound_key

MODEL = "bench"
COUNTRIES = np.array(["US", "GB", "DE", "FR", "BR", "IN", "other"], dtype=object)
CHANNELS = np.array(["web", "ios", "android"], dtype=object)
HOUR = timedelta(hours=1)
CHUNK = 250_000


def monitors_document() -> dict[str, Any]:
    return {"version": 1, "models": [{
        "name": MODEL, "task": "binary", "classes": ["0", "1"], "positive_class": "1", "team": "bench",
        "features": [{"name": "x", "type": "numeric"}, {"name": "amount", "type": "numeric"},
                     {"name": "age_days", "type": "numeric"}, {"name": "items", "type": "numeric"},
                     {"name": "country", "type": "categorical", "categories": list(COUNTRIES)},
                     {"name": "payment", "type": "categorical"}],
        "slices": ["channel", "country"],
        "analysis": {"schedule": {"window": "1h", "delay": "5m"}},
        "slos": [{"name": "availability", "kind": "availability", "objective": 0.999},
                 {"name": "latency-p99", "kind": "latency", "objective": 0.99, "threshold_ms": 100}],
    }]}


def _features(rng: np.random.Generator, n: int, shift: float) -> list[dict[str, Any]]:
    x = np.round(rng.normal(shift, 1.0, n), 4).tolist()
    amount = np.round(rng.lognormal(3.5, 1.0, n), 2).tolist()
    age = rng.integers(0, 3000, n).tolist()
    items = rng.integers(1, 12, n).tolist()
    country = COUNTRIES[rng.choice(7, n, p=[0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])].tolist()
    payment = np.array(["card", "paypal", "wallet"], dtype=object)[rng.choice(3, n)].tolist()
    return [{"x": a, "amount": b, "age_days": c, "items": d, "country": e, "payment": f}
            for a, b, c, d, e, f in zip(x, amount, age, items, country, payment)]


def _chunks(start: datetime, days: int, per_day: int) -> Iterator[tuple[int, int]]:
    total = days * per_day
    for offset in range(0, total, CHUNK):
        yield offset, min(CHUNK, total - offset)


def load_predictions(engine: Engine, start: datetime, days: int, per_day: int, outage_from: datetime) -> int:
    """``days * per_day`` predictions from ``start``, by binary COPY; returns rows loaded."""
    rng = np.random.default_rng(5)
    step = 86400.0 / per_day
    drift_from = start + timedelta(days=days - 3)
    received = start + timedelta(days=days)
    loaded = 0
    for offset, n in _chunks(start, days, per_day):
        t0 = time.perf_counter()
        times = [start + timedelta(seconds=(offset + i) * step) for i in range(n)]
        features = _features(rng, n, 1.0 if times[0] >= drift_from else 0.0)
        score = rng.random(n)
        channel = CHANNELS[rng.choice(3, n)].tolist()
        failed = [t >= outage_from and i % 200 == 0 for i, t in enumerate(times)]
        records = [
            (t, MODEL, "v3" if t >= received - 2 * timedelta(days=1) else "v2", f"p{offset + i:09d}", json_field(f),
             None if bad else ("1" if s >= 0.5 else "0"), None, None if bad else float(s), None,
             12.0 + 8.0 * s, "upstream timeout" if bad else None, jsonb_field({"channel": c}), 1.0, received)
            for i, (t, f, s, c, bad) in enumerate(zip(times, features, score.tolist(), channel, failed))]
        with engine.begin() as conn:
            loaded += copy_rows(conn, schema.predictions.name, PREDICTION_COLUMNS, PREDICTION_TYPES, records)
        if offset % (4 * CHUNK) == 0:
            print(f"  predictions {loaded:,} / {days * per_day:,} ({n / (time.perf_counter() - t0):,.0f} rows/s)",
                  flush=True)
    return loaded


def load_counters(engine: Engine, start: datetime, days: int, per_day: int, outage_from: datetime) -> int:
    """One request_counters row a minute (the exact counts behind ``per_day`` a day)."""
    rng = np.random.default_rng(6)
    per_minute = per_day // 1440
    bounds = np.asarray(DEFAULT_BOUNDS_MS)
    keys = [bound_key(b) for b in DEFAULT_BOUNDS_MS] + ["+Inf"]
    records = []
    for k in range(days * 1440):
        minute = start + timedelta(minutes=k)
        errors = per_minute // 200 if minute >= outage_from else 0
        latencies = rng.gamma(4.0, 4.0, per_minute - errors)
        counts = np.bincount(np.searchsorted(bounds, latencies, side="left"), minlength=len(keys))
        records.append((minute, MODEL, "v2", f"b{k}", per_minute, errors, per_minute - errors,
                        float(latencies.sum()), jsonb_field(dict(zip(keys, counts.tolist()))), None))
    columns = ("minute", "model", "version", "batch_id", "requests", "errors", "latency_count", "latency_sum_ms",
               "latency_buckets", "dropped")
    types = ("timestamptz", "text", "text", "text", "int8", "int8", "int8", "float8", "bytea", "bytea")
    with engine.begin() as conn:
        return copy_rows(conn, schema.request_counters.name, columns, types, records)


def load_reference_and_deploys(engine: Engine, monitors: Any, start: datetime, days: int) -> None:
    from analysis.jobs.profiles import fit_reference
    from analysis.stats.policy import ProfileSettings
    from store.catalog import sync_models, write_reference
    from store.profiles import stored_reference
    from store.writes import note_versions

    model = monitors.model(MODEL)
    sync_models(engine, monitors)
    write_reference(engine, model, "default", _features(np.random.default_rng(7), 20_000, 0.0))
    reference = stored_reference(engine, MODEL, "default")
    assert reference is not None
    fit_reference(engine, model, reference, ProfileSettings())
    for version, at in (("v1", start), ("v2", start + timedelta(days=9)), ("v3", start + timedelta(days=days - 2))):
        note_versions(engine, MODEL, [version], at)


def analyse(engine: Engine, monitors: Any, windows: list[datetime]) -> dict[datetime, list[dict[str, Any]]]:
    """Run the real analysis on the hourly windows starting at ``windows``; returns their rows."""
    from analysis.jobs.run import RunContext, run_window
    from analysis.jobs.schedule import Window, model_analysis
    from store import claims

    model = monitors.model(MODEL)
    ctx = RunContext(engine, "bench", label_margin=timedelta(0))
    out = {}
    for start in windows:
        window = Window(start, start + HOUR)
        claims.claim_window(engine, MODEL, window.start, window.end, ctx.owner, ctx.clock(), ctx.lease, force=True)
        outcome = run_window(ctx, model, model_analysis(model), window)
        print(f"  analysed {start:%Y-%m-%d %H:%M}: {outcome.n_rows:,} rows -> {outcome.n_results} results "
              f"({outcome.read_s + outcome.compute_s + outcome.write_s:.1f} s)", flush=True)
        r = schema.analysis_results
        with engine.connect() as conn:
            out[start] = [dict(row._mapping) for row in conn.execute(sa.select(r).where(
                r.c.model == MODEL, r.c.window_start == start))]
    return out


def copy_results(engine: Engine, templates: dict[datetime, list[dict[str, Any]]], start: datetime, days: int,
                 drift_from: datetime) -> int:
    """Every hourly window not analysed gets a real window's rows (before/after the drift) with
    values jittered by up to 10 %."""
    from store.analysis_results import replace_window_results

    rng = random.Random(8)
    before = [w for w in templates if w < drift_from][0]
    after = [w for w in templates if w >= drift_from][0]
    written = 0
    keep = ("slice_key", "slice_value", "kind", "metric", "feature", "value", "threshold", "status", "n", "details")
    for h in range(days * 24):
        window = start + h * HOUR
        if window in templates:
            continue
        source = templates[after if window >= drift_from else before]
        rows = [{**{k: row[k] for k in keep},
                 "value": None if row["value"] is None else row["value"] * (0.9 + 0.2 * rng.random())} for row in source]
        with engine.begin() as conn:
            written += replace_window_results(conn, MODEL, window, window + HOUR,
                                              ["drift", "quality", "performance"], rows, window + HOUR)
    return written
