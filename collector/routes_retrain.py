"""GET /v1/models/{name}/retrain-triggers: the retrain webhooks the alert cycle sent for a model
and the ones it held back (cooldown, daily cap), newest first (read scope).

Query: ``from`` / ``to`` (trigger times in [from, to); default the last 7 days), ``status``
(sent | cooldown | capped) and ``limit``. Each sent trigger says whether its webhook was delivered.
Plain ``def`` handler: the read runs in the threadpool.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from collector.auth import require
from collector.routes_read import time_range
from collector.state import get_state
from store.retrain_reads import TriggerRow, read_triggers

router = APIRouter(prefix="/v1", tags=["retrain"])
DEFAULT_RANGE = timedelta(days=7)
MAX_LIMIT = 10_000


def _trigger(r: TriggerRow) -> dict[str, Any]:
    return {
        "id": r.id, "time": r.time.isoformat(), "receiver": r.receiver, "status": r.status,
        "alertnames": list(r.alertnames), "version": r.details.get("version"), "alerts": r.details.get("alerts", []),
        "sent_in_last_24h": r.details.get("sent_in_last_24h"), "next_allowed_at": r.details.get("next_allowed_at"),
        "notification_id": r.details.get("notification_id"), "delivery": r.delivery, "group_key": r.group_key,
    }


@router.get("/models/{name}/retrain-triggers", summary="Retrain webhooks sent and held back (cooldown, daily cap)")
def get_retrain_triggers(
    name: str,
    request: Request,
    start: Annotated[str | None, Query(alias="from", description="RFC 3339 or epoch seconds; default to - 7d")] = None,
    end: Annotated[str | None, Query(alias="to", description="RFC 3339 or epoch seconds; default now")] = None,
    status: Annotated[Literal["sent", "cooldown", "capped"] | None, Query(description="only this status")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 500,
    _token: Any = Depends(require("read")),
) -> dict[str, Any]:
    state = get_state(request)
    model = state.codec(name).model
    since, until = time_range(start, end, DEFAULT_RANGE)
    rows = read_triggers(state.engine, model.name, since, until, limit, status)
    return {"model": model.name, "from": since.isoformat(), "to": until.isoformat(), "truncated": len(rows) == limit,
            "triggers": [_trigger(r) for r in rows]}
