"""GET /v1/models/{name}/drift, /quality, /performance, /freshness: stored analysis results
(read scope).

Query: ``from`` / ``to`` (windows starting in [from, to); default the last 24 h), ``slice``
(``key=value`` one slice value, ``key`` every value of a key, ``*`` every slice; default the
whole window), ``version`` (default ``*``: all versions together), optional ``metric`` and
``feature`` filters and ``limit``. Plain ``def`` handlers: reads run in the threadpool.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from collector.auth import require
from collector.errors import CollectorError, Problem
from collector.routes_read import time_range
from collector.state import get_state
from store.analysis_results import ALL_VERSIONS, StoredResult, read_results

router = APIRouter(prefix="/v1", tags=["results"])
DEFAULT_RANGE = timedelta(hours=24)
MAX_LIMIT = 100_000


def _slice_filter(text: str | None) -> tuple[str | None, str | None]:
    """(slice_key, slice_value) for read_results: "" whole window, None every."""
    if text is None or text == "":
        return "", ""
    if text == "*":
        return None, None
    key, sep, value = text.partition("=")
    if not key:
        raise CollectorError(422, "invalid request parameters", [Problem(None, "slice", "expected key=value, key or *")])
    return key, (value if sep else None)


def _row(r: StoredResult) -> dict[str, Any]:
    return {"window_start": r.window_start.isoformat(), "window_end": r.window_end.isoformat(),
            "version": r.version, "slice_key": r.slice_key, "slice_value": r.slice_value, "metric": r.metric,
            "feature": r.feature, "value": r.value, "threshold": r.threshold, "status": r.status, "n": r.n,
            "details": r.details, "computed_at": r.computed_at.isoformat()}


def _results(kind: str, name: str, request: Request, start: str | None, end: str | None, slice_: str | None,
             version: str, metric: str | None, feature: str | None, limit: int) -> dict[str, Any]:
    state = get_state(request)
    model = state.codec(name).model
    since, until = time_range(start, end, DEFAULT_RANGE)
    slice_key, slice_value = _slice_filter(slice_)
    rows = read_results(state.engine, model.name, kind, since, until, version=version, slice_key=slice_key,
                        slice_value=slice_value, metric=metric, feature=feature, limit=limit)
    return {"model": model.name, "kind": kind, "from": since.isoformat(), "to": until.isoformat(),
            "version": version, "slice": slice_ or "", "truncated": len(rows) == limit,
            "results": [_row(r) for r in rows]}


def _route(kind: str, summary: str) -> None:
    def handler(
        name: str,
        request: Request,
        start: Annotated[str | None, Query(alias="from", description="RFC 3339 or epoch seconds; default to - 24h")] = None,
        end: Annotated[str | None, Query(alias="to", description="RFC 3339 or epoch seconds; default now")] = None,
        slice_: Annotated[str | None, Query(alias="slice", description="key=value, key (every value) or *")] = None,
        version: Annotated[str, Query(description="model version; * = all versions together")] = ALL_VERSIONS,
        metric: Annotated[str | None, Query(description="only this metric (e.g. psi, accuracy, range)")] = None,
        feature: Annotated[str | None, Query(description="only this feature")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10_000,
        _token: Any = Depends(require("read")),
    ) -> dict[str, Any]:
        return _results(kind, name, request, start, end, slice_, version, metric, feature, limit)

    router.add_api_route(f"/models/{{name}}/{kind}", handler, methods=["GET"], summary=summary,
                         name=f"get_{kind}_results")


_route("drift", "Drift results per window, feature and statistic (with decisions and worst slices)")
_route("quality", "Data-quality findings per window and feature")
_route("performance", "Performance from delayed labels, label coverage and lag, expected accuracy, worst slices")
_route("freshness", "Feature freshness: lag percentiles (p50, p90, p99, max) of the stalest feature and per feature")
