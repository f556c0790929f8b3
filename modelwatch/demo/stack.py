"""``modelwatch up --demo``: collector, scheduler, delivery worker, shadow runner and dashboard on
a fresh SQLite file, plus the synthetic model's traffic through the SDK. Ctrl-C stops it all.

Everything runs in this process (threads) except the dashboard (Streamlit, a child process). The
pieces are the production ones; only the cadence is faster (1-minute windows, 5 s ticks).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from modelwatch.demo.config import demo_monitors
from modelwatch.demo.sink import PageSink
from modelwatch.demo.traffic import MODEL, Timeline, TrafficGenerator, features

CANDIDATE = Path(__file__).with_name("candidate.onnx")
TICK = timedelta(seconds=5)
STATUS_EVERY_S = 15.0
DASHBOARD_PORT = 8501


def _say(message: str) -> None:
    print(f"[demo] {message}", file=sys.stderr, flush=True)


def _prepare_store(engine: Any, monitors: Any) -> str:
    """Schema, models, a healthy reference, the shadow candidate; returns an ingest token."""
    import random

    from store.bootstrap import create_schema
    from store.catalog import sync_models, write_reference
    from store.tokens import create_token

    create_schema(engine)
    sync_models(engine, monitors)
    model = monitors.model(MODEL)
    rng = random.Random(3)
    write_reference(engine, model, "default", [features(rng, drifted=False) for _ in range(3000)], actor="demo")
    if importlib.util.find_spec("onnxruntime") is None:
        _say("shadow runner off: install onnxruntime (pip install 'modelwatch[cpu]') to see a shadow verdict")
    else:
        from shadow.registry import register_candidate

        register_candidate(engine, model, "gbm-candidate", CANDIDATE.read_bytes())
        _say("registered shadow candidate gbm-candidate (gradient boosting, ONNX) for " + MODEL)
    return create_token(engine, ["ingest", "read"], "demo", actor="demo")


def _traffic(url: str, token: str, stop: threading.Event, timeline: Timeline) -> threading.Thread:
    import modelwatch
    from modelwatch.client import Client

    def run() -> None:
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                import urllib.request

                urllib.request.urlopen(f"{url}/healthz", timeout=1).close()
                break
            except OSError:
                stop.wait(0.2)
        client: Client = modelwatch.Client(url, token, MODEL, "v1", flush_interval=0.5, flush_at_exit=False)
        generator = TrafficGenerator(client, timeline)
        generator.stop = stop
        _say(f"replaying the last {timeline.history_s / 60:.0f} minutes of traffic "
             f"(a feature drifts from {-timeline.drift_from_s / 60:.0f} minutes ago), then live at "
             f"{timeline.rate_per_s:.0f}/s; outage at +{timeline.outage_s[0]:.0f}s for "
             f"{timeline.outage_s[1] - timeline.outage_s[0]:.0f}s; labels {timeline.label_delay_s:.0f}s late")
        generator.replay_history()
        generator.run()
        client.close()

    thread = threading.Thread(target=run, name="demo-traffic", daemon=True)
    thread.start()
    return thread


def _every(stop: threading.Event, seconds: float, action: Callable[[], None], name: str) -> threading.Thread:
    def loop() -> None:
        while not stop.wait(seconds):
            action()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C; returns the exit status."""
    import uvicorn

    from alerts.cycle import alerting_config
    from alerts.worker import DeliveryWorker
    from analysis.jobs.scheduler import AnalysisScheduler
    from collector.app import create_app
    from config.loader import load_monitors
    from config.settings import Settings
    from modelwatch.demo.status import demo_status
    from store.engine import create_engine

    workdir = Path(tempfile.mkdtemp(prefix="modelwatch-demo-"))
    database_url = args.db or f"sqlite:///{workdir / 'demo.db'}"
    port = args.port or 8000
    stop = threading.Event()
    with PageSink() as sink:
        config = workdir / "monitors.yaml"
        dashboard_port = getattr(args, "dashboard_port", DASHBOARD_PORT)
        config.write_text(yaml.safe_dump(demo_monitors(sink.url, f"http://127.0.0.1:{dashboard_port or DASHBOARD_PORT}")))
        settings = Settings(database_url=database_url, config=config, host=args.host or "127.0.0.1", port=port)
        monitors = load_monitors(config)
        model = monitors.model(MODEL)
        assert model is not None
        engine = create_engine(database_url, hide_parameters=True)
        token = _prepare_store(engine, monitors)
        _say(f"store {database_url}; monitors {config}")

        scheduler = AnalysisScheduler(engine, monitors, tick=TICK)
        scheduler.start_background()
        alerting = alerting_config(monitors)
        assert alerting is not None  # the demo config routes every alert to the sink
        worker = DeliveryWorker(engine, alerting)
        threads = [threading.Thread(target=worker.run, args=(stop,), name="demo-delivery", daemon=True)]
        threads[0].start()
        from modelwatch.cli_shadow import start_background_runner

        stop_shadow = start_background_runner(settings, monitors)
        from modelwatch.cli_dashboard import start_background_dashboard

        stop_dashboard = start_background_dashboard(settings, dashboard_port, "127.0.0.1")
        url = f"http://127.0.0.1:{port}"
        threads.append(_traffic(url, token, stop, Timeline()))

        def report() -> None:
            status = demo_status(engine, model, datetime.now(timezone.utc))
            _say("status: " + " | ".join(status.lines()))

        threads.append(_every(stop, STATUS_EVERY_S, report, "demo-status"))
        _say(f"collector on {url} (token printed below for your own requests); Ctrl-C stops everything")
        print(token, flush=True)
        try:
            app = create_app(settings, engine=engine, monitors=monitors)
            uvicorn.run(app, host=settings.host, port=port, log_level="warning", access_log=False)
        finally:
            stop.set()
            stop_shadow()
            scheduler.shutdown()
            stop_dashboard()
            for thread in threads:
                thread.join(timeout=10)
            report()
            engine.dispose()
            _say(f"stopped; {len(sink.pages)} page(s) received; data kept in {workdir}")
    return 0
