"""The overview page of the real dashboard app (AppTest, headless) shows the selected model's
cost per 1,000 predictions, daily spend and a daily spend chart; nothing of it for a model
without costs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from analysis.cost import day_start
from config.loader import load_monitors
from store.bootstrap import create_schema
from store.catalog import sync_models
from store.deploys import record_deploy
from store.engine import create_engine
from store.types import utc_now
from store.writes import write_counters
from tests.conftest import REPO_ROOT
from tests.cost.conftest import COSTS, PLAIN, PRICED, counter_row, model_entry

pytestmark = pytest.mark.timeout(240)
APP = REPO_ROOT / "dashboard" / "app.py"


@pytest.fixture
def cost_store(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Yesterday (UTC) in the store: v1 1,000 requests in the 10:00 hour, v2 500 in the 11:00 hour,
    and v2 deployed at 11:00."""
    url = f"sqlite:///{tmp_path / 'cost.db'}"
    engine = create_engine(url)
    create_schema(engine)
    yesterday = day_start(utc_now()) - timedelta(days=1)
    write_counters(engine, [counter_row("v1", yesterday + timedelta(hours=10, minutes=m), 100) for m in range(10)]
                   + [counter_row("v2", yesterday + timedelta(hours=11, minutes=m), 250) for m in (5, 50)]
                   + [counter_row("v1", yesterday + timedelta(hours=10), 40, model=PLAIN)])
    config = tmp_path / "monitors.yaml"
    config.write_text(yaml.safe_dump({"version": 1, "models": [model_entry(PRICED, COSTS), model_entry(PLAIN)]}))
    sync_models(engine, load_monitors(config))  # deploys refer to declared models
    record_deploy(engine, PRICED, "v2", source="cli", actor="cli:test", time=yesterday + timedelta(hours=11))
    engine.dispose()
    yield url, config


def overview(monkeypatch: pytest.MonkeyPatch, url: str, config: Path, model: str):  # -> AppTest
    pytest.importorskip("streamlit")
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    monkeypatch.setenv("MODELWATCH_DATABASE_URL", url)
    monkeypatch.setenv("MODELWATCH_CONFIG", str(config))
    yesterday = day_start(utc_now()) - timedelta(days=1)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"model": model, "from": f"{yesterday:%Y-%m-%dT%H:%M:%SZ}",
                            "to": f"{yesterday + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_overview_shows_cost_of_a_priced_model(monkeypatch: pytest.MonkeyPatch, cost_store: tuple[str, Path]) -> None:
    at = overview(monkeypatch, *cost_store, PRICED)
    shown = {m.label: m.value for m in at.metric}
    # v1: one fleet hour, 3.20; v2: one hour 1.50 + 500 x 0.0001 = 1.55; 1,500 requests:
    # 4.75 / 1500 x 1000 = 3.1667 per 1,000 predictions; yesterday is the last full day.
    assert shown["Cost / 1,000 predictions"] == "3.17 USD"
    assert shown["Spend in range"] == "4.75 USD" and shown["Spend last full day"] == "4.75 USD"
    assert shown["Spend today (projected)"] == "0.00 USD"
    (chart,) = [el for el in at.get("vega_lite_chart") if "spend" in el.proto.spec]
    frame = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all().to_pandas()
    yesterday = (day_start(utc_now()) - timedelta(days=1)).date().isoformat()
    assert len(frame) == 14 and frame.set_index("day")["spend"][yesterday] == pytest.approx(4.75)
    assert frame["spend"].sum() == pytest.approx(4.75)
    layers = json.loads(chart.proto.spec)["layer"]
    assert layers[0]["mark"]["type"] == "bar" and len(layers) == 3  # bars, then the deploy rules and labels
    marks = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets[1:]]
    assert any("deploy v2" in set(m.get("version", ())) for m in marks)  # v2's deploy yesterday is marked


def test_overview_has_no_cost_panel_without_costs(monkeypatch: pytest.MonkeyPatch, cost_store: tuple[str, Path]) -> None:
    at = overview(monkeypatch, *cost_store, PLAIN)
    labels = {m.label for m in at.metric}
    assert "Availability" in labels and not any("Spend" in label or "1,000" in label for label in labels)
