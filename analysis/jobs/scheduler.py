"""The analysis scheduler process: APScheduler (3.x) ticks, each tick runs one cycle.

One job, ``modelwatch-analysis-cycle``, on an interval trigger: ``max_instances=1`` and
``coalesce`` so a slow cycle never overlaps the next or piles up missed runs. Within a cycle each
model runs on its own cadence (``analysis.schedule.every``, see analysis/jobs/cycle.py); replicas
share windows through the database claims, so running several schedulers is safe.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from analysis.jobs.cycle import Cadence, CycleReport, run_cycle
from analysis.jobs.run import RunContext
from store.types import utc_now
from config.monitors import Monitors

logger = logging.getLogger("modelwatch.analysis")
JOB_ID = "modelwatch-analysis-cycle"
RETENTION_JOB_ID = "modelwatch-retention"
DEFAULT_TICK = timedelta(seconds=60)
RETENTION_EVERY = timedelta(days=1)
RETENTION_FIRST_DELAY = timedelta(minutes=5)  # not in the way of the first analysis cycle


def scheduler_owner() -> str:
    """A name for this scheduler process in claims: host, pid and a nonce (pids are reused)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class AnalysisScheduler:
    """Runs analysis cycles every ``tick`` on APScheduler; ``run_once`` runs one cycle now."""

    def __init__(self, engine: Engine, monitors: Monitors, *, tick: timedelta = DEFAULT_TICK, workers: int = 1,
                 context: RunContext | None = None,
                 retention: Mapping[str, timedelta | None] | None = None) -> None:
        self.context = context or RunContext(engine, scheduler_owner())
        self.retention = retention  # None: no retention job (store.retention.apply_retention daily)
        self.monitors = monitors
        self.tick = tick
        self.workers = workers
        self.cadence = Cadence()
        self._scheduler: BaseScheduler | None = None

    def run_once(self, now: datetime | None = None) -> CycleReport:
        report = run_cycle(self.context, self.monitors, now or utc_now(), cadence=self.cadence,
                           workers=self.workers)
        done = [o for o in report.outcomes if o.status == "done"]
        if report.outcomes or report.failed_models:
            logger.info("analysis cycle: %d window(s) done, %d failed, %d model(s) failed",
                        len(done), len(report.failed_windows), len(report.failed_models))
        return report

    def _tick(self) -> None:
        try:
            self.run_once()
        except Exception:  # noqa: BLE001 -- keep ticking: the next cycle may find the database back
            logger.exception("analysis cycle failed")

    def run_retention(self, now: datetime | None = None) -> None:
        """Delete what is past each table's retention (store.retention); replicas doing it too
        only find nothing left to delete."""
        from store.retention import apply_retention

        report = apply_retention(self.context.engine, self.retention or {}, now or utc_now(),
                                 actor=f"scheduler:{self.context.owner}")
        if report.total:
            logger.info("retention: %d row(s) deleted %s", report.total, {k: v for k, v in report.deleted.items() if v})

    def _retention_tick(self) -> None:
        try:
            self.run_retention()
        except Exception:  # noqa: BLE001 -- keep the scheduler alive; tomorrow's run retries
            logger.exception("retention failed")

    def _configure(self, scheduler: BaseScheduler) -> BaseScheduler:
        scheduler.add_job(self._tick, IntervalTrigger(seconds=self.tick.total_seconds()), id=JOB_ID,
                          max_instances=1, coalesce=True, misfire_grace_time=max(1, int(self.tick.total_seconds())),
                          next_run_time=utc_now())
        if self.retention is not None:
            scheduler.add_job(self._retention_tick, IntervalTrigger(seconds=RETENTION_EVERY.total_seconds()),
                              id=RETENTION_JOB_ID, max_instances=1, coalesce=True,
                              next_run_time=utc_now() + RETENTION_FIRST_DELAY)
        self._scheduler = scheduler
        return scheduler

    def start_background(self) -> None:
        """Start in a daemon thread beside something else (``modelwatch up``)."""
        self._configure(BackgroundScheduler(timezone="UTC", daemon=True)).start()

    def run_forever(self) -> None:
        """Block running cycles until Ctrl-C / SIGTERM (``modelwatch scheduler``)."""
        scheduler = self._configure(BlockingScheduler(timezone="UTC"))
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop ticking; a running cycle finishes its current model and returns."""
        self.context.stop.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self._scheduler = None
