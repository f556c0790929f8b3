"""Collector fixtures: a real app (TestClient, lifespan run) on a real database, with tokens.

``collector`` runs on SQLite; ``any_collector`` on SQLite and PostgreSQL (the ``engine``
fixture of tests/conftest.py). Each test gets its own app, registry and database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from collector.app import create_app
from config.loader import default_monitors_path, load_monitors, parse_monitors
from config.monitors import Monitors
from config.settings import Settings
from store.tokens import create_token

PII_KEY = "test-pii-key"
FRAUD = "fraud-detector"
PRICES = "house-prices"


def monitors_for_tests() -> Monitors:
    """The shipped example (a binary classifier with PII fields) plus a regression model with a
    non-nullable feature and a feature name that is not a Python identifier."""
    example = load_monitors(default_monitors_path())
    prices = {
        "name": PRICES, "task": "regression",
        "features": [
            {"name": "sq-ft", "type": "numeric", "nullable": False},
            {"name": "rooms", "type": "numeric", "range": [1, 20]},
            {"name": "city", "type": "categorical", "categories": ["berlin", "paris"]},
            {"name": "class", "type": "text"},
        ],
        "slices": ["city"],
    }
    return parse_monitors({"version": 1, "models": [m.model_dump(mode="json") for m in example.models] + [prices]})


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": "sqlite:///unused.db", "pii_key": PII_KEY,
                              "max_body_bytes": 256 * 1024, "max_records_per_batch": 500,
                              "retry_after_seconds": 7}
    values.update(overrides)
    return Settings(**values)


def fraud_record(prediction_id: str, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "prediction_id": prediction_id, "timestamp": time.time() - 5,
        "features": {"amount": 12.5, "account_age_days": 300, "items_in_cart": 2, "hour_of_day": 14,
                     "ip_risk_score": 0.1, "country": "DE", "channel": "web", "payment_method": "card"},
        "prediction": "1", "score": 0.91, "latency_ms": 3.2, "slices": {"channel": "web", "country": "DE"},
    }
    record.update(overrides)
    return record


def batch(records: list[dict[str, Any]], model: str = FRAUD, **envelope: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "version": "v1", "batch_id": f"b-{time.monotonic_ns()}", "records": records}
    body.update(envelope)
    return body


@dataclass
class Collector:
    client: TestClient
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, scope: str = "ingest") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def post(self, path: str, body: Any, scope: str = "ingest", **kwargs: Any) -> Any:
        return self.client.post(path, json=body, headers=self.auth(scope), **kwargs)

    def rows(self, sql: str, **params: Any) -> list[sa.Row]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params))


@pytest.fixture
def start_collector() -> Iterator[Callable[..., Collector]]:
    """Start an app on ``engine`` (lifespan included); stopped at the end of the test."""
    clients: list[TestClient] = []

    def start(engine: Engine, monitors: Monitors | None = None, **settings: Any) -> Collector:
        app = create_app(make_settings(**settings), engine=engine, monitors=monitors or monitors_for_tests())
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        tokens = {scope: create_token(engine, [scope], f"test-{scope}") for scope in ("ingest", "read", "admin")}
        return Collector(client, engine, tokens)

    yield start
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def collector(sqlite_engine: Engine, start_collector: Callable[..., Collector]) -> Collector:
    return start_collector(sqlite_engine)


@pytest.fixture
def any_collector(engine: Engine, start_collector: Callable[..., Collector]) -> Collector:
    return start_collector(engine)
