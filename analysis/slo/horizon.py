"""Which counts one evaluation of an SLO needs, and how to lay them out for ``evaluate_slo``.

An evaluation at minute ``end`` needs window sums only, never every minute of a 30-day window:

- windows of up to ``MINUTE_RESOLUTION`` (6 h: the 5m..6h rule windows) are exact, from
  per-minute counts since ``detail_start = floor_hour(end - delay - 6h)``;
- longer windows (1d, 3d rules and the SLO window) start on an hour: the counts before
  ``detail_start`` come as one sum per ring between the hour-aligned window starts (``edges``).
  A 1-day window is then up to 59 minutes longer than a day (3 % of it; 0.1 % of 30 days).

``assemble`` puts each ring's sum on the ring's last minute of an otherwise empty minute series,
so every window sum ``evaluate_slo`` takes over it equals the hour-aligned window's sum.
Timeslice budgeting needs every minute, so its plan has no rings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from analysis.slo.series import SliCounts
from config.slo import Budgeting, SloKind, SloSpec

__all__ = ["MINUTE_RESOLUTION", "ReadPlan", "assemble", "plan_reads"]

MINUTE_RESOLUTION = timedelta(hours=6)
_MINUTE = timedelta(minutes=1)


def _minutes(value: timedelta) -> int:
    return int(value / _MINUTE)


def _floor_hour(minute: int) -> int:
    return minute - minute % 60


@dataclass(frozen=True)
class ReadPlan:
    """Epoch minutes: rings ``[edges[i], edges[i+1])`` (the last ends at ``detail_start``), then
    every minute of ``[detail_start, end)``."""

    end: int
    detail_start: int
    edges: tuple[int, ...]

    @property
    def base(self) -> int:
        """The first minute of the assembled series."""
        return self.edges[0] if self.edges else self.detail_start

    def ring_last_minutes(self) -> np.ndarray:
        """Where each ring's sum goes: the last minute of the ring."""
        bounds = np.asarray((*self.edges[1:], self.detail_start), dtype=np.int64)
        return bounds - 1


def plan_reads(spec: SloSpec, end: int) -> ReadPlan:
    """The reads for evaluating ``spec`` on complete minutes before epoch minute ``end``."""
    at = end - _minutes(spec.evaluation_delay)
    starts = [at - _minutes(spec.window)]
    for rule in spec.alerts:
        starts += [at - _minutes(rule.long_window), at - _minutes(rule.short_window)]
    if spec.budgeting is Budgeting.timeslice and spec.kind is not SloKind.drift_free:
        return ReadPlan(end=end, detail_start=min(starts), edges=())
    # Not earlier than needed: an SLO whose windows all fit in 6 h reads minutes only.
    detail_start = max(_floor_hour(at - _minutes(MINUTE_RESOLUTION)), _floor_hour(min(starts)))
    edges = sorted({_floor_hour(s) for s in starts if s < detail_start})
    return ReadPlan(end=end, detail_start=detail_start, edges=tuple(edges))


def assemble(
    plan: ReadPlan,
    rings: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    minutes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None],
) -> SliCounts:
    """``rings``: (total, bad, expected) per ring in edge order; ``minutes``: (starts, total, bad,
    expected) per minute in ``[detail_start, end)`` (missing minutes are zero). Expected counts
    (quality) are kept when given on both sides."""
    n = plan.end - plan.base
    total, bad = np.zeros(n), np.zeros(n)
    with_expected = minutes[3] is not None
    expected = np.zeros(n) if with_expected else None
    if plan.edges:
        where = plan.ring_last_minutes() - plan.base
        _scatter(total, where, rings[0])
        _scatter(bad, where, rings[1])
        if expected is not None:
            _scatter(expected, where, rings[2] if rings[2] is not None else np.zeros(len(where)))
    starts = np.asarray(minutes[0], dtype=np.int64)
    keep = (starts >= plan.detail_start) & (starts < plan.end)
    where = starts[keep] - plan.base
    _scatter(total, where, np.asarray(minutes[1])[keep])
    _scatter(bad, where, np.asarray(minutes[2])[keep])
    if expected is not None and minutes[3] is not None:
        _scatter(expected, where, np.asarray(minutes[3])[keep])
    # Float sums can leave bad a hair above total; labelled can exceed expected when a label
    # arrives for a prediction stored after the window was read.
    bad = np.minimum(bad, total)
    if expected is not None:
        expected = np.maximum(expected, total)
    return SliCounts(total=total, bad=bad, expected=expected, start_minute=plan.base)


def _scatter(target: np.ndarray, where: np.ndarray, values: Sequence[float] | np.ndarray) -> None:
    np.add.at(target, where, np.asarray(values, dtype=np.float64))
