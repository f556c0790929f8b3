"""A real collector process (``modelwatch collector``) on loopback, over a real database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from store.bootstrap import create_schema
from store.engine import create_engine
from store.tokens import create_token
from tests.conftest import REPO_ROOT, free_port, wait_for_port


class CollectorProcess:
    """``modelwatch collector`` as a child process that tests can kill and start again."""

    def __init__(self, database_url: str, config: Path, log: Path) -> None:
        self.database_url = database_url
        self.config = config
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "MODELWATCH_LOG_LEVEL": "warning"}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "modelwatch.cli", "collector", "--db", self.database_url,
                 "--config", str(self.config), "--port", str(self.port)],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        wait_for_port("127.0.0.1", self.port, timeout=60)
        httpx.get(f"{self.url}/healthz", timeout=10).raise_for_status()

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing — a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'collector.db'}"
    return request.getfixturevalue("pg_database_url")


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def collector(store: Engine, database_url: str, tmp_path: Path) -> Iterator[CollectorProcess]:
    process = CollectorProcess(database_url, REPO_ROOT / "examples" / "monitors.yaml", tmp_path / "collector.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def ingest_token(store: Engine) -> str:
    return create_token(store, scopes=["ingest", "read"], name="integration")
