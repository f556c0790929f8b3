"""POST /v1/references: upload a baseline dataset (CSV or Parquet) for a model.

Multipart (a ``file`` part, with ``model`` / ``name`` / ``replace`` as form fields or query
parameters) or the file itself as the body (``text/csv``, ``application/vnd.apache.parquet``,
``application/octet-stream``) with the parameters in the query. A name already used by the
model answers 409 unless ``replace=true``, which needs the admin scope: an ingest token from
serving code can add a baseline but not silently swap the one drift is measured against.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from collector.auth import require
from collector.body import media_type, read_body
from collector.codecs import ModelCodec
from collector.errors import CollectorError, Problem
from collector.references import read_table, reference_rows
from collector.state import CollectorState, get_state
from config.monitors import is_valid_name
from store.catalog import ReferenceExists, ReferenceInfo, write_reference
from store.tokens import TokenInfo

router = APIRouter(prefix="/v1", tags=["references"])
_RAW_TYPES = frozenset({"text/csv", "application/vnd.apache.parquet", "application/x-parquet",
                        "application/parquet", "application/octet-stream"})
_TRUE = ("1", "true", "yes")
_OPENAPI = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "CSV with a header, or Parquet"},
        "model": {"type": "string"}, "name": {"type": "string", "default": "default"},
        "replace": {"type": "boolean", "default": False}}}},
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
}}}


async def _once(data: bytes) -> AsyncGenerator[bytes, None]:
    yield data


async def _from_multipart(request: Request, content: bytes) -> tuple[bytes, dict[str, str]]:
    # The body was already read under the size cap; parse it from memory.
    parser = MultiPartParser(request.headers, _once(content), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise CollectorError(400, f"invalid multipart body: {exc.message}") from None
    fields: dict[str, str] = {}
    upload: UploadFile | None = None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            upload = value
        else:
            fields[key] = value
    if upload is None:
        raise CollectorError(422, "invalid request body", [Problem(None, "file", "a file part is required")])
    data = await upload.read()
    await form.close()
    return data, fields


def _store(state: CollectorState, codec: ModelCodec, name: str, data: bytes, replace: bool,
           actor: str) -> ReferenceInfo:
    rows = reference_rows(codec.model, read_table(data), codec.redactor)
    state.sync_catalog()  # references.model refers to the models table
    try:
        info = write_reference(state.engine, codec.model, name, rows, replace=replace,
                               sha256=hashlib.sha256(data).hexdigest(), actor=actor)
    except ReferenceExists as exc:
        raise CollectorError(409, str(exc)) from None
    state.metrics.ingested_rows.labels("references", codec.model.name).inc(info.n_rows)
    return info


async def _receive(request: Request, state: CollectorState, kind: str, token: TokenInfo, model: str | None,
                   name: str | None, replace: bool | None) -> ReferenceInfo:
    body = await read_body(request, state.settings.max_body_bytes)
    state.metrics.body_bytes.labels("/v1/references").observe(body.received_bytes)
    data, fields = (await _from_multipart(request, body.content)) if kind == "multipart/form-data" else (body.content, {})
    model = model or fields.get("model")
    name = name or fields.get("name") or "default"
    if replace is None:
        replace = fields.get("replace", "").lower() in _TRUE
    if not model:
        raise CollectorError(422, "invalid request parameters", [Problem(None, "model", "required")])
    if not is_valid_name(name):
        raise CollectorError(422, "invalid request parameters", [Problem(None, "name", "letters, digits, _ . - only (1-128)")])
    codec = state.codec(model)
    if replace and not token.allows("admin"):
        raise CollectorError(403, "replacing a reference needs the 'admin' scope")
    return await run_in_threadpool(_store, state, codec, name, data, replace, f"token:{token.name}")


@router.post("/references", status_code=201, openapi_extra=_OPENAPI,
             summary="Upload a reference (baseline) dataset: CSV or Parquet")
async def post_reference(
    request: Request,
    model: Annotated[str | None, Query(description="the model (or a form field)")] = None,
    name: Annotated[str | None, Query(description="reference name (or a form field); default \"default\"")] = None,
    replace: Annotated[bool | None, Query(description="replace a reference of the same name (admin scope)")] = None,
    token: TokenInfo = Depends(require("ingest")),
) -> JSONResponse:
    state = get_state(request)
    kind = media_type(request)
    if kind != "multipart/form-data" and kind not in _RAW_TYPES:
        raise CollectorError(415, f"unsupported content type {kind!r}; send multipart/form-data, text/csv or Parquet")
    async with state.ingest_slots():  # bounded memory: see collector.state.INGEST_CONCURRENCY
        info = await _receive(request, state, kind, token, model, name, replace)
    answer: dict[str, Any] = {"model": info.model, "name": info.name, "n_rows": info.n_rows, "sha256": info.sha256,
                              "created_at": info.created_at.isoformat(), "replaced": info.replaced}
    return JSONResponse(answer, status_code=200 if info.replaced else 201)
