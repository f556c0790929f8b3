"""The dashboard shows owner, team and a runbook link for the selected model (sidebar, overview,
on-call), on each SLO card, and on every alert row -- run headless with AppTest on a store that
the real alert cycle filled (an outage of both models and a drift finding of fraud)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from alerts.cycle import run_alert_cycle
from config.loader import parse_monitors
from store.bootstrap import create_schema
from store.engine import create_engine
from tests.alerts_io.conftest import MINUTE, T0
from tests.alerts_io.streams import write_counters
from tests.dashboard.conftest import open_page  # noqa: F401 -- the AppTest fixture
from tests.runbooks.conftest import MODEL_OWNER, MODEL_RUNBOOK, SLO_OWNER, SLO_RUNBOOK, TEAM, document
from tests.runbooks.test_receivers import drift_window

HISTORY = 120


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(database URL, monitors file) with firing SLO pages for both models and fraud's drift ticket."""
    root = tmp_path_factory.mktemp("runbooks")
    url = f"sqlite:///{root / 'modelwatch.db'}"
    config = root / "monitors.yaml"
    config.write_text(yaml.safe_dump(document()))
    engine = create_engine(url)
    try:
        create_schema(engine)
        requests = np.full(HISTORY + 10, 100.0)
        errors = np.zeros_like(requests)
        errors[HISTORY:] = 100.0
        for model in ("fraud", "churn"):
            write_counters(engine, model, T0, requests, errors)
        drift_window(engine, T0 + HISTORY * MINUTE)
        monitors = parse_monitors(document())
        for minute in range(HISTORY, HISTORY + 4):
            run_alert_cycle(engine, monitors, T0 + (minute + 1) * MINUTE)
    finally:
        engine.dispose()
    return url, config


def captions(elements) -> list[str]:
    return [c.value for c in elements.caption]


def test_the_sidebar_and_overview_name_the_models_owner_and_runbook(store: tuple[str, Path], open_page: Callable) -> None:
    url, config = store
    at = open_page(None, "overview", url=url, config=config, model="fraud")
    line = f"Owner: **{MODEL_OWNER}** · Team: **{TEAM}** · [Runbook]({MODEL_RUNBOOK})"
    assert line in captions(at.sidebar)
    assert line in captions(at.main)  # under the model's header on the overview
    churn = open_page(None, "overview", url=url, config=config, model="churn")
    assert any("No owner or runbook declared" in c for c in captions(churn.sidebar))
    assert not any("Runbook" in c for c in captions(churn.main))


def test_each_slo_card_shows_its_own_owner_and_runbook(store: tuple[str, Path], open_page: Callable) -> None:
    url, config = store
    at = open_page(None, "slos", url=url, config=config, model="fraud")
    headers = [h.value for h in at.subheader]
    cards = captions(at.main)
    assert f"Owner: **{SLO_OWNER}** · Team: **{TEAM}** · [Runbook]({SLO_RUNBOOK})" in cards  # availability: its own
    assert f"Owner: **{MODEL_OWNER}** · Team: **{TEAM}** · [Runbook]({MODEL_RUNBOOK})" in cards  # latency: the model's
    assert [h.split(" · ")[0] for h in headers] == ["availability", "latency"]


def test_oncall_and_alerts_rows_carry_owner_and_runbook(store: tuple[str, Path], open_page: Callable) -> None:
    url, config = store
    oncall = open_page(None, "oncall", url=url, config=config, model="fraud")
    assert f"Owner: **{MODEL_OWNER}** · Team: **{TEAM}** · [Runbook]({MODEL_RUNBOOK})" in captions(oncall.main)
    active = oncall.dataframe[0].value
    rows = {(r["alert"], r["SLO / feature"], r["severity"]): (r["owner"], r["runbook"]) for _, r in active.iterrows()}
    assert rows[("SLOBurnRate", "availability", "page")] == (f"{SLO_OWNER} · {TEAM}", SLO_RUNBOOK)
    assert rows[("FeatureDrift", "amount", "ticket")] == (f"{MODEL_OWNER} · {TEAM}", MODEL_RUNBOOK)

    alerts = open_page(None, "alerts", url=url, config=config, model="fraud")
    table = next(d.value for d in alerts.dataframe if "fingerprint" in d.value.columns)
    state = {(r["alert"], r["on"], r["severity"]): (r["owner"], r["runbook"]) for _, r in table.iterrows()}
    assert state[("SLOBurnRate", "availability", "page")] == (f"{SLO_OWNER} · {TEAM}", SLO_RUNBOOK)
    assert state[("FeatureDrift", "amount", "ticket")] == (f"{MODEL_OWNER} · {TEAM}", MODEL_RUNBOOK)

    churn = open_page(None, "alerts", url=url, config=config, model="churn")
    table = next(d.value for d in churn.dataframe if "fingerprint" in d.value.columns)
    assert len(table) and set(table["owner"]) == {""} and table["runbook"].isna().all()
