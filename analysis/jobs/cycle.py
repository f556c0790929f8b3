"""One scheduler cycle: every model that is due analyses its closed windows and late labels,
then the alert cycle runs, then the hourly SLI rollup catches up (alerts.slo_counts). A failure
in one model is logged and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from analysis.jobs.late_labels import refresh_late_labels
from analysis.jobs.quality_job import SEASON
from analysis.jobs.run import RunContext, WindowOutcome, run_window
from analysis.jobs.schedule import ModelAnalysis, closed_windows, model_analysis
from config.monitors import Model, Monitors
from store import claims
from store.slo_reads import epoch_minute

logger = logging.getLogger("modelwatch.analysis")
HISTORY_DAYS = 8  # windows read back for the volume baseline (a week of same-hour windows)


@dataclass(frozen=True)
class CycleReport:
    now: datetime
    outcomes: tuple[WindowOutcome, ...]
    failed_models: tuple[str, ...]  # models whose cycle broke before or between windows
    skipped_models: tuple[str, ...] = ()  # not due yet, or disabled

    @property
    def failed_windows(self) -> tuple[WindowOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status != "done")


@dataclass
class Cadence:
    """When each model is next due (in memory, per scheduler process)."""

    next_due: dict[str, datetime] = field(default_factory=dict)

    def due(self, model: str, now: datetime) -> bool:
        return self.next_due.get(model, now) <= now

    def ran(self, model: str, now: datetime, every: timedelta) -> None:
        self.next_due[model] = now + every


def _takeable(state: claims.WindowState | None, now: datetime, max_attempts: int) -> bool:
    # a cheap pre-filter on what was read; the claim itself decides under concurrency
    if state is None:
        return True
    if state.status == claims.RUNNING:
        return state.lease_until is not None and state.lease_until < now
    if state.status == claims.FAILED:
        return state.attempts < max_attempts and (state.lease_until is None or state.lease_until < now)
    return False


def analyse_model(ctx: RunContext, model: Model, analysis: ModelAnalysis, now: datetime) -> list[WindowOutcome]:
    """Analyse the model's closed windows not yet done (oldest first), then its late labels."""
    due = closed_windows(now, analysis.schedule)
    outcomes: list[WindowOutcome] = []
    if due:
        since = min(due[0].start, due[-1].start - HISTORY_DAYS * SEASON)
        states = claims.window_states(ctx.engine, model.name, since, now)
        history = {s.start: s.weight for s in states.values() if s.status == claims.DONE and s.weight is not None}
        for window in due:
            if ctx.stop.is_set():
                return outcomes
            if not _takeable(states.get((window.start, window.end)), ctx.clock(), ctx.max_attempts):
                continue
            if not claims.claim_window(ctx.engine, model.name, window.start, window.end, ctx.owner, ctx.clock(),
                                       ctx.lease, max_attempts=ctx.max_attempts):
                continue
            outcome = run_window(ctx, model, analysis, window, history=history)
            outcomes.append(outcome)
            if outcome.status == "done":
                history[window.start] = outcome.weight
    if not ctx.stop.is_set():
        outcomes.extend(refresh_late_labels(ctx, model, analysis, now))
    return outcomes


def run_cycle(ctx: RunContext, monitors: Monitors, now: datetime | None = None, *, cadence: Cadence | None = None,
              models: Sequence[str] | None = None, workers: int = 1, alerts: bool = True) -> CycleReport:
    """Run every due model (``models`` to restrict), ``workers`` models at a time, then the
    alert cycle. Never raises for one model's failure."""
    now = now or ctx.clock()
    chosen = [m for m in monitors.models if models is None or m.name in models]
    outcomes: list[WindowOutcome] = []
    failed: list[str] = []
    skipped: list[str] = []

    def one(model: Model) -> list[WindowOutcome] | None:
        try:
            analysis = model_analysis(model)
            if ctx.stop.is_set() or not analysis.schedule.enabled or \
                    (cadence is not None and not cadence.due(model.name, now)):
                skipped.append(model.name)
                return []
            if cadence is not None:
                cadence.ran(model.name, now, analysis.schedule.every)
            return analyse_model(ctx, model, analysis, now)
        except Exception:  # noqa: BLE001 -- one model's failure is logged; the others go on
            logger.exception("analysis cycle of model %s failed", model.name)
            return None

    if workers > 1:
        with ThreadPoolExecutor(workers, thread_name_prefix="modelwatch-analysis") as pool:
            results = list(pool.map(one, chosen))
    else:
        results = [one(m) for m in chosen]
    for model, result in zip(chosen, results):
        if result is None:
            failed.append(model.name)
        else:
            outcomes.extend(result)
    if alerts and not ctx.stop.is_set():
        run_alerts(ctx, monitors, now)
    return CycleReport(now, tuple(outcomes), tuple(failed), tuple(skipped))


_alerts_missing_logged = False


def run_alerts(ctx: RunContext, monitors: Monitors, now: datetime) -> None:
    """``alerts.cycle.run_alert_cycle(engine, monitors, now)``, imported late: skipped (logged
    once) while that module does not exist; its failure is logged and never stops the scheduler."""
    global _alerts_missing_logged
    try:
        from alerts.cycle import run_alert_cycle
        from alerts.slo_counts import build_rollups
    except ModuleNotFoundError as exc:
        if exc.name not in ("alerts.cycle", "alerts"):
            raise
        if not _alerts_missing_logged:
            logger.info("alerts.cycle is not available yet: the alert cycle is skipped")
            _alerts_missing_logged = True
        return
    try:
        run_alert_cycle(ctx.engine, monitors, now)
    except Exception:  # noqa: BLE001 -- alerting problems must not stop analysis
        logger.exception("alert cycle failed")
    try:
        # After the cycle, off the paging path: SLOs the cycle read from raw counters (new over
        # a long history) get their hourly rollup, so the next cycles read them in lookups.
        build_rollups(ctx.engine, [(m.name, s) for m in monitors.models for s in m.slos], epoch_minute(now))
    except Exception:  # noqa: BLE001 -- the next cycle reads the counters directly, or retries
        logger.exception("SLI rollup build failed")
