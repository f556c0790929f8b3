"""Deploys in page content: an SLO page lists the recent deploys from the ``deploys`` table with
how each was recorded and its artifact digest, delivered to a loopback PagerDuty-shaped receiver."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy.engine import Engine

from alerts.alert import AlertStatus
from alerts.render import Deploy, PageContext, render_page
from store.catalog import sync_models
from store.deploys import record_deploy
from store.writes import note_versions
from tests.alerts.servers import CaptureServer
from tests.alerts_io.conftest import MINUTE, T0, Harness, make_monitors, pd_server, slack_server  # noqa: F401 -- fixtures
from tests.alerts_io.streams import write_counters
from tests.deploys.conftest import SHA

HISTORY, OUTAGE = 4 * 60, 20


def test_the_deploy_line_says_how_it_was_recorded_and_which_artifact() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    ctx = PageContext("fraud", "availability", "availability", "page", 0.999, AlertStatus.firing, now, recent_deploys=(
        Deploy("2.5.0", now - timedelta(minutes=20), "threshold 0.75", "api", SHA),
        Deploy("2.4.9", now - timedelta(hours=3), None, "sdk"),
        Deploy("2.4.8", now - timedelta(days=2)),
    ))
    assert render_page(ctx).details["Recent deploys"] == (
        f"2.5.0 20m ago via api, artifact {SHA[:12]} (threshold 0.75); 2.4.9 3h ago via sdk; 2.4.8 2d ago")


def test_an_slo_page_lists_recorded_and_inferred_deploys(engine: Engine, pd_server: CaptureServer,
                                                         slack_server: CaptureServer) -> None:
    requests = np.full(HISTORY + OUTAGE + 30, 100.0)
    errors = np.zeros_like(requests)
    errors[HISTORY:HISTORY + OUTAGE] = 100.0
    write_counters(engine, "fraud", T0, requests, errors)
    monitors = make_monitors(pd_server.url, slack_server.url)
    sync_models(engine, monitors)
    note_versions(engine, "fraud", ["v1"], T0)
    record_deploy(engine, "fraud", "v2", source="cli", actor="cli:alice", time=T0 + (HISTORY - 15) * MINUTE,
                  artifact_sha256=SHA, note="new features")
    Harness(engine, monitors, pd_server, slack_server).run(range(HISTORY, HISTORY + 4))
    trigger = pd_server.requests[0].json()
    assert trigger["event_action"] == "trigger"
    assert trigger["payload"]["custom_details"]["Recent deploys"] == (
        f"v2 18m5s ago via cli, artifact {SHA[:12]} (new features); v1 4h3m ago via sdk")
