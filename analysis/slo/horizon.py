"""Which counts one evaluation of an SLO needs, and how to lay them out for ``evaluate_slo``.

An evaluation at minute ``end`` needs window sums, never every minute of a 30-day window. The
plan cuts time into rings at every window start, each read as one sum (a SQL GROUP BY over
rings):

- windows of up to ``MINUTE_RESOLUTION`` (6 h: the 5m..6h rule windows) start exactly on their
  minute; these rings lie after ``detail_start = floor_hour(end - delay - 6h)`` and are read from
  the raw rows;
- longer windows (1d, 3d rules and the SLO window) start on an hour, so the rings before
  ``detail_start`` are whole hours (served by an hourly rollup for counter SLOs). A 1-day window
  is then up to 59 minutes longer than a day (4 % of it; 0.1 % of 30 days).

``assemble`` puts each ring's sum on the ring's last minute of an otherwise empty minute series,
so every window sum ``evaluate_slo`` takes equals the planned window's sum. The series starts at
the first ring a rule window needs: the older part of the SLO window sits on its first minute,
which ``evaluate_slo``'s SLO-window sum (clipped at the series start) includes. Timeslice
budgeting classifies every slice, so its plan reads every minute instead.
"""

from __future__ import annotations

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
    """Epoch minutes. ``edges``: ring starts, ascending; ring ``i`` is ``[edges[i], edges[i+1])``
    and the last ends at ``end``. Rings before ``detail_start`` are whole hours. With
    ``per_minute`` every minute of ``[edges[0], end)`` is read instead (timeslice budgeting)."""

    end: int
    detail_start: int
    edges: tuple[int, ...]
    base: int  # first minute of the assembled series
    per_minute: bool = False

    @property
    def hour_edges(self) -> tuple[int, ...]:
        """Ring starts before ``detail_start`` (whole hours)."""
        return tuple(e for e in self.edges if e < self.detail_start)

    @property
    def minute_edges(self) -> tuple[int, ...]:
        """Ring starts from ``detail_start`` on (exact minutes)."""
        return tuple(e for e in self.edges if e >= self.detail_start)

    def ring_last_minutes(self) -> np.ndarray:
        return np.asarray((*self.edges[1:], self.end), dtype=np.int64) - 1


def plan_reads(spec: SloSpec, end: int) -> ReadPlan:
    """The reads for evaluating ``spec`` on complete minutes before epoch minute ``end``."""
    at = end - _minutes(spec.evaluation_delay)
    budget_start = at - _minutes(spec.window)
    rule_starts = [at - _minutes(w) for rule in spec.alerts for w in (rule.long_window, rule.short_window)]
    if spec.budgeting is Budgeting.timeslice and spec.kind is not SloKind.drift_free:
        first = min(budget_start, *rule_starts)
        return ReadPlan(end=end, detail_start=first, edges=(first,), base=first, per_minute=True)
    # Not earlier than needed: an SLO whose windows all fit in 6 h reads minutes only.
    detail_start = max(_floor_hour(at - _minutes(MINUTE_RESOLUTION)), _floor_hour(min(budget_start, *rule_starts)))

    def edge(start: int) -> int:
        return start if start >= detail_start else _floor_hour(start)

    rule_edges = {edge(s) for s in rule_starts}
    # detail_start splits rolled-up hours from raw minutes; `at` keeps minutes after the windows
    # (evaluation_delay) out of the last ring.
    edges = sorted(e for e in rule_edges | {edge(budget_start), detail_start, at} if e < end)
    base = edges[0]
    if edge(budget_start) < min(rule_edges):
        # The SLO window's oldest part is one ring that only its own sum needs: start the series
        # at that ring's last minute instead of 30 days back (10x less to evaluate).
        base = edges[1] - 1 if len(edges) > 1 else end - 1
    return ReadPlan(end=end, detail_start=detail_start, edges=tuple(edges), base=base)


def assemble(
    plan: ReadPlan,
    total: np.ndarray,
    bad: np.ndarray,
    expected: np.ndarray | None = None,
    starts: np.ndarray | None = None,
) -> SliCounts:
    """The series for ``evaluate_slo``: ``total``, ``bad`` (and quality's ``expected``) per ring
    of ``plan`` in edge order, or, for a per-minute plan, per minute at ``starts``."""
    n = plan.end - plan.base
    where = (np.asarray(starts, dtype=np.int64) if plan.per_minute else plan.ring_last_minutes()) - plan.base
    keep = (where >= 0) & (where < n)
    series: list[np.ndarray | None] = []
    for values in (total, bad, expected):
        if values is None:
            series.append(None)
            continue
        array = np.zeros(n)
        np.add.at(array, where[keep], np.asarray(values, dtype=np.float64)[keep])
        series.append(array)
    total_s, bad_s, expected_s = series
    assert total_s is not None and bad_s is not None
    # Float sums can leave bad a hair above total; labelled can exceed expected when a label
    # arrives for a prediction stored after the window was read.
    bad_s = np.minimum(bad_s, total_s)
    if expected_s is not None:
        expected_s = np.maximum(expected_s, total_s)
    return SliCounts(total=total_s, bad=bad_s, expected=expected_s, start_minute=plan.base)
