"""Cost figures of declared models, read from the store at a given time: the one shell the API,
/metrics, the alert cycle and the dashboard share (the math is analysis.cost, pure).

- ``cost_report``: one model over a range (widened to whole UTC hours), per version and per
  UTC day, with the spend of ``now``'s day so far and projected.
- ``cost_snapshots``: every priced model at ``now``: the 24 complete hours before the current
  hour, the last full UTC day and today (what /metrics serves and cost alerts judge).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from analysis.cost import (
    DAY, HOUR, CostSummary, DayProjection, DaySpend, daily_spend, day_start, floor_hour, hour_range, project_day,
    summarize,
)
from config.monitors import Model
from store.cost_reads import VersionHour, hourly_requests

__all__ = ["CostReport", "CostSnapshot", "cost_report", "cost_snapshots"]

TRAILING = 24 * HOUR


@dataclass(frozen=True)
class CostReport:
    model: str
    summary: CostSummary  # over the range, whole hours
    days: tuple[DaySpend, ...]  # every UTC day the range touches
    today: DayProjection  # ``now``'s day, whatever the range


@dataclass(frozen=True)
class CostSnapshot:
    model: str
    currency: str
    trailing: CostSummary  # the 24 complete clock hours before the current one
    last_day: DaySpend  # the UTC day before today, complete
    today: DayProjection


def _today_rows(conn: Connection, name: str, now: datetime) -> list[VersionHour]:
    # The hour before midnight too: a version serving then is still serving (project_day).
    return hourly_requests(conn, [name], day_start(now) - HOUR, day_start(now) + DAY).get(name, [])


def cost_report(conn: Connection, model: Model, start: datetime, end: datetime, now: datetime) -> CostReport:
    """The cost of ``model`` over ``[start, end)`` widened to whole UTC hours. Raises ValueError
    when the model declares no cost model."""
    if not model.costs:
        raise ValueError(f"model {model.name!r} declares no costs")
    start, end = hour_range(start, end)
    rows = hourly_requests(conn, [model.name], start, end).get(model.name, [])
    today = project_day(_today_rows(conn, model.name, now), model.cost_model, now)
    return CostReport(model.name, summarize(rows, model.cost_model, start, end),
                      daily_spend(rows, model.cost_model, start, end, now), today)


def cost_snapshots(conn: Connection, models: Sequence[Model], now: datetime) -> dict[str, CostSnapshot]:
    """``model -> CostSnapshot`` at ``now`` for every model in ``models`` with costs, one read."""
    priced = [m for m in models if m.costs]
    today, current = day_start(now), floor_hour(now)
    rows = hourly_requests(conn, [m.name for m in priced], today - DAY, current + HOUR)
    out: dict[str, CostSnapshot] = {}
    for m in priced:
        mine = rows.get(m.name, [])
        trailing = summarize(mine, m.cost_model, current - TRAILING, current)
        (last_day,) = daily_spend(mine, m.cost_model, today - DAY, today, now)
        out[m.name] = CostSnapshot(m.name, m.costs[0].currency, trailing, last_day, project_day(mine, m.cost_model, now))
    return out
