"""``modelwatch up --demo`` as a newcomer runs it (a real process): within two minutes the store
shows drift, a burn-rate page in the delivery log and a shadow verdict; Ctrl-C stops it all."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from modelwatch.demo.config import demo_monitors
from modelwatch.demo.status import demo_status
from modelwatch.demo.traffic import MODEL, Timeline, encode, features, fraud_probability, production_score
from tests.conftest import REPO_ROOT, free_port

pytestmark = pytest.mark.slow

DEADLINE_S = 120.0


def test_timeline_and_synthetic_model_are_what_the_demo_promises() -> None:
    timeline = Timeline()
    assert timeline.drifting(0) and not timeline.drifting(-timeline.history_s)
    assert timeline.failing(timeline.outage_s[0]) and not timeline.failing(timeline.outage_s[1])
    assert timeline.outage_s[1] < DEADLINE_S / 2 and timeline.label_delay_s < 30
    rng = random.Random(1)
    before = [features(rng, drifted=False)["amount"] for _ in range(2000)]
    after = [features(rng, drifted=True)["amount"] for _ in range(2000)]
    assert sorted(after)[1000] > 2 * sorted(before)[1000]
    f = features(rng, drifted=False)
    assert len(encode(f)) == 10 and 0 < fraud_probability(f) < 1 and 0 < production_score(f) < 1


def test_shipped_candidate_loads_and_scores_the_demo_features() -> None:
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    session = ort.InferenceSession(str(REPO_ROOT / "modelwatch" / "demo" / "candidate.onnx"))
    rows = np.array([encode(features(random.Random(i), drifted=False)) for i in range(50)], dtype=np.float32)
    labels, probabilities = session.run(None, {session.get_inputs()[0].name: rows})
    assert set(labels.tolist()) <= {0, 1} and probabilities.shape == (50, 2)


def test_up_demo_shows_drift_a_page_and_a_shadow_verdict_then_stops_on_ctrl_c(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "modelwatch.cli", "up", "--demo", "--db", db, "--port",
                                    str(free_port()), "--dashboard-port", "0"], cwd=REPO_ROOT, env=os.environ.copy(),
                                   stdout=out, stderr=subprocess.STDOUT)
    from config.loader import parse_monitors
    from store.engine import create_engine

    model = parse_monitors(demo_monitors("http://127.0.0.1:9/page", "http://127.0.0.1:8501")).model(MODEL)
    assert model is not None
    engine = create_engine(db)
    began = time.monotonic()
    status = None
    try:
        while time.monotonic() - began < DEADLINE_S and process.poll() is None:
            time.sleep(3)
            try:
                status = demo_status(engine, model, datetime.now(timezone.utc))
            except sa_exc.OperationalError:  # the demo is still creating its tables
                continue
            if (status.drifted_windows and "amount" in status.drifted_features and status.pages_sent >= 1
                    and status.slo_states.get("availability") == "firing" and status.verdict):
                break
        elapsed = time.monotonic() - began
        assert process.poll() is None, log.read_text()[-3000:]
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        engine.dispose()
    output = log.read_text()
    print(f"\ndemo: everything visible after {elapsed:.0f}s; " + " | ".join(status.lines() if status else []))
    assert status is not None and status.drifted_windows >= 1 and "amount" in status.drifted_features, output[-3000:]
    assert status.slo_states.get("availability") == "firing" and status.pages_sent >= 1, output[-3000:]
    assert status.verdict in ("promote", "hold", "reject"), output[-3000:]
    assert "PAGE received by the demo webhook" in output and "availability" in output
    assert code == 0 and "[demo] stopped" in output, output[-2000:]
