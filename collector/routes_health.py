"""GET /healthz, /readyz, /metrics: answered without a token (probes and scrapers have none)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from collector.errors import DATABASE_DOWN
from collector.state import get_state
from store.reads import ping

router = APIRouter(tags=["health"])
logger = logging.getLogger("modelwatch.collector")


@router.get("/healthz", summary="The process is alive (no dependencies checked)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers: 200, else 503")
def readyz(request: Request) -> JSONResponse:
    state = get_state(request)
    try:
        ping(state.engine)
        # A collector started while the database was down syncs its catalog once it is back.
        state.sync_catalog()
    except DATABASE_DOWN as exc:
        logger.info("not ready: database unavailable (%s)", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503,
                            headers={"Retry-After": str(state.settings.retry_after_seconds)})
    return JSONResponse({"status": "ready", "database": "ok"})


@router.get("/metrics", summary="Prometheus metrics of this collector")
def metrics(request: Request) -> Response:
    return Response(generate_latest(get_state(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
