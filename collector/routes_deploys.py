"""POST /v1/deploys (ingest or admin scope) and GET /v1/models/{name}/deploys (read scope).

Deploy tooling records each rollout: the model, the version now serving, optionally the
artifact's SHA-256 and a note. The collector also infers a deploy when traffic from a version it
has never seen arrives (store.writes.note_versions), so a rollout nobody recorded still shows.
Plain ``def`` handlers: the store calls block, so they run in the threadpool.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from collector.auth import require
from collector.errors import CollectorError, Problem
from collector.routes_read import time_range
from collector.state import get_state
from store.deploy_reads import list_deploys
from store.deploys import ARTIFACT_PATTERN, VERSION_PATTERN, deploy_problems, record_deploy
from store.tokens import TokenInfo
from store.types import utc_now

router = APIRouter(prefix="/v1", tags=["deploys"])
DEFAULT_RANGE = timedelta(days=30)


class DeployIn(BaseModel):
    # Patterns are checked by store.deploys.deploy_problems (the CLI shares it); here they only
    # document the API.
    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=128, description="a model declared in the monitors config")
    version: Annotated[str, WithJsonSchema({"type": "string", "pattern": VERSION_PATTERN})]
    artifact_sha256: Annotated[str, WithJsonSchema({"type": "string", "pattern": ARTIFACT_PATTERN})] | None = Field(
        default=None, description="SHA-256 of the deployed artifact (64 hex)")
    note: str | None = Field(default=None, max_length=4096)
    time: AwareDatetime | None = Field(default=None, description="when it went live; default now")


def _invalid(problems: list[Problem]) -> CollectorError:
    return CollectorError(422, "invalid deploy", problems)


async def _deploy_body(request: Request, token: TokenInfo = Depends(require("ingest"))) -> tuple[DeployIn, TokenInfo]:
    # The body is read only after the token is checked (as for silences): a caller without a
    # token learns nothing about how its body would have been judged.
    try:
        return DeployIn.model_validate_json(await request.body()), token
    except ValidationError as exc:
        raise _invalid([Problem(None, ".".join(str(p) for p in e["loc"]) or "deploy", e["msg"])
                        for e in exc.errors()]) from None


_DEPLOY_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": DeployIn.model_json_schema()}}}}


@router.post("/deploys", status_code=201, summary="Record a deploy of a model version", openapi_extra=_DEPLOY_BODY)
def post_deploy(request: Request, checked: tuple[DeployIn, TokenInfo] = Depends(_deploy_body)) -> dict[str, Any]:
    body, token = checked
    state = get_state(request)
    now = utc_now()
    problems = deploy_problems(body.model, body.version, body.artifact_sha256, body.note, body.time,
                               [m.name for m in state.monitors.models], now)
    if problems:
        raise _invalid([Problem(None, field, message) for field, message in problems])
    state.sync_catalog()  # model_versions refers to the models table
    event = record_deploy(state.engine, body.model, body.version, source="api", actor=f"token:{token.name}",
                          time=body.time or now, artifact_sha256=body.artifact_sha256, note=body.note)
    return event.as_dict()


@router.get("/models/{name}/deploys", summary="Deploys of a model in [from, to), newest first")
def get_deploys(
    name: str,
    request: Request,
    start: Annotated[str | None, Query(alias="from", description="RFC 3339 or epoch seconds; default to - 30d")] = None,
    end: Annotated[str | None, Query(alias="to", description="RFC 3339 or epoch seconds; default now")] = None,
    _token: TokenInfo = Depends(require("read")),
) -> dict[str, Any]:
    state = get_state(request)
    model = state.codec(name).model
    since, until = time_range(start, end, DEFAULT_RANGE)
    events = list_deploys(state.engine, model.name, since, until)
    return {"model": model.name, "from": since.isoformat(), "to": until.isoformat(),
            "deploys": [e.as_dict() for e in events]}
