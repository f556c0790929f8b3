"""The on-call page's canary panel, run headless (Streamlit AppTest) on a real SQLite store whose
counters have a canary failing 8% of its requests beside a stable version failing 1%."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml

from config.loader import load_monitors
from modelwatch.counters import DEFAULT_BOUNDS_MS
from store.bootstrap import create_schema
from store.catalog import sync_models
from store.engine import create_engine
from store.records import CounterRow
from store.slo_reads import bound_key
from store.types import utc_now
from store.writes import note_versions, write_counters
from tests.canary.conftest import MODEL_SPEC
from tests.conftest import REPO_ROOT

MODEL = MODEL_SPEC["name"]
KEYS = [bound_key(b) for b in DEFAULT_BOUNDS_MS] + ["+Inf"]


def _row(version: str, minute, errors: int, rng: np.random.Generator) -> CounterRow:
    latencies = rng.gamma(4.0, 5.0, 100 - errors)
    counts = np.bincount(np.searchsorted(DEFAULT_BOUNDS_MS, latencies, side="left"), minlength=len(KEYS))
    return CounterRow(minute=minute, model=MODEL, version=version, batch_id=f"{version}-{minute:%H%M}", requests=100,
                      errors=errors, latency_count=int(latencies.size), latency_sum_ms=float(latencies.sum()),
                      latency_buckets={k: int(c) for k, c in zip(KEYS, counts)})


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitors.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "models": [MODEL_SPEC]}))
    return path


@pytest.fixture
def store_url(tmp_path: Path, config: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'canary.db'}"
    engine = create_engine(url)
    create_schema(engine)
    sync_models(engine, load_monitors(config))
    rng = np.random.default_rng(0)
    now = utc_now().replace(second=0, microsecond=0)
    minutes = [now - timedelta(minutes=k) for k in range(20, 0, -1)]
    write_counters(engine, [_row("v1", m, 1, rng) for m in minutes] + [_row("v2", m, 8, rng) for m in minutes])
    note_versions(engine, MODEL, ["v1"], now - timedelta(days=3))
    note_versions(engine, MODEL, ["v2"], now - timedelta(minutes=20))
    engine.dispose()
    yield url


def test_oncall_page_shows_the_canary_verdict(store_url: str, config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("streamlit")
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MODELWATCH_DATABASE_URL", store_url)
    monkeypatch.setenv("MODELWATCH_CONFIG", str(config))
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.query_params.update({"model": MODEL})
    at.run()
    at.switch_page("views/oncall_page.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (headline,) = [e.value for e in at.error if "canary" in e.value]
    assert headline.startswith("**ROLL BACK the canary** over the last 30m: canary v2 vs stable v1; errors 8.0% vs 1.0%")
    reasons = " ".join(m.value for m in at.markdown)
    assert "error rate 8.0% (160 of 2000 requests) vs stable 1.0% (20 of 2000)" in reasons
    assert "no labels for either version yet: accuracy not judged" in " ".join(c.value for c in at.caption)
