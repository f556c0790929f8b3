"""GET /v1/models/{name}/cost: cost per 1,000 predictions and spend per day (read scope).

Query ``from`` / ``to`` (default the last 7 days), widened to whole UTC hours: the answer says
which range it priced. Figures come from the exact request counters and the model's cost models
in the monitors YAML; conventions and a worked example in docs/cost.md. A plain ``def`` handler:
the read runs in the threadpool.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from analysis.cost import CostSummary, DayProjection, DaySpend, VersionCost
from analysis.cost_figures import cost_report
from collector.auth import require
from collector.errors import CollectorError, Problem
from collector.routes_read import time_range
from collector.state import get_state
from store.types import utc_now

router = APIRouter(prefix="/v1", tags=["read"])
DEFAULT_RANGE = timedelta(days=7)
# request_counters are kept 400 days (store.retention): a longer range prices nothing more.
MAX_RANGE = timedelta(days=400)


def _totals(s: CostSummary) -> dict[str, Any]:
    return {"requests": s.requests, "unpriced_requests": s.unpriced_requests, "fleet_cost": s.fleet_cost,
            "request_cost": s.request_cost, "cost": s.cost, "per_1k_predictions": s.per_1k_predictions}


def _version(v: VersionCost) -> dict[str, Any]:
    price = v.price
    return {"version": v.version, "priced": price is not None, "requests": v.requests, "active_hours": v.active_hours,
            "per_hour": price.per_hour if price else None, "per_request": price.per_request if price else None,
            "fleet_cost": v.fleet_cost, "request_cost": v.request_cost, "cost": v.cost,
            "per_1k_predictions": v.per_1k_predictions}


def _day(d: DaySpend) -> dict[str, Any]:
    return {"day": d.day.isoformat(), "from": d.summary.start.isoformat(), "to": d.summary.end.isoformat(),
            "complete": d.complete, **_totals(d.summary)}


def _today(p: DayProjection) -> dict[str, Any]:
    return {"day": p.day.isoformat(), "at": p.now.isoformat(), "requests": p.summary.requests, "spent": p.spent,
            "projected": p.projected}


@router.get("/models/{name}/cost", summary="Cost per 1,000 predictions and spend per UTC day in [from, to)")
def get_cost(
    name: str,
    request: Request,
    start: Annotated[str | None, Query(alias="from",
                                       description="RFC 3339 or epoch seconds; default to - 7 days")] = None,
    end: Annotated[str | None, Query(alias="to", description="RFC 3339 or epoch seconds; default now")] = None,
    _token: Any = Depends(require("read")),
) -> dict[str, Any]:
    state = get_state(request)
    model = state.codec(name).model
    if not model.costs:
        raise CollectorError(404, f"model {model.name!r} declares no cost model",
                             [Problem(None, "costs", "add costs: to its entry in the monitors config")])
    since, until = time_range(start, end, DEFAULT_RANGE)
    if until - since > MAX_RANGE:
        raise CollectorError(422, "invalid request parameters",
                             [Problem(None, "from", "the range may span at most 400 days")])
    with state.engine.connect() as conn:
        report = cost_report(conn, model, since, until, utc_now())
    s = report.summary
    return {"model": model.name, "from": s.start.isoformat(), "to": s.end.isoformat(),
            "currency": model.costs[0].currency,  # one per model: config.monitors checks it
            **_totals(s), "versions": [_version(v) for v in s.versions],
            "days": [_day(d) for d in report.days], "today": _today(report.today),
            "thresholds": model.cost_alerts.model_dump(mode="json") if model.cost_alerts else None}
