"""Late labels: rerun the performance of analysed windows whose predictions got labels since.

Each cycle reads the labels received since the model's watermark (up to ``now - margin``, so
a label still committing is picked up next time), groups them by their prediction's window and
claims each done window whose last run may not have seen them (store/claims.py). The watermark
moves on only when no window was busy or failed, so nothing is skipped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np

from analysis.jobs.results import PERFORMANCE
from analysis.jobs.run import RunContext, WindowOutcome, run_window
from analysis.jobs.schedule import EPOCH, ModelAnalysis, Window
from config.monitors import Model
from store import claims
from store.label_scan import advance_scan, labels_received, scanned_until

logger = logging.getLogger("modelwatch.analysis")


def newest_label_per_window(prediction_times: np.ndarray, received: np.ndarray,
                            length: timedelta) -> dict[Window, datetime]:
    """The latest label receive time per fixed window of the labelled predictions (pure)."""
    if prediction_times.shape[0] == 0:
        return {}
    seconds = length.total_seconds()
    starts = np.floor(prediction_times / seconds) * seconds
    out: dict[Window, datetime] = {}
    for start in np.unique(starts):
        newest = float(received[starts == start].max())
        begin = EPOCH + timedelta(seconds=float(start))
        out[Window(begin, begin + length)] = EPOCH + timedelta(seconds=newest)
    return out


def refresh_late_labels(ctx: RunContext, model: Model, analysis: ModelAnalysis, now: datetime) -> list[WindowOutcome]:
    """Rerun performance for the model's windows with labels received since the last scan."""
    schedule = analysis.schedule
    horizon = now - schedule.label_horizon
    after = scanned_until(ctx.engine, model.name) or horizon
    until = now - ctx.label_margin
    if until <= after:
        return []
    times, received = labels_received(ctx.engine, model.name, after, until, horizon)
    outcomes: list[WindowOutcome] = []
    blocked = False
    for window, newest in sorted(newest_label_per_window(times, received, schedule.window).items()):
        state = claims.claim_label_refresh(ctx.engine, model.name, window.start, window.end, ctx.owner,
                                           ctx.clock(), ctx.lease, newest)
        if state is claims.Refresh.claimed:
            outcome = run_window(ctx, model, analysis, window, (PERFORMANCE,), refresh=True)
            outcomes.append(outcome)
            blocked |= outcome.status != "done"
        elif state is claims.Refresh.busy:
            blocked = True
    if blocked:
        logger.info("model %s: late-label scan stays at %s (windows busy or failed)", model.name, after)
    else:
        advance_scan(ctx.engine, model.name, until)
    return outcomes
