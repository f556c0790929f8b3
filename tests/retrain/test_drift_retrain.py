"""Issue 8's retrain test: a drift alert that stays firing for hours calls the retrain webhook
once per cooldown and never more than the daily cap, delivered by the real worker to a real
HTTP receiver on loopback, signed; retrain_triggers and audit_log agree with what arrived; a
second model's drift is gated on its own; a resolve never reaches the retrain webhook."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from alerts.receivers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from store.audit import read_audit
from store.retrain_reads import read_triggers
from tests.alerts.servers import Captured, CaptureServer
from tests.retrain.conftest import SECRET, T0, H, Simulation, drift_value, make_monitors, seed_window

M5 = timedelta(minutes=5)


def at(hours: int, minutes: int = 0) -> datetime:
    return T0 + hours * H + timedelta(minutes=minutes)


def seed_hour(engine: Engine, end: datetime, fraud_drifts: bool) -> None:
    """Each hour's analysis: fraud's amount (important) and device (not routed to retrain)
    drift while ``fraud_drifts``; churn's country drifts from hour 3 on."""
    hour = int((end - T0) / H)
    seed_window(engine, "fraud", "amount", end, fraud_drifts)
    seed_window(engine, "fraud", "device", end, fraud_drifts)
    seed_window(engine, "churn", "country", end, hour >= 3)


def run(sim: Simulation, until: datetime, step: timedelta, fraud_drifts: bool = True) -> None:
    now = sim.now + step
    while now <= until:
        if (now - T0) % H == timedelta(0):
            seed_hour(sim.engine, now, fraud_drifts)
        sim.step(now)
        now += step


def signed_body(request: Captured) -> dict:
    timestamp, signature = request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER]
    assert verify_signature(SECRET, timestamp, request.body, signature, time.time())
    assert not verify_signature("another-secret", timestamp, request.body, signature, time.time())
    return json.loads(request.body)


def test_sustained_drift_retrains_once_per_cooldown_within_the_daily_cap(
        engine: Engine, retrain_server: CaptureServer, slack_server: CaptureServer) -> None:
    sim = Simulation(engine, make_monitors(retrain_server.url, slack_server.url), slack_server)
    seed_hour(engine, T0, True)
    sim.step(T0)
    run(sim, at(13), M5)  # 13 h every 5 minutes: 156 cycles
    bodies = [signed_body(r) for r in retrain_server.requests]
    assert all(r.path == "/hooks/retrain" for r in retrain_server.requests)
    by_model = {m: [b for b in bodies if b["model"]["name"] == m] for m in ("fraud", "churn")}
    # 4 h cooldown, checked every 30 minutes: fraud (drifting from 00:00, first flush 00:05)
    # at 00:05, 04:05, 08:05; churn (from 03:00) on its own clock. The cap of 3 in 24 h holds
    # back fraud at 12:05 and churn after 11:05.
    assert [b["created_at"] for b in by_model["fraud"]] == [at(h, 5).isoformat() for h in (0, 4, 8)]
    assert [b["created_at"] for b in by_model["churn"]] == [at(h, 5).isoformat() for h in (3, 7, 11)]
    assert len(bodies) == 6

    # What a pipeline acts on: the model, the important feature with its PSI, the policy.
    third = by_model["fraud"][2]
    assert third["model"] == {"name": "fraud", "version": "v3"}
    assert [(a["alertname"], a["feature"], a["metric"]) for a in third["alerts"]] == [("FeatureDrift", "amount", "psi")]
    assert third["alerts"][0]["value"] == drift_value("fraud", "amount", 8) and third["alerts"][0]["threshold"] == 0.2
    assert third["cooldown"] == {"cooldown_s": 14400.0, "max_per_day": 3, "sent_in_last_24h": 3,
                                 "next_allowed_at": at(24, 5).isoformat(), "sustained_for_s": 0.0}
    assert [b["cooldown"]["sent_in_last_24h"] for b in by_model["churn"]] == [1, 2, 3]

    # The store agrees: one sent row per webhook (same ids), holds recorded once per window.
    for model in ("fraud", "churn"):
        rows = list(reversed(read_triggers(engine, model, T0, at(14))))
        assert [r.status for r in rows] == ["sent", "cooldown", "sent", "cooldown", "sent", "capped"]
        sent = [r for r in rows if r.status == "sent"]
        assert [r.id for r in sent] == [b["trigger_id"] for b in by_model[model]]
        assert all(r.delivery == "sent" and r.alertnames == ("FeatureDrift",) for r in sent)
        assert {r.receiver for r in rows} == {"retrain"}
    first_hold = read_triggers(engine, "fraud", T0, at(14))[-2]
    assert first_hold.time == at(0, 35)  # the first repeat inside the cooldown
    assert first_hold.details["next_allowed_at"] == at(4, 5).isoformat()

    audit = read_audit(engine, "retrain.trigger")
    assert sorted(a.details["trigger_id"] for a in audit) == sorted(b["trigger_id"] for b in bodies)
    assert {a.target for a in audit} == {"model:fraud", "model:churn"}
    assert all(a.details["alertnames"] == ["FeatureDrift"] and a.actor.startswith("alert-cycle@") for a in audit)

    # Fraud's drift ends: Slack hears the resolve, the retrain webhook hears nothing.
    slack_before = len(slack_server.requests)
    run(sim, at(14, 10), M5, fraud_drifts=False)
    assert len(retrain_server.requests) == 6
    resolved = [r.json()["text"] for r in slack_server.requests[slack_before:]]
    assert any(text.startswith("[RESOLVED]") and "fraud" in text for text in resolved)
    with engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT kind, status FROM notifications WHERE receiver = 'retrain'")).all()
    assert [tuple(k) for k in kinds] == [("firing", "sent")] * 6


