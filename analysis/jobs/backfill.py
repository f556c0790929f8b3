"""Backfill: analyse every closed window of a model in a time range (``modelwatch analyze``).

Windows are claimed like the scheduler claims them, with ``force``: done windows are rerun
(their results replaced), but a window a live scheduler is running right now is skipped, so a
backfill and the scheduler never analyse the same window at once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from analysis.jobs.cycle import HISTORY_DAYS
from analysis.jobs.quality_job import SEASON
from analysis.jobs.results import KINDS
from analysis.jobs.run import RunContext, WindowOutcome, run_window
from analysis.jobs.schedule import ModelAnalysis, Window, windows_between
from config.monitors import Model
from store import claims


@dataclass(frozen=True)
class BackfillReport:
    model: str
    windows: tuple[Window, ...]
    outcomes: tuple[WindowOutcome, ...]
    busy: tuple[Window, ...]  # held by a running scheduler: not analysed

    @property
    def done(self) -> int:
        return sum(o.status == "done" for o in self.outcomes)

    @property
    def failed(self) -> tuple[WindowOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status != "done")

    @property
    def drifted(self) -> int:
        return sum(o.drift for o in self.outcomes)


def backfill_windows(start: datetime, end: datetime, now: datetime, analysis: ModelAnalysis) -> list[Window]:
    """The fixed windows starting in ``[start, end)`` that have closed by ``now``."""
    return [w for w in windows_between(start, end, analysis.schedule.window) if w.end <= now]


def backfill(ctx: RunContext, model: Model, analysis: ModelAnalysis, start: datetime, end: datetime, *,
             kinds: Collection[str] = KINDS, on_window: Callable[[Window, WindowOutcome | None], None] | None = None
             ) -> BackfillReport:
    """Analyse the model's closed windows in ``[start, end)``, oldest first; ``on_window`` is
    called after each (with None for a window a scheduler holds)."""
    now = ctx.clock()
    windows = backfill_windows(start, end, now, analysis)
    if not windows:
        return BackfillReport(model.name, (), (), ())
    states = claims.window_states(ctx.engine, model.name, windows[0].start - HISTORY_DAYS * SEASON, windows[-1].end)
    history = {s.start: s.weight for s in states.values() if s.status == claims.DONE and s.weight is not None}
    outcomes: list[WindowOutcome] = []
    busy: list[Window] = []
    for window in windows:
        if ctx.stop.is_set():
            break
        if not claims.claim_window(ctx.engine, model.name, window.start, window.end, ctx.owner, ctx.clock(),
                                   ctx.lease, force=True):
            busy.append(window)
            if on_window:
                on_window(window, None)
            continue
        outcome = run_window(ctx, model, analysis, window, kinds, history=history)
        if outcome.status == "done":
            history[window.start] = outcome.weight
        outcomes.append(outcome)
        if on_window:
            on_window(window, outcome)
    return BackfillReport(model.name, tuple(windows), tuple(outcomes), tuple(busy))
