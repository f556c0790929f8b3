"""GET /v1/models/{name}/shadow: the shadow report (read scope) -- per active candidate its
agreement with production, paired accuracy once labels arrive, latency, errors, would-be SLO
burn, per-slice results, replay progress and the promote / hold / reject verdict with reasons.

Query: ``from`` / ``to`` (default the last 7 days: labels arrive late) and ``candidate``.
A plain ``def`` handler: the report reads the store in the threadpool.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from collector.auth import require
from collector.errors import CollectorError
from collector.routes_read import time_range
from collector.state import get_state

router = APIRouter(prefix="/v1", tags=["shadow"])
DEFAULT_RANGE = timedelta(days=7)


@router.get("/models/{name}/shadow", summary="Shadow candidates vs production, with verdicts")
def get_shadow_report(
    name: str,
    request: Request,
    start: Annotated[str | None, Query(alias="from", description="RFC 3339 or epoch seconds; default to - 7 days")] = None,
    end: Annotated[str | None, Query(alias="to", description="RFC 3339 or epoch seconds; default now")] = None,
    candidate: Annotated[str | None, Query(description="only this candidate")] = None,
    _token: Any = Depends(require("read")),
) -> dict[str, Any]:
    state = get_state(request)
    model = state.codec(name).model
    since, until = time_range(start, end, DEFAULT_RANGE)
    # Imported on first use: the report pulls in scipy (~60 MiB, seconds of start-up) that an
    # ingest-only collector never needs.
    from shadow.errors import CandidateNotFound
    from shadow.report import shadow_report

    try:
        return shadow_report(state.engine, model, since, until, candidate=candidate).to_dict()
    except CandidateNotFound as exc:
        raise CollectorError(404, str(exc)) from None
