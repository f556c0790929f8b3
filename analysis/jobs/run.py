"""Run one claimed window: read it, compute, and replace its results -- the thin I/O shell.

The results and the claim's completion commit in one transaction; if the claim was lost (the
lease ran out and another scheduler took the window), everything rolls back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from analysis.jobs.compute import compute_window
from analysis.jobs.profiles import ProfileCache
from analysis.jobs.quality_job import expected_volume
from analysis.jobs.results import ANY_DRIFT, DRIFT, KINDS, PERFORMANCE, QUALITY, WINDOW_METRIC, ResultRow
from analysis.jobs.schedule import ModelAnalysis, Window
from config.monitors import Model
from store import claims
from store.analysis_reads import read_window
from store.analysis_results import replace_window_results
from store.types import utc_now

logger = logging.getLogger("modelwatch.analysis")



@dataclass
class RunContext:
    """What every run of one scheduler (or one backfill) shares."""

    engine: Engine
    owner: str
    profiles: ProfileCache = field(default_factory=ProfileCache)
    lease: timedelta = timedelta(minutes=10)
    retry_after: timedelta = timedelta(minutes=5)
    max_attempts: int = 3
    # Labels received this long before a run's read count as possibly unseen by it (commit lag,
    # clock skew between collectors and schedulers): they send the window back once more.
    label_margin: timedelta = timedelta(seconds=60)
    clock: Callable[[], datetime] = utc_now
    stop: threading.Event = field(default_factory=threading.Event)  # set: finish the window, start no other


@dataclass(frozen=True)
class WindowOutcome:
    model: str
    window: Window
    kinds: tuple[str, ...]
    status: str  # done | failed | lost
    n_rows: int = 0
    weight: float = 0.0  # summed sample weights: the window's estimated traffic
    n_results: int = 0
    drift: bool = False
    read_s: float = 0.0  # wall seconds per phase
    compute_s: float = 0.0
    write_s: float = 0.0
    error: str | None = None
    cpu_s: tuple[float, float, float] = (0.0, 0.0, 0.0)  # this thread's CPU in read, compute, write


class ClaimLost(RuntimeError):
    """Another scheduler took the window over while this one ran it."""


def _drifted(rows: list[ResultRow]) -> bool:
    return any(r.kind == DRIFT and r.metric == WINDOW_METRIC and r.feature == "" and r.slice_key == ""
               and r.status == ANY_DRIFT for r in rows)


def run_window(ctx: RunContext, model: Model, analysis: ModelAnalysis, window: Window,
               kinds: Collection[str] = KINDS, history: dict[datetime, float] | None = None,
               refresh: bool = False) -> WindowOutcome:
    """Analyse a window the caller has claimed; never raises for a failure of the run (it is
    recorded on the claim and returned), so one bad window or model does not stop the rest.
    ``refresh``: a late-label performance rerun (on failure its older results stand)."""
    kinds = tuple(k for k in KINDS if k in kinds)
    t0, c0 = time.perf_counter(), time.thread_time()
    try:
        checked_at = ctx.clock() - ctx.label_margin
        reference = ctx.profiles.get(ctx.engine, model, analysis.policy.profile, analysis.schedule.reference) \
            if {DRIFT, QUALITY} & set(kinds) else None
        data = read_window(ctx.engine, model, window.start, window.end)
        t1, c1 = time.perf_counter(), time.thread_time()
        expected = expected_volume(history or {}, window.start, analysis.schedule.window)
        rows = compute_window(model, analysis, data, reference, kinds, expected)
        t2, c2 = time.perf_counter(), time.thread_time()
        now = ctx.clock()
        with ctx.engine.begin() as conn:
            n = replace_window_results(conn, model.name, window.start, window.end, kinds,
                                       [r.as_dict() for r in rows], now)
            if not claims.complete(conn, model.name, window.start, window.end, ctx.owner, now, n_rows=data.n,
                                   weight=data.total_weight, n_labels=int(data.labeled.sum()),
                                   labels_checked_at=checked_at if PERFORMANCE in kinds else None):
                raise ClaimLost(f"window {window} of model {model.name} was taken over")
        t3, c3 = time.perf_counter(), time.thread_time()
    except ClaimLost as exc:
        logger.warning("%s; its results were rolled back", exc)
        return WindowOutcome(model.name, window, kinds, "lost", error=str(exc))
    except Exception as exc:  # noqa: BLE001 -- the job boundary: record, log, carry on with the rest
        error = f"{type(exc).__name__}: {exc}"
        logger.exception("analysis of model %s window %s failed", model.name, window)
        try:
            claims.fail(ctx.engine, model.name, window.start, window.end, ctx.owner, ctx.clock(), error,
                        ctx.retry_after, back_to_done=refresh)
        except Exception:  # noqa: BLE001 -- the database may be what failed; the lease expires anyway
            logger.exception("could not record the failure of model %s window %s", model.name, window)
        return WindowOutcome(model.name, window, kinds, "failed", error=error, read_s=time.perf_counter() - t0)
    return WindowOutcome(model.name, window, kinds, "done", data.n, data.total_weight, n, _drifted(rows),
                         t1 - t0, t2 - t1, t3 - t2, cpu_s=(c1 - c0, c2 - c1, c3 - c2))
