"""GET /v1/models/{name}/canary: the canary analysis (read scope) -- the canary version against
the stable one over the same window: error rate, latency percentiles, prediction distribution,
drift against the reference, accuracy once labels arrive, and the promote / rollback /
keep_watching verdict with reasons.

Query: ``from`` / ``to`` (default: the model's ``canary.window`` ending now), ``stable`` and
``canary`` (default: chosen as docs/canary.md says). A plain ``def`` handler: the analysis reads
the store in the threadpool.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from collector.auth import require
from collector.errors import CollectorError, Problem
from collector.routes_read import time_range
from collector.state import get_state

router = APIRouter(prefix="/v1", tags=["canary"])
VERSION_MAX = 128  # the store's version column


@router.get("/models/{name}/canary", summary="Canary vs stable version over one window, with a verdict")
def get_canary_report(
    name: str,
    request: Request,
    start: Annotated[str | None, Query(alias="from", description="RFC 3339 or epoch seconds; default to - canary.window")] = None,
    end: Annotated[str | None, Query(alias="to", description="RFC 3339 or epoch seconds; default now")] = None,
    stable: Annotated[str | None, Query(max_length=VERSION_MAX, description="the stable version")] = None,
    canary: Annotated[str | None, Query(max_length=VERSION_MAX, description="the canary version")] = None,
    _token: Any = Depends(require("read")),
) -> dict[str, Any]:
    state = get_state(request)
    model = state.codec(name).model
    since, until = time_range(start, end, model.canary.window)
    if stable is not None and stable == canary:
        raise CollectorError(422, "invalid request parameters",
                             [Problem(None, "canary", "must differ from stable")])
    # Imported on first use: the analysis pulls in scipy (~60 MiB, seconds of start-up) that an
    # ingest-only collector never needs.
    from analysis.canary.report import canary_report
    from analysis.canary.roles import CanaryError

    try:
        return canary_report(state.engine, model, since, until, stable=stable, canary=canary).to_dict()
    except CanaryError as exc:
        raise CollectorError(404, str(exc)) from None
