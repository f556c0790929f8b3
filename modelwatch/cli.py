"""The ``modelwatch`` command line.

Only argparse is imported up front; every service is imported inside its command, so
``import modelwatch`` (the SDK) stays standard-library only and ``modelwatch --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

Command = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> Any:
    """Settings from the environment, with command-line flags taking precedence."""
    from config.settings import Settings

    overrides: dict[str, Any] = {}
    for flag, field in (("db", "database_url"), ("config", "config"), ("host", "host"), ("port", "port")):
        value = getattr(args, flag, None)
        if value is not None:
            overrides[field] = value
    return Settings(**overrides)


def _add_service_flags(parser: argparse.ArgumentParser, default_port: int | None = None) -> None:
    parser.add_argument("--host", help="interface to listen on (MODELWATCH_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=default_port, help="port to listen on (MODELWATCH_PORT, default 8000)")
    _add_db_flags(parser)


def _add_db_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database URL (MODELWATCH_DATABASE_URL, default sqlite:///./modelwatch.db)")
    parser.add_argument("--config", help="monitors YAML (MODELWATCH_CONFIG, default examples/monitors.yaml)")


def _print_config_errors(error: Exception) -> None:
    from config.loader import ConfigError

    if isinstance(error, ConfigError):
        print(f"FAILED: {error.source}: {len(error.issues)} error(s)", file=sys.stderr)
        for issue in error.issues:
            print(f"  {issue}", file=sys.stderr)
    else:
        print(f"FAILED: {error}", file=sys.stderr)


def _semantic_checks(monitors: Any) -> tuple[list[str], list[str]]:
    """Checks beyond the schema: SLO alert rules that can never fire (with expected detection
    times as information), each model's analysis section (thresholds included) and the alert
    routing tree. Returns (errors, information)."""
    from pydantic import ValidationError

    from alerts.config import parse_alerting
    from analysis.jobs.check import check_analysis
    from analysis.slo.check import check_slo, describe_detection
    from config.loader import _issues_from_validation

    errors: list[str] = []
    info: list[str] = []
    for i, model in enumerate(monitors.models):
        for j, slo in enumerate(model.slos):
            errors.extend(f"models[{i}].slos[{j}]: {problem}" for problem in check_slo(slo))
            info.extend(f"{model.name}: {line}" for line in describe_detection(slo))
        errors.extend(f"models[{i}].{problem}" for problem in check_analysis(model))
    if monitors.routes or monitors.receivers:
        try:
            parse_alerting(monitors.routes, monitors.receivers, monitors.inhibit_rules)
        except ValidationError as exc:
            for issue in _issues_from_validation(exc):
                # parse_alerting sees {route, receivers, inhibit_rules}; the YAML says routes.
                path = issue.path.replace("route", "routes", 1) if issue.path.startswith("route") and not issue.path.startswith("routes") else issue.path
                errors.append(f"{path}: {issue.message}")
    return errors, info


def cmd_check(args: argparse.Namespace) -> int:
    from config.loader import ConfigError, load_monitors

    status = 0
    for path in args.files:
        print(f"Checking {path}")
        try:
            monitors = load_monitors(path)
        except (ConfigError, OSError) as error:
            _print_config_errors(error)
            status = 1
            continue
        errors, info = _semantic_checks(monitors)
        if errors:
            print(f"FAILED: {path}: {len(errors)} error(s)", file=sys.stderr)
            for line in errors:
                print(f"  {line}", file=sys.stderr)
            status = 1
            continue
        features = sum(len(m.features) for m in monitors.models)
        slos = sum(len(m.slos) for m in monitors.models)
        print(f"  SUCCESS: {len(monitors.models)} model(s), {features} feature(s), {slos} SLO(s)")
        for line in info:
            print(f"  {line}")
    return status


def _open_store(settings: Any, create: bool = True) -> Any:
    from store.bootstrap import create_schema
    from store.engine import create_engine

    engine = create_engine(settings.database_url)
    if create:
        create_schema(engine, _timescale_policies(settings))
    return engine


def _timescale_policies(settings: Any) -> Any:
    """Hypertable retention from MODELWATCH_RETENTION_DAYS (else a restart would reset it)."""
    from store.retention import retention_policies, timescale_policies

    return timescale_policies(retention_policies(settings.retention_days))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from store.bootstrap import upgrade

    settings = _settings(args)
    upgrade(settings.database_url, policies=_timescale_policies(settings))
    print(f"database at {_safe_url(settings.database_url)} is at the latest schema revision")
    return 0


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_token_create(args: argparse.Namespace) -> int:
    from store.tokens import create_token

    engine = _open_store(_settings(args))
    token = create_token(engine, scopes=args.scope, name=args.name)
    # The token alone on stdout, so scripts can capture it; it is never shown again.
    print(token)
    return 0


def _load_monitors_or_exit(settings: Any) -> Any:
    from config.loader import ConfigError, load_monitors

    try:
        return load_monitors(settings.config)
    except (ConfigError, OSError) as error:
        _print_config_errors(error)
        raise SystemExit(2) from None


def tune_gc_for_serving() -> None:
    """Move what exists now (modules, the app, its config: ~150k objects) into the permanent
    generation, so the full collections that batches of records trigger no longer rescan it
    (GC was ~0.6 us of CPU per ingested row, ~0.25 after). A higher first-generation threshold
    saved nothing measurable on top, so the defaults stay."""
    import gc

    gc.collect()
    gc.freeze()


def collector_app_from_environment() -> Any:
    """App factory for multi-process serving: each uvicorn worker builds its own app from the
    MODELWATCH_* environment the parent exported."""
    from collector.app import create_app
    from config.settings import Settings

    app = create_app(Settings())
    tune_gc_for_serving()
    return app


def _serve_collector(settings: Any, workers: int = 1) -> None:
    import os

    import uvicorn

    from collector.app import create_app

    monitors = _load_monitors_or_exit(settings)
    engine = _open_store(settings)
    from modelwatch.cli_store import audit_config_load

    audit_config_load(engine, settings, "collector", monitors)
    print(f"modelwatch collector on http://{settings.host}:{settings.port}  "
          f"(store {_safe_url(settings.database_url)}, {len(monitors.models)} model(s) from {settings.config}"
          f"{f', {workers} workers' if workers > 1 else ''})", file=sys.stderr)
    if workers > 1:
        engine.dispose()
        # Workers are separate processes: hand them the resolved settings through the environment.
        os.environ.update({"MODELWATCH_DATABASE_URL": settings.database_url, "MODELWATCH_CONFIG": str(settings.config)})
        uvicorn.run("modelwatch.cli:collector_app_from_environment", factory=True, workers=workers,
                    host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False)
        return
    app = create_app(settings, engine=engine, monitors=monitors)
    tune_gc_for_serving()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                access_log=False)


def cmd_collector(args: argparse.Namespace) -> int:
    _serve_collector(_settings(args), workers=args.workers)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """Everything on one machine: the collector with its store and the analysis scheduler (a
    background thread of this process, stopped after the collector on Ctrl-C); the shadow
    runner and dashboard join here as they are built."""
    if args.demo:
        from modelwatch.demo.stack import run_demo  # services and a synthetic model, fresh SQLite

        return run_demo(args)
    settings = _settings(args)
    engine = _open_store(settings)
    from store.tokens import list_tokens

    from modelwatch.cli_analysis import start_background_scheduler

    if not list_tokens(engine):
        print("no API tokens yet: create one with  modelwatch token create --scope ingest", file=sys.stderr)
    engine.dispose()
    stop_scheduler = start_background_scheduler(settings, _load_monitors_or_exit(settings))
    from modelwatch.cli_shadow import start_background_runner

    stop_shadow = start_background_runner(settings, _load_monitors_or_exit(settings))
    from modelwatch.cli_dashboard import start_background_dashboard

    stop_dashboard = start_background_dashboard(settings, args.dashboard_port, settings.host)
    try:
        _serve_collector(settings)
    finally:
        stop_dashboard()
        stop_shadow()
        stop_scheduler()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modelwatch", description="Model monitoring and SLO observability.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run the whole service on one machine (SQLite by default)")
    _add_service_flags(up)
    up.add_argument("--dashboard-port", type=int, default=8501, help="dashboard port (0: no dashboard; default 8501)")
    up.add_argument("--demo", action="store_true",
                    help="a fresh SQLite store and a synthetic model sending traffic: drift, an outage, a page, a shadow verdict")
    up.set_defaults(func=cmd_up)

    collector = sub.add_parser("collector", help="run the ingestion API alone")
    _add_service_flags(collector)
    collector.add_argument("--workers", type=int, default=1, help="collector processes sharing the port")
    collector.set_defaults(func=cmd_collector)

    check = sub.add_parser("check", help="validate monitors YAML files and print every error with its path")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=cmd_check)

    db = sub.add_parser("db", help="database administration")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_upgrade = db_sub.add_parser("upgrade", help="apply schema migrations (Alembic) up to the latest revision")
    _add_db_flags(db_upgrade)
    db_upgrade.set_defaults(func=cmd_db_upgrade)

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", help="create a token and print it alone on stdout")
    create.add_argument("--scope", action="append", required=True, choices=["ingest", "read", "admin"],
                        help="scope to grant; repeat for several")
    create.add_argument("--name", default="cli", help="a label to recognise the token by")
    _add_db_flags(create)
    create.set_defaults(func=cmd_token_create)

    from modelwatch.cli_alerts import add_alert_commands  # argparse only; services load per command

    add_alert_commands(sub, _add_db_flags)
    from modelwatch.cli_analysis import add_analysis_commands

    add_analysis_commands(sub, _add_db_flags)
    from modelwatch.cli_shadow import add_shadow_commands

    add_shadow_commands(sub, _add_db_flags)
    from modelwatch.cli_canary import add_canary_commands

    add_canary_commands(sub, _add_db_flags)
    from modelwatch.cli_dashboard import add_dashboard_commands

    add_dashboard_commands(sub, _add_db_flags)
    from modelwatch.cli_store import add_store_commands

    add_store_commands(sub, _add_db_flags)
    from modelwatch.cli_deploys import add_deploy_commands

    add_deploy_commands(sub, _add_db_flags)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
