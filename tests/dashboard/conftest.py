"""Dashboard fixtures: one store seeded for the whole session (tests/dashboard/seed.py: real
writes, the real analysis and alert cycles, a real shadow replay) on SQLite, its monitors
YAML, and AppTest runs of the real app (dashboard/app.py) against it.

Page tests pin the time range to the seeded day (``from``/``to`` in the query) so the numbers
they assert do not move with the clock.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from store.bootstrap import create_schema
from store.engine import create_engine
from tests.alerts.servers import CaptureServer, Reply
from tests.conftest import REPO_ROOT, unavailable
from tests.dashboard.seed import Seeded, monitors_document, seed_dashboard, seeded_monitors, write_config

APP = REPO_ROOT / "dashboard" / "app.py"
PAGE_FILES = {"overview": "views/overview_page.py", "oncall": "views/oncall_page.py", "debug": "views/debug_page.py",
              "slos": "views/slos_page.py", "shadow": "views/shadow_page.py", "alerts": "views/alerts_page.py"}


@dataclass
class SeededStore:
    path: Path  # the SQLite file
    config: Path
    seeded: Seeded

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def day_query(self) -> dict[str, str]:
        """The seeded day as a custom range, so numbers on the pages stay put; it ends a minute
        after the data, so the last alert cycle and its notifications (at ``now``) are in it."""
        return {"model": "fraud", "from": _iso(self.seeded.start), "to": _iso(self.seeded.now + timedelta(minutes=1))}

    def copy(self, target: Path) -> SeededStore:
        """A private copy of the store for a test that writes (silences)."""
        shutil.copy(self.path, target)
        return SeededStore(target, self.config, self.seeded)


def require(*modules: str) -> None:
    """Skip locally without a module the dashboard tests need; fail under CI=true."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        unavailable(f"dashboard tests need {', '.join(missing)} (pip install -e '.[dev]')")


def _iso(t) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededStore]:
    require("streamlit", "skl2onnx", "sklearn", "onnxruntime")
    root = tmp_path_factory.mktemp("dashboard")
    path = root / "modelwatch.db"
    engine = create_engine(f"sqlite:///{path}")
    create_schema(engine)
    with CaptureServer() as up, CaptureServer(default=Reply(500, b"receiver down")) as down:
        document = monitors_document(f"{up.url}/hook", f"{down.url}/hook")
        seeded = seed_dashboard(engine, seeded_monitors(f"{up.url}/hook", f"{down.url}/hook"))
    engine.dispose()
    yield SeededStore(path, write_config(root / "monitors.yaml", document), seeded)


@pytest.fixture
def open_page(monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """``open_page(store, "debug", feature="country") -> AppTest`` after one run of that page."""
    require("streamlit")
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()

    def run(store: SeededStore | None, page: str, url: str | None = None, config: Path | None = None,
            **query: str) -> AppTest:
        monkeypatch.setenv("MODELWATCH_DATABASE_URL", url or (store.url if store else "sqlite://"))
        monkeypatch.setenv("MODELWATCH_CONFIG", str(config or (store.config if store else REPO_ROOT / "examples" / "monitors.yaml")))
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.query_params.update({**(store.day_query() if store else {}), **query})
        at.run()
        if page != "overview":
            at.switch_page(PAGE_FILES[page])
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return run


@pytest.fixture
def empty_store(tmp_path: Path) -> str:
    """URL of a store with the schema and nothing else."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = create_engine(url)
    create_schema(engine)
    engine.dispose()
    return url


def closed(port: int, within: float = 15.0) -> bool:
    """True once nothing accepts connections on the port."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(0.2)
        except OSError:
            return True
    return False
