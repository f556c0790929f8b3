"""The fleet table: one row per model, ordered by risk (pure).

Risk order: paging now, then a ticket firing, then the least error budget left (a budget
that runs out soonest first), then availability. A model without data is shown, never
hidden, and ranks after models that burn: it needs a look, not a page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from store.dashboard_reads_alerts import SloStatus
from store.dashboard_reads_analysis import AccuracyProxy

__all__ = ["FleetRow", "fleet_rows", "risk_label"]

LOW_BUDGET = 0.25  # below a quarter of the budget left, a model is "at risk"


@dataclass(frozen=True)
class FleetRow:
    model: str
    team: str | None
    requests: int
    availability: float | None  # 1 - errors / requests over the range
    worst_slo: str | None  # the SLO with the least budget left
    budget_remaining: float | None
    time_to_exhaustion_s: float | None
    accuracy: AccuracyProxy | None
    deploys_per_week: float
    pages: int  # firing alerts by severity
    tickets: int
    risk: str


def risk_label(pages: int, tickets: int, budget: float | None, requests: int) -> str:
    """paging | ticket | budget low | no traffic | ok."""
    if pages:
        return "paging"
    if tickets:
        return "ticket"
    if budget is not None and budget < LOW_BUDGET:
        return "budget low"
    if requests == 0:
        return "no traffic"
    return "ok"


_ORDER = {"paging": 0, "ticket": 1, "budget low": 2, "no traffic": 3, "ok": 4}


def _sort_key(row: FleetRow) -> tuple:
    budget = row.budget_remaining if row.budget_remaining is not None else math.inf
    availability = row.availability if row.availability is not None else math.inf
    return (_ORDER[row.risk], -row.pages, budget, availability, row.model)


def fleet_rows(models: Sequence[tuple[str, str | None]], traffic: Mapping[str, tuple[int, int]],
               statuses: Sequence[SloStatus], accuracy: Mapping[str, AccuracyProxy], deploys: Mapping[str, int],
               open_alerts: Mapping[str, Mapping[str, int]], range_days: float) -> list[FleetRow]:
    """Rows for ``models`` ((name, team) pairs), riskiest first."""
    rows = []
    for name, team in models:
        requests, errors = traffic.get(name, (0, 0))
        mine = [s for s in statuses if s.model == name and s.budget_remaining is not None]
        worst = min(mine, key=lambda s: s.budget_remaining) if mine else None  # type: ignore[arg-type,return-value]
        alerts = open_alerts.get(name, {})
        pages, tickets = alerts.get("page", 0), alerts.get("ticket", 0)
        budget = worst.budget_remaining if worst else None
        rows.append(FleetRow(
            model=name, team=team, requests=requests,
            availability=(1.0 - errors / requests) if requests else None,
            worst_slo=worst.slo if worst else None, budget_remaining=budget,
            time_to_exhaustion_s=worst.time_to_exhaustion_s if worst else None,
            accuracy=accuracy.get(name), deploys_per_week=deploys.get(name, 0) * 7.0 / max(range_days, 1e-9),
            pages=pages, tickets=tickets, risk=risk_label(pages, tickets, budget, requests),
        ))
    return sorted(rows, key=_sort_key)
