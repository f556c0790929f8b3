"""A collector app on a fresh SQLite database with one token per scope, for hostile-input tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from collector.app import create_app
from store.tokens import create_token
from tests.collector.conftest import Collector, make_settings, monitors_for_tests
from tests.collector.conftest import start_collector  # noqa: F401 -- a fixture, shared


@pytest.fixture
def hostile_collector(sqlite_engine: Engine) -> Iterator[Collector]:
    # A body limit large enough for the huge-string payloads to reach validation, not just 413.
    app = create_app(make_settings(max_body_bytes=8 * 1024 * 1024), engine=sqlite_engine, monitors=monitors_for_tests())
    with TestClient(app, raise_server_exceptions=False) as client:
        tokens = {scope: create_token(sqlite_engine, [scope], f"hostile-{scope}") for scope in ("ingest", "read", "admin")}
        yield Collector(client, sqlite_engine, tokens)
