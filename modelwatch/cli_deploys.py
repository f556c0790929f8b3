"""``modelwatch deploy record|list``: deploy events written to and read from the store directly.

The same records ``POST /v1/deploys`` and ``GET /v1/models/{name}/deploys`` manage, validated by
the same rules (store.deploys.deploy_problems). Like the rest of the CLI, only argparse is
imported up front.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import datetime, timedelta
from typing import Any

__all__ = ["add_deploy_commands"]


def _time(text: str) -> datetime:
    """RFC 3339 (``Z`` accepted); a time without an offset stays naive and is refused later."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _artifact_sha256(path: str) -> str:
    """Hex SHA-256 of the file, read in chunks (model artifacts can be gigabytes)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fail(message: str) -> int:
    print(f"FAILED: {message}", file=sys.stderr)
    return 1


def cmd_deploy_record(args: argparse.Namespace) -> int:
    from modelwatch.cli import _load_monitors_or_exit, _open_store, _settings
    from store.audit import cli_actor
    from store.catalog import sync_models
    from store.deploys import deploy_problems, record_deploy
    from store.types import utc_now

    settings = _settings(args)
    monitors = _load_monitors_or_exit(settings)
    try:
        when = _time(args.time) if args.time else None
        sha = _artifact_sha256(args.artifact) if args.artifact else args.artifact_sha256
    except ValueError:
        return _fail(f"--time {args.time!r} is not an RFC 3339 time")
    except OSError as exc:
        return _fail(f"--artifact {args.artifact}: {exc.strerror or exc}")
    now = utc_now()
    problems = deploy_problems(args.model, args.version, sha, args.note, when, [m.name for m in monitors.models], now)
    if problems:
        return _fail("; ".join(f"--{field.replace('_', '-')}: {message}" for field, message in problems))
    engine = _open_store(settings)
    try:
        sync_models(engine, monitors)  # model_versions refers to the models table
        event = record_deploy(engine, args.model, args.version, source="cli", actor=cli_actor(), time=when or now,
                              artifact_sha256=sha, note=args.note)
    finally:
        engine.dispose()
    # The id alone on stdout, for scripts; what was recorded on stderr.
    print(event.id)
    print(f"recorded deploy of {event.model} {event.version} at {event.time.isoformat()}"
          + (f" (artifact {event.artifact_sha256[:12]})" if event.artifact_sha256 else ""), file=sys.stderr)
    return 0


def cmd_deploy_list(args: argparse.Namespace) -> int:
    from modelwatch.cli import _open_store, _settings
    from store.deploy_reads import list_deploys
    from store.types import utc_now

    try:
        end = _time(args.end) if args.end else utc_now()
        start = _time(args.start) if args.start else end - timedelta(days=args.days)
    except ValueError:
        return _fail("--from/--to must be RFC 3339 times")
    if start.tzinfo is None or end.tzinfo is None:
        return _fail("--from/--to must carry a time zone offset (e.g. Z)")
    engine = _open_store(_settings(args))
    try:
        events = list_deploys(engine, args.model, start, end)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([e.as_dict() for e in events], indent=2))
        return 0
    if not events:
        print(f"no deploys of {args.model} between {start.isoformat()} and {end.isoformat()}", file=sys.stderr)
        return 0
    print(f"{'TIME (UTC)':20}  {'VERSION':20}  {'SOURCE':6}  {'ARTIFACT':12}  {'ACTOR':20}  NOTE")
    for e in events:
        print(f"{e.time.strftime('%Y-%m-%d %H:%M:%S'):20}  {e.version[:20]:20}  {e.source:6}  "
              f"{(e.artifact_sha256 or '')[:12]:12}  {e.actor[:20]:20}  {e.note or ''}")
    return 0


def add_deploy_commands(sub: Any, add_db_flags: Any) -> None:
    """Register ``deploy record`` and ``deploy list`` on the CLI's subparsers."""
    deploy = sub.add_parser("deploy", help="deploy events: record a rollout, list a model's deploys")
    deploy_sub = deploy.add_subparsers(dest="deploy_command", required=True, metavar="ACTION")
    record = deploy_sub.add_parser("record", help="record a deploy and print its id alone on stdout")
    record.add_argument("--model", required=True, help="a model declared in the monitors config")
    record.add_argument("--version", required=True, help="the version now serving, e.g. 2.5.0")
    artifact = record.add_mutually_exclusive_group()
    artifact.add_argument("--artifact-sha256", help="SHA-256 of the deployed artifact (64 hex characters)")
    artifact.add_argument("--artifact", metavar="PATH", help="the artifact file: its SHA-256 is recorded")
    record.add_argument("--note", help="what changed (shown with the deploy on pages and charts)")
    record.add_argument("--time", help="when it went live, RFC 3339 with an offset (default: now)")
    add_db_flags(record)
    record.set_defaults(func=cmd_deploy_record)
    listing = deploy_sub.add_parser("list", help="a model's deploys, newest first")
    listing.add_argument("--model", required=True)
    listing.add_argument("--from", dest="start", help="RFC 3339 (default: --days before --to)")
    listing.add_argument("--to", dest="end", help="RFC 3339 (default: now)")
    listing.add_argument("--days", type=float, default=30.0, help="range when --from is not given (default 30)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_db_flags(listing)
    listing.set_defaults(func=cmd_deploy_list)
