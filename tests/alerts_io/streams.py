"""Synthetic counter streams written straight into request_counters (the collector's table)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.engine import Engine

from store import schema
from store.slo_reads import bound_key
from store.upsert import insert_or_ignore

BOUNDS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


def write_counters(engine: Engine, model: str, start: datetime, requests: Sequence[float], errors: Sequence[float],
                   slow: Sequence[float] | None = None, version: str = "v1", batch: str = "b") -> None:
    """One row per minute from ``start``: successful requests at 20 ms, ``slow`` of them at 300 ms."""
    slow_arr = np.zeros(len(requests)) if slow is None else np.asarray(slow)
    rows = []
    for i, (n, e, s) in enumerate(zip(requests, errors, slow_arr)):
        if n == 0:
            continue
        ok = int(n - e)
        buckets = {bound_key(b): 0 for b in BOUNDS} | {"+Inf": 0}
        buckets["25"] = ok - int(s)
        buckets["500"] = int(s)
        rows.append({"minute": start + timedelta(minutes=i), "model": model, "version": version, "batch_id": batch,
                     "requests": int(n), "errors": int(e), "latency_count": ok, "latency_sum_ms": 20.0 * ok,
                     "latency_buckets": buckets, "dropped": None})
    with engine.begin() as conn:
        for chunk in range(0, len(rows), 5000):
            insert_or_ignore(conn, schema.request_counters, rows[chunk:chunk + 5000])