def test_the_cap_frees_up_24_hours_after_the_oldest_trigger(
        engine: Engine, retrain_server: CaptureServer, slack_server: CaptureServer) -> None:
    sim = Simulation(engine, make_monitors(retrain_server.url, slack_server.url, cooldown="2h", max_per_day=3),
                     slack_server)
    seed_hour(engine, T0, True)
    sim.step(T0)
    run(sim, at(26), 30 * timedelta(minutes=1))
    fraud = [signed_body(r) for r in retrain_server.requests if signed_body(r)["model"]["name"] == "fraud"]
    # 00:30, 02:30, 04:30 fill the cap; the 4th waits until the first is 24 h old (24:30).
    assert [b["created_at"] for b in fraud] == [at(h, 30).isoformat() for h in (0, 2, 4, 24)]
    assert fraud[-1]["cooldown"]["sent_in_last_24h"] == 3
    statuses = [r.status for r in reversed(read_triggers(engine, "fraud", T0, at(27)))]
    assert statuses == ["sent", "cooldown", "sent", "cooldown", "sent", "capped", "sent", "cooldown"]


def test_only_drift_sustained_for_an_hour_triggers(
        engine: Engine, retrain_server: CaptureServer, slack_server: CaptureServer) -> None:
    sim = Simulation(engine, make_monitors(retrain_server.url, slack_server.url, sustained_for="1h"), slack_server)
    # Fraud drifts for one window only (00:00-01:00): a blip, never retrained.
    seed_hour(engine, T0, True)
    sim.step(T0)
    run(sim, at(1), M5, fraud_drifts=False)
    run(sim, at(5), M5)
    assert read_triggers(engine, "fraud", T0, at(1, 1)) == []
    fraud = [b for b in map(signed_body, retrain_server.requests) if b["model"]["name"] == "fraud"]
    # Drifting again from 02:00 (first window end after the clean one); firing from 02:00, it is
    # sustained from 03:00 and the next 30-minute re-check after that sends it.
    assert len(fraud) == 1
    sent_at = datetime.fromisoformat(fraud[0]["created_at"])
    firing_since = datetime.fromisoformat(fraud[0]["alerts"][0]["firing_since"])
    assert timedelta(hours=1) <= sent_at - firing_since < timedelta(hours=1, minutes=35)
    assert fraud[0]["alerts"][0]["firing_for_s"] >= 3600 and fraud[0]["cooldown"]["sustained_for_s"] == 3600
