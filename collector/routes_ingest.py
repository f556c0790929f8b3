"""POST /v1/predictions, /v1/labels, /v1/counters.

The handlers are ``async`` only to read the body (with its size cap) on the event loop; decoding
and the database write run in the threadpool, so one slow COPY never stalls other requests and
the loop keeps accepting. One threadpool hop per batch is noise next to decoding the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from collector import ingest
from collector.auth import require
from collector.body import body_format, read_body
from collector.openapi import body_spec, ref
from collector.state import CollectorState, get_state
from collector.wire import Accepted

router = APIRouter(prefix="/v1", tags=["ingest"])


def _responses() -> dict[int | str, dict[str, Any]]:
    error = {"application/json": {"schema": ref("ErrorBody")}}
    out: dict[int | str, dict[str, Any]] = {
        200: {"description": "Stored (rejected rows listed)", "content": {"application/json": {"schema": ref("Accepted")}}},
    }
    for status, text in ((401, "Missing or unknown token"), (403, "Token lacks the ingest scope"),
                         (404, "Unknown model"), (413, "Body or batch too large"),
                         (415, "Unsupported content type"), (422, "Every row invalid, or any with all_or_nothing"),
                         (503, "Database unavailable: nothing stored, retry after Retry-After seconds")):
        out[status] = {"description": text, "content": error}
    return out


def _query(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}


_NDJSON = [_query("model", "NDJSON: the model"), _query("batch_id", "NDJSON: the batch id"),
           _query("all_or_nothing", "NDJSON: true to store nothing when a row is bad")]
_VERSION = _query("version", "NDJSON: the version")
_BOUNDS = _query("bounds_ms", "NDJSON: comma-separated latency bucket bounds in ms")

Work = Callable[[CollectorState, bytes, str, Mapping[str, str]], ingest.Outcome]


async def _ingest(request: Request, work: Work, route: str) -> Response:
    state = get_state(request)
    fmt = body_format(request)
    # The body is read only once a slot is free, so waiting requests hold no memory.
    async with state.ingest_slots():
        body = await read_body(request, state.settings.max_body_bytes)
        state.metrics.body_bytes.labels(route).observe(body.received_bytes)
        outcome = await run_in_threadpool(work, state, body.content, fmt, request.query_params)
    answer = Accepted(outcome.accepted, outcome.duplicates, [p.as_dict() for p in outcome.problems])
    return Response(msgspec.json.encode(answer), media_type="application/json")


@router.post("/predictions", responses=_responses(), openapi_extra=body_spec(["PredictionBatch", "ColumnarPredictionBatch"], _NDJSON + [_VERSION]),
             summary="Store sampled predictions (JSON batch or NDJSON)")
async def post_predictions(request: Request, _token: Any = Depends(require("ingest"))) -> Response:
    return await _ingest(request, ingest.ingest_predictions, "/v1/predictions")


@router.post("/labels", responses=_responses(), openapi_extra=body_spec("LabelBatch", _NDJSON),
             summary="Store ground-truth labels, joined to predictions by prediction_id")
async def post_labels(request: Request, _token: Any = Depends(require("ingest"))) -> Response:
    return await _ingest(request, ingest.ingest_labels, "/v1/labels")


@router.post("/counters", responses=_responses(), openapi_extra=body_spec("CounterBatch", _NDJSON + [_VERSION, _BOUNDS]),
             summary="Store exact request counters (per-minute deltas)")
async def post_counters(request: Request, _token: Any = Depends(require("ingest"))) -> Response:
    return await _ingest(request, ingest.ingest_counters, "/v1/counters")
