"""POST /v1/silences, GET /v1/silences, DELETE /v1/silences/{id}.

Listing needs the read scope (as anyone may read Alertmanager's silences); creating and expiring
need admin and are audited.

A silence mutes firing alerts whose labels match all its matchers (Alertmanager syntax, e.g.
``model="fraud-detector"``, ``severity=~"page|ticket"``) from ``starts_at`` until ``ends_at``;
DELETE expires it now. Plain ``def`` handlers: the store calls block, so they run in the threadpool.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from alerts.silence_service import create_silence, expire_silence, list_silences
from collector.auth import require
from collector.errors import CollectorError, Problem
from collector.state import get_state
from config.durations import Duration
from store.tokens import TokenInfo

router = APIRouter(prefix="/v1", tags=["silences"])


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matchers: list[str] = Field(min_length=1, description='e.g. ["model=\\"fraud-detector\\"", "severity=\\"page\\""]')
    author: str = Field(min_length=1, max_length=128)
    comment: str = Field(min_length=1, max_length=4096)
    starts_at: AwareDatetime | None = Field(default=None, description="default: now")
    ends_at: AwareDatetime | None = Field(default=None, description="give ends_at or duration")
    duration: Duration | None = Field(default=None, description="e.g. 2h")


def _actor(token: TokenInfo) -> str:
    return f"token:{token.name}"


def _invalid(exc: Exception) -> CollectorError:
    if isinstance(exc, ValidationError):
        problems = [Problem(None, ".".join(str(p) for p in e["loc"]) or "silence", e["msg"].removeprefix("Value error, "))
                    for e in exc.errors()]
    else:
        problems = [Problem(None, "silence", str(exc))]
    return CollectorError(422, "invalid silence", problems)


async def _silence_body(request: Request, token: TokenInfo = Depends(require("admin"))) -> tuple[SilenceIn, TokenInfo]:
    # The body is read only after the token is checked: FastAPI parses a declared body before
    # any dependency, so a caller without a token would learn about malformed JSON (400).
    try:
        return SilenceIn.model_validate_json(await request.body()), token
    except ValidationError as exc:
        raise _invalid(exc) from None


_SILENCE_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": SilenceIn.model_json_schema()}}}}


@router.post("/silences", status_code=201, summary="Create a silence", openapi_extra=_SILENCE_BODY)
def post_silence(request: Request, checked: tuple[SilenceIn, TokenInfo] = Depends(_silence_body)) -> dict[str, Any]:
    body, token = checked
    state = get_state(request)
    now = datetime.now(timezone.utc)
    try:
        silence = create_silence(state.engine, body.matchers, body.author, body.comment, now, duration=body.duration,
                                 starts_at=body.starts_at, ends_at=body.ends_at, actor=_actor(token))
    except (ValueError, ValidationError) as exc:
        raise _invalid(exc) from None
    return {"id": silence.id, "starts_at": silence.starts_at.isoformat(), "ends_at": silence.ends_at.isoformat(),
            "matchers": [str(m) for m in silence.matchers]}


@router.get("/silences", summary="Active and pending silences (all=true: expired too)")
def get_silences(request: Request, include_expired: Annotated[bool, Query(alias="all")] = False,
                 _token: TokenInfo = Depends(require("read"))) -> dict[str, Any]:
    views = list_silences(get_state(request).engine, datetime.now(timezone.utc), include_expired)
    return {"silences": [v.as_dict() for v in views]}


@router.delete("/silences/{silence_id}", summary="Expire a silence now")
def delete_silence(silence_id: str, request: Request, token: TokenInfo = Depends(require("admin"))) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    if not expire_silence(get_state(request).engine, silence_id, now, actor=_actor(token)):
        raise CollectorError(404, f"no running or pending silence {silence_id!r}")
    return {"id": silence_id, "expired_at": now.isoformat()}
