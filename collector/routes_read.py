"""GET /v1/models, /v1/models/{name}, /v1/models/{name}/summary (read scope).

Plain ``def`` handlers: FastAPI runs them in the threadpool, where blocking reads belong.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from collector.auth import require
from collector.errors import CollectorError, Problem
from collector.state import get_state
from config.monitors import Model
from store.reads import model_summary

router = APIRouter(prefix="/v1", tags=["read"])
DEFAULT_RANGE = timedelta(hours=24)


def describe(model: Model) -> dict[str, Any]:
    """The model as declared: task, classes, features with types, slices, sampling, PII fields."""
    return model.model_dump(mode="json")


def parse_time(text: str, name: str) -> datetime:
    """RFC 3339 (``Z`` or an offset; naive means UTC) or epoch seconds -> aware UTC."""
    try:
        value = datetime.fromtimestamp(float(text), timezone.utc)
    except ValueError:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise CollectorError(422, "invalid request parameters",
                                 [Problem(None, name, "expected RFC 3339 time or epoch seconds")]) from None
    except (OverflowError, OSError):
        raise CollectorError(422, "invalid request parameters", [Problem(None, name, "time out of range")]) from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def time_range(start: str | None, end: str | None, default: timedelta) -> tuple[datetime, datetime]:
    """The ``from`` / ``to`` query pair as aware UTC times: ``to`` defaults to now, ``from`` to
    ``to - default``. Raises CollectorError 422 for an unreadable time or ``from >= to``."""
    until = parse_time(end, "to") if end else datetime.now(timezone.utc)
    since = parse_time(start, "from") if start else until - default
    if since >= until:
        raise CollectorError(422, "invalid request parameters", [Problem(None, "from", "must be before to")])
    return since, until


@router.get("/models", summary="Declared models with their schemas")
def list_models(request: Request, _token: Any = Depends(require("read"))) -> dict[str, Any]:
    return {"models": [describe(m) for m in get_state(request).monitors.models]}


@router.get("/models/{name}", summary="One declared model with its schema")
def get_model(name: str, request: Request, _token: Any = Depends(require("read"))) -> dict[str, Any]:
    return describe(get_state(request).codec(name).model)


@router.get("/models/{name}/summary", summary="Counts of predictions, labels, requests and errors in [from, to)")
def get_summary(
    name: str,
    request: Request,
    start: Annotated[str | None, Query(alias="from", description="RFC 3339 or epoch seconds; default to - 24h")] = None,
    end: Annotated[str | None, Query(alias="to", description="RFC 3339 or epoch seconds; default now")] = None,
    _token: Any = Depends(require("read")),
) -> dict[str, Any]:
    state = get_state(request)
    model = state.codec(name).model
    since, until = time_range(start, end, DEFAULT_RANGE)
    summary = model_summary(state.engine, model.name, since, until)
    out = dataclasses.asdict(summary)
    out["from"], out["to"] = out.pop("start").isoformat(), out.pop("end").isoformat()
    out["versions"] = list(summary.versions)
    return out
