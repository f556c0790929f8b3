"""``modelwatch analyze`` (backfill a range of windows) and ``modelwatch scheduler``.

Like the rest of the CLI, only argparse is imported up front; analysis and the store are
imported inside each command.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

__all__ = ["add_analysis_commands", "start_background_scheduler", "start_delivery"]


def _time(text: str, flag: str) -> datetime:
    """RFC 3339 (naive = UTC), a date, or epoch seconds -> aware UTC. Exits 2 when unreadable."""
    try:
        value = datetime.fromtimestamp(float(text), timezone.utc)
    except ValueError:
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            print(f"FAILED: {flag} {text!r} is not an RFC 3339 time, a date or epoch seconds", file=sys.stderr)
            raise SystemExit(2) from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _store_and_monitors(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from modelwatch.cli import _load_monitors_or_exit, _settings
    from store.bootstrap import create_schema
    from store.catalog import sync_models
    from store.engine import create_engine

    settings = _settings(args)
    monitors = _load_monitors_or_exit(settings)
    # hide_parameters: a driver error must never carry feature values into the logs
    engine = create_engine(settings.database_url, hide_parameters=True)
    create_schema(engine)
    sync_models(engine, monitors)
    return settings, engine, monitors


def cmd_analyze(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from analysis.jobs.backfill import backfill, backfill_windows
    from analysis.jobs.run import RunContext
    from store.types import utc_now
    from analysis.jobs.schedule import model_analysis
    from analysis.jobs.scheduler import scheduler_owner

    start, end = _time(args.start, "--from"), _time(args.end, "--to")
    if start >= end:
        print("FAILED: --from must be before --to", file=sys.stderr)
        return 2
    _, engine, monitors = _store_and_monitors(args)
    model = monitors.model(args.model)
    if model is None:
        print(f"FAILED: unknown model {args.model!r}; declared: {', '.join(m.name for m in monitors.models)}",
              file=sys.stderr)
        return 2
    kinds = tuple(args.kind) if args.kind else ("drift", "quality", "performance", "freshness")
    analysis = model_analysis(model)
    context = RunContext(engine, scheduler_owner())
    total = len(backfill_windows(start, end, utc_now(), analysis))
    console = Console(stderr=True)
    began = time.perf_counter()
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, disable=args.quiet) as progress:
            task = progress.add_task(f"{model.name}", total=total)
            report = backfill(context, model, analysis, start, end, kinds=kinds,
                              on_window=lambda _w, _o: progress.advance(task))
    except KeyboardInterrupt:
        context.stop.set()
        return 130
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - began
    rows = sum(o.n_rows for o in report.outcomes)
    results = sum(o.n_results for o in report.outcomes)
    print(f"{model.name}: {len(report.windows)} window(s) in [{start.isoformat()}, {end.isoformat()}): "
          f"{report.done} analysed, {len(report.busy)} held by a running scheduler, {len(report.failed)} failed; "
          f"drift in {report.drifted}; {rows} prediction(s) read, {results} result(s) written in {elapsed:.1f}s")
    for outcome in report.failed:
        print(f"  failed {outcome.window}: {outcome.error}", file=sys.stderr)
    return 1 if report.failed else 0


def _scheduler(engine: Any, monitors: Any, args: argparse.Namespace, settings: Any = None) -> Any:
    from datetime import timedelta

    from analysis.jobs.scheduler import AnalysisScheduler
    from store.retention import retention_policies

    retention = retention_policies(settings.retention_days) if settings is not None else None
    return AnalysisScheduler(engine, monitors, tick=timedelta(seconds=getattr(args, "tick", 60)),
                             workers=getattr(args, "workers", 1), retention=retention)


def _nothing() -> None:
    pass


def start_delivery(engine: Any, monitors: Any) -> Callable[[], None]:
    """The outbox's delivery worker (alerts.worker) in a daemon thread beside the scheduler, which
    fills the outbox; returns the function that stops it. A no-op without routes and receivers.
    Workers on several schedulers share the outbox through leases, so replicas are safe."""
    import threading

    from alerts.cycle import alerting_config
    from alerts.worker import DeliveryWorker

    alerting = alerting_config(monitors)
    if alerting is None:
        return _nothing
    stop = threading.Event()
    thread = threading.Thread(target=DeliveryWorker(engine, alerting).run, args=(stop,), name="modelwatch-delivery",
                              daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=30)

    return halt


def cmd_scheduler(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings, engine, monitors = _store_and_monitors(args)
    from modelwatch.cli_store import audit_config_load

    audit_config_load(engine, settings, "scheduler", monitors)
    scheduler = _scheduler(engine, monitors, args, settings)
    stop_delivery: Callable[[], None] = _nothing
    try:
        if args.once:
            report = scheduler.run_once()
            from alerts.cycle import alerting_config
            from alerts.worker import DeliveryWorker

            alerting = alerting_config(monitors)
            if alerting is not None:  # what this cycle enqueued goes out before exiting
                DeliveryWorker(engine, alerting).deliver_due()
            done = sum(o.status == "done" for o in report.outcomes)
            print(f"cycle: {done} window(s) analysed, {len(report.failed_windows)} failed, "
                  f"{len(report.failed_models)} model(s) failed")
            return 1 if report.failed_models or report.failed_windows else 0
        print(f"modelwatch scheduler: {len(monitors.models)} model(s) from {settings.config}, "
              f"owner {scheduler.context.owner}", file=sys.stderr)
        stop_delivery = start_delivery(engine, monitors)
        scheduler.run_forever()
    finally:
        stop_delivery()
        engine.dispose()
    return 0


def start_background_scheduler(settings: Any, monitors: Any) -> Callable[[], None]:
    """The scheduler in a background thread of this process (``modelwatch up``); returns the
    function that stops it (waiting for the window in progress) and closes its engine."""
    from store.catalog import sync_models
    from store.engine import create_engine

    engine = create_engine(settings.database_url, hide_parameters=True)
    sync_models(engine, monitors)
    from modelwatch.cli_store import audit_config_load

    audit_config_load(engine, settings, "scheduler", monitors)
    scheduler = _scheduler(engine, monitors, argparse.Namespace(), settings)
    scheduler.start_background()
    stop_delivery = start_delivery(engine, monitors)

    def stop() -> None:
        scheduler.shutdown()
        stop_delivery()
        engine.dispose()

    return stop


def add_analysis_commands(sub: Any, add_db_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    analyze = sub.add_parser("analyze", help="analyse (backfill) a model's windows in a time range, with progress")
    analyze.add_argument("--model", required=True, help="the model, as declared in monitors.yaml")
    analyze.add_argument("--from", dest="start", required=True, metavar="T1", help="RFC 3339, date or epoch seconds")
    analyze.add_argument("--to", dest="end", required=True, metavar="T2", help="windows starting before T2")
    analyze.add_argument("--kind", action="append", choices=["drift", "quality", "performance", "freshness"],
                         help="only this kind (repeat for several; default all)")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")
    add_db_flags(analyze)
    analyze.set_defaults(func=cmd_analyze)

    scheduler = sub.add_parser("scheduler", help="run the analysis scheduler (drift, quality, performance, alerts)")
    scheduler.add_argument("--tick", type=float, default=60.0, help="seconds between cycles (default 60)")
    scheduler.add_argument("--workers", type=int, default=1, help="models analysed at once (default 1)")
    scheduler.add_argument("--once", action="store_true", help="run one cycle and exit")
    add_db_flags(scheduler)
    scheduler.set_defaults(func=cmd_scheduler)
