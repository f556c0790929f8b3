"""A real collector process (tests/integration's CollectorProcess) serving a small binary model
with a canary policy, over SQLite and PostgreSQL, and the SDK traffic of one version."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from sqlalchemy.engine import Engine

import modelwatch
from modelwatch.sampling import is_sampled
from store.tokens import create_token
from tests.integration.conftest import CollectorProcess, database_url, store  # noqa: F401  (fixtures)

MODEL = "checkout-risk"
SAMPLE_RATE = 0.5
CHANNELS = ("web", "ios", "android")
MODEL_SPEC = {
    "name": MODEL, "task": "binary", "classes": ["0", "1"], "positive_class": "1",
    "features": [{"name": "amount", "type": "numeric"}, {"name": "account_age_days", "type": "numeric"},
                 {"name": "channel", "type": "categorical", "categories": list(CHANNELS)}],
    "canary": {"window": "30m", "min_requests": 500, "min_labels": 200},
}


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "monitors.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "models": [MODEL_SPEC]}))
    return path


@pytest.fixture
def collector(store: Engine, database_url: str, config_path: Path, tmp_path: Path  # noqa: F811
              ) -> Iterator[CollectorProcess]:
    process = CollectorProcess(database_url, config_path, tmp_path / "collector.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def token(store: Engine) -> str:  # noqa: F811
    return create_token(store, scopes=["ingest", "read"], name="canary-test")


def features(rng: np.random.Generator) -> dict[str, object]:
    return {"amount": round(float(rng.lognormal(3.0, 1.0)), 2), "account_age_days": int(rng.integers(0, 3000)),
            "channel": CHANNELS[int(rng.integers(0, 3))]}


@dataclass(frozen=True)
class Sent:
    """What one version's serving code did: exact counts, and over the sampled predictions
    (those whose label ships too) how many were labelled and right."""

    version: str
    requests: int
    errors: int
    labelled: int
    right: int

    @property
    def accuracy(self) -> float:
        return self.right / self.labelled


def serve(url: str, token: str, version: str, *, requests: int, error_rate: float, accuracy: float,
          seed: int) -> Sent:
    """``requests`` calls of ``version`` through the SDK: a share ``error_rate`` fail, the rest
    predict from a uniform score and are labelled right with probability ``accuracy``."""
    rng = np.random.default_rng(seed)
    client = modelwatch.Client(url, token, MODEL, version, sample_rate=SAMPLE_RATE, debug=True, flush_at_exit=False,
                               flush_interval=0.2)
    errors = labelled = right = 0
    for i in range(requests):
        prediction_id = f"{version}-{seed}-{i}"
        latency = float(rng.gamma(4.0, 5.0))
        if rng.random() < error_rate:
            client.log_prediction(prediction_id, features(rng), None, latency_ms=latency, error="TimeoutError")
            errors += 1
            continue
        score = float(rng.random())
        prediction = "1" if score >= 0.5 else "0"
        correct = bool(rng.random() < accuracy)
        client.log_prediction(prediction_id, features(rng), prediction, score=score, latency_ms=latency)
        client.log_label(prediction_id, prediction if correct else ("0" if prediction == "1" else "1"))
        if is_sampled(prediction_id, SAMPLE_RATE):
            labelled += 1
            right += correct
    assert client.flush(timeout=60)
    client.close()
    return Sent(version, requests, errors, labelled, right)


def reference_csv(rows: int = 2000, seed: int = 99) -> str:
    """The model's baseline: the same input distribution as serve() draws."""
    rng = np.random.default_rng(seed)
    lines = ["amount,account_age_days,channel"]
    for _ in range(rows):
        f = features(rng)
        lines.append(f"{f['amount']},{f['account_age_days']},{f['channel']}")
    return "\n".join(lines) + "\n"
