"""Nothing but health, readiness, metrics and the API docs answers without a token: every route
of the real app (walked through app.routes, included routers too), every method it declares."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from tests.collector.conftest import FRAUD, Collector

OPEN = {"/healthz", "/readyz", "/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json"}


def leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Routes with a path; FastAPI's included routers and Starlette mounts are walked into."""
    for route in routes:
        if hasattr(route, "effective_candidates"):  # fastapi _IncludedRouter (starlette 1.x)
            yield from leaf_routes(route.effective_candidates())
        elif getattr(route, "routes", None):  # Mount
            yield from leaf_routes(route.routes)
        else:
            yield route


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: FRAUD if m.group(1) == "name" else "x", path)


def test_only_probes_metrics_and_docs_answer_without_a_token(hostile_collector: Collector) -> None:
    client = hostile_collector.client
    app: Any = client.app
    routes = [(r.path, sorted(r.methods - {"HEAD"})) for r in leaf_routes(app.routes)]
    assert len(routes) >= 20 and {p for p, _ in routes} >= OPEN
    answered = set()
    for path, methods in routes:
        for method in methods:
            for headers in ({}, {"Authorization": "Bearer mw_forged"}, {"Authorization": "Basic YTpi"}):
                response = client.request(method, concrete(path), headers=headers)
                if response.status_code < 400:
                    answered.add(path)
                elif path not in OPEN:
                    assert response.status_code == 401, (method, path, headers, response.status_code)
                    assert response.headers["www-authenticate"] == "Bearer"
    # Everything that answered is open; every open path answered (the OAuth2 redirect page may not).
    assert answered <= OPEN, answered - OPEN
    assert OPEN - {"/docs/oauth2-redirect"} <= answered
