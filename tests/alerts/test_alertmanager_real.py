"""Our Alertmanager receiver against a real Alertmanager (Debian: prometheus-alertmanager).

The test starts the binary with a webhook receiver on loopback and group_wait 1s, posts a firing
and then a resolved alert through AlertmanagerReceiver, and checks both are forwarded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from alerts.alert import AlertStatus
from alerts.receivers import AlertmanagerConfig, make_receiver
from tests.alerts.conftest import make_notification
from tests.alerts.servers import CaptureServer
from tests.conftest import free_port, unavailable

BINARY = os.environ.get("MODELWATCH_ALERTMANAGER_BIN", "/usr/bin/prometheus-alertmanager")

pytestmark = pytest.mark.alertmanager


@pytest.fixture
def alertmanager(tmp_path: Path, http_server: CaptureServer) -> Iterator[str]:
    if not (os.path.exists(BINARY) or shutil.which(BINARY)):
        unavailable(f"{BINARY} not found: install Debian's package with `apt-get install prometheus-alertmanager`")
    config = tmp_path / "am.yml"
    config.write_text(
        f"""
route:
  receiver: hook
  group_by: ['...']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {http_server.url}/hook
        send_resolved: true
"""
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [BINARY, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"alertmanager did not start: {process.stderr.read().decode()[-2000:] if process.poll() is not None else 'timeout'}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_alerts_posted_by_our_receiver_are_forwarded(alertmanager: str, http_server: CaptureServer) -> None:
    receiver = make_receiver(AlertmanagerConfig(name="am", url=alertmanager), env={})
    template = make_notification(AlertStatus.firing)
    # Alertmanager judges startsAt/endsAt against its own clock: use the real now.
    now = datetime.now(timezone.utc)
    alert = replace(template.alerts[0], starts_at=now - timedelta(minutes=1))
    firing = replace(template, alerts=(alert,), created_at=now)
    assert receiver.send(firing).ok

    (forwarded,) = http_server.wait_for(1, timeout=15)[:1]
    body = forwarded.json()
    assert forwarded.path == "/hook"
    assert body["status"] == "firing"
    (forwarded_alert,) = body["alerts"]
    assert forwarded_alert["labels"] == dict(alert.labels)
    assert forwarded_alert["annotations"]["summary"] == "SLO availability is burning"
    assert forwarded_alert["generatorURL"] == "http://dashboard.local/slo/availability"

    resolved = replace(firing, alerts=(alert.resolve(datetime.now(timezone.utc)),))
    assert receiver.send(resolved).ok
    requests = http_server.wait_for(2, timeout=15)
    assert requests[-1].json()["status"] == "resolved"
