"""A real ``modelwatch scheduler`` killed with SIGKILL at random points of its work, restarted,
again and again, over PostgreSQL with hours of windows to analyse and an outage to page about.

"Analysed twice" is observed by the database itself: a trigger logs every committed transition
of an analysis window to ``done`` (a run rolled back by fencing logs nothing). Afterwards every
window is done exactly once, and the outbox holds each page once (delivered once to a loopback
webhook).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
import yaml

from alerts.cycle import alerting_config
from alerts.worker import DeliveryWorker
from analysis.jobs.cycle import run_cycle
from analysis.jobs.run import RunContext
from config.loader import load_monitors
from store.bootstrap import create_schema
from store.engine import create_engine
from tests.alerts.servers import CaptureServer
from tests.alerts_io.streams import write_counters
from tests.analysis_jobs.seed import model_spec, recent_t0, seed
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

KILLS = 5
DONE_LOG = """
CREATE TABLE window_done_log (model text, window_start timestamptz, window_end timestamptz, owner text);
CREATE FUNCTION log_window_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'done' AND (TG_OP = 'INSERT' OR OLD.status IS DISTINCT FROM 'done') THEN
    INSERT INTO window_done_log VALUES (NEW.model, NEW.window_start, NEW.window_end, NEW.owner);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER window_done AFTER INSERT OR UPDATE ON analysis_windows
  FOR EACH ROW EXECUTE FUNCTION log_window_done();
"""


def config(webhook_url: str) -> dict:
    spec = model_spec("fraud", schedule={"window": "10m", "delay": "1m", "catchup": "6h", "every": "1s"})
    spec["slos"] = [{"name": "availability", "kind": "availability", "objective": 0.999}]
    return {"version": 1, "models": [spec],
            "routes": {"receiver": "hook", "group_by": ["model", "slo"], "group_wait": "1s", "group_interval": "1m",
                       "repeat_interval": "4h"},
            "receivers": [{"name": "hook", "type": "webhook", "url": webhook_url}]}


def scheduler(db: str, config_path: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "modelwatch.cli", "scheduler", "--tick", "1", "--db", db,
                                 "--config", str(config_path), *extra], cwd=REPO_ROOT, env=os.environ.copy(),
                                stdout=out, stderr=subprocess.STDOUT)


def test_sigkilled_schedulers_never_analyse_a_window_twice_or_page_twice(postgres_server, pg_database_url: str,
                                                                          tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("MODELWATCH_KILL_SEED", "17")))
    engine = create_engine(pg_database_url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(DONE_LOG)
    with CaptureServer() as webhook:
        config_path = tmp_path / "monitors.yaml"
        config_path.write_text(yaml.safe_dump(config(f"{webhook.url}/hook")))
        monitors = load_monitors(config_path)
        model = monitors.models[0]
        seed(engine, model, recent_t0(5), hours=4, per_hour=1200)
        with engine.begin() as conn:  # labels long received: no late-label rerun is due
            conn.exec_driver_sql("UPDATE labels SET received_at = received_at - interval '1 day'")
        # Healthy traffic, then every request failing for the last 20 minutes: a page.
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        requests = np.full(120, 100.0)
        errors = np.zeros(120)
        errors[-20:] = 100.0
        write_counters(engine, "fraud", now - timedelta(minutes=119), requests.tolist(), errors.tolist())

        def done() -> int:
            with engine.connect() as conn:
                return conn.execute(sa.text("SELECT count(*) FROM window_done_log")).scalar_one()

        log = tmp_path / "scheduler.log"
        kills = []
        for _ in range(KILLS):
            process = scheduler(pg_database_url, config_path, log)
            target = done() + rng.randint(1, 4)
            deadline = time.monotonic() + 20
            while done() < target and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.3))  # mid-window, mid-cycle or between: wherever it is
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            kills.append(done())
        for _ in range(2):  # the second cycle is past group_wait: the page is enqueued then
            final = scheduler(pg_database_url, config_path, log, "--once")
            assert final.wait(timeout=120) in (0, 1), log.read_text()[-3000:]
            time.sleep(1.5)
        with engine.connect() as conn:  # the scheduler process delivers what it enqueued
            sent_by_scheduler = conn.execute(sa.text("SELECT count(*) FROM notifications WHERE status = 'sent'")).scalar_one()
        assert sent_by_scheduler >= 1, log.read_text()[-3000:]
        # Claims of killed runs expire with their lease (10 min): a scheduler that late takes them.
        later = datetime.now(timezone.utc) + timedelta(minutes=11)
        run_cycle(RunContext(engine, "after-lease", clock=lambda: later), monitors, later, alerts=False)

        with engine.connect() as conn:
            windows = conn.execute(sa.text("SELECT window_start, status, attempts FROM analysis_windows")).all()
            twice = conn.execute(sa.text("SELECT window_start, count(*) FROM window_done_log"
                                         " GROUP BY window_start HAVING count(*) > 1")).all()
            results = conn.execute(sa.text("SELECT count(DISTINCT window_start) FROM analysis_results")).scalar_one()
            firing = conn.execute(sa.text("SELECT dedup_key, sequence, count(*) AS n FROM notifications"
                                          " WHERE kind = 'firing' GROUP BY dedup_key, sequence")).all()
        assert len(windows) >= 24 and all(w.status == "done" for w in windows), windows
        assert not twice, f"windows analysed twice: {twice}"
        assert results == len(windows)
        assert any(w.attempts > 1 for w in windows) or kills[-1] < len(windows), "no kill interrupted a window"
        assert firing and all(row.n == 1 for row in firing), firing
        pages = [row for row in firing if row.sequence == 1]

        alerting = alerting_config(monitors)
        assert alerting is not None
        worker = DeliveryWorker(engine, alerting)
        for _ in range(20):
            if not worker.deliver_due(datetime.now(timezone.utc) + timedelta(minutes=5)).claimed:
                break
        received = webhook.wait_for(len(firing), timeout=10)
        print(f"\n{KILLS} SIGKILLs at {kills} windows done; {len(windows)} windows done once each, "
              f"{sum(w.attempts for w in windows) - len(windows)} re-claimed after a kill; "
              f"{len(firing)} page(s) enqueued once, {len(received)} delivered")
        assert len(received) == len(firing) and len(pages) >= 1
        assert len(set(r.body for r in received)) == len(received), "a page was delivered twice"
    engine.dispose()
