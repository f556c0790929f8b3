"""A real collector process on loopback over SQLite and PostgreSQL (tests/integration/conftest.py),
serving a small model declared here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine

from store.tokens import create_token
from tests.integration.conftest import CollectorProcess, database_url, store  # noqa: F401 -- fixtures

MODEL = "pricing"
FEATURES = ("amount", "country", "user.age-days")


@pytest.fixture
def collector(store: Engine, database_url: str, tmp_path: Path) -> Iterator[CollectorProcess]:  # noqa: F811
    config = tmp_path / "monitors.yaml"
    config.write_text(yaml.safe_dump({"version": 1, "models": [{
        "name": MODEL, "task": "binary", "positive_class": "1",
        "features": [{"name": "amount", "type": "numeric"}, {"name": "country", "type": "categorical"},
                     {"name": "user.age-days", "type": "numeric"}],
    }]}))
    process = CollectorProcess(database_url, config, tmp_path / "collector.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def token(store: Engine) -> str:  # noqa: F811
    return create_token(store, scopes=["ingest"], name="freshness")
