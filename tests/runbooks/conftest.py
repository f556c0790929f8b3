"""A monitors document with owners and runbooks at both levels, and loopback servers.

``fraud`` declares team, owner and runbook; its ``availability`` SLO overrides owner and runbook
(its team falls back to the model's); its ``latency`` SLO declares nothing (all from the model).
``churn`` declares no ownership at all.
"""

from __future__ import annotations

from typing import Any

# The loopback HTTP / SMTP servers and the alertmanager marker of the alert tests.
from tests.alerts.conftest import http_server, pytest_configure, smtp_server  # noqa: F401

MODEL_RUNBOOK = "https://wiki.example.com/runbooks/fraud"
SLO_RUNBOOK = "https://wiki.example.com/runbooks/fraud-availability"
MODEL_OWNER = "@fraud-oncall"
SLO_OWNER = "@sre-payments"
TEAM = "payments-ml"


def fraud_model(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "fraud", "task": "binary", "positive_class": "1", "team": TEAM,
        "owner": MODEL_OWNER, "runbook_url": MODEL_RUNBOOK,
        "features": [{"name": "amount", "type": "numeric"}], "slices": ["country"],
        "slos": [
            {"name": "availability", "kind": "availability", "objective": 0.999,
             "owner": SLO_OWNER, "runbook_url": SLO_RUNBOOK},
            {"name": "latency", "kind": "latency", "objective": 0.99, "threshold_ms": 100},
        ],
        **overrides,
    }


def churn_model() -> dict[str, Any]:
    return {"name": "churn", "task": "binary", "positive_class": "1", "features": [{"name": "tenure", "type": "numeric"}],
            "slos": [{"name": "availability", "kind": "availability", "objective": 0.999}]}


def document(models: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"version": 1, "models": models if models is not None else [fraud_model(), churn_model()], **extra}
