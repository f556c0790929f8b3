"""``modelwatch silence add|list|expire`` and ``modelwatch rules export``.

Like the rest of the CLI, only argparse is imported up front; the store and alerts code are
imported inside each command. Silences are written to the database (``--db``), the same
records ``/v1/silences`` manages.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import datetime, timezone
from typing import Any

__all__ = ["add_alert_commands"]



def _engine(args: argparse.Namespace) -> Any:
    from modelwatch.cli import _open_store, _settings

    return _open_store(_settings(args))


def _time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def cmd_silence_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from alerts.silence_service import create_silence
    from store.types import utc_now
    from config.durations import parse_duration

    engine = _engine(args)
    try:
        silence = create_silence(
            engine, args.matcher, args.author or getpass.getuser(), args.comment, utc_now(),
            duration=parse_duration(args.duration) if args.duration else None,
            starts_at=_time(args.start) if args.start else None, ends_at=_time(args.end) if args.end else None,
            actor=f"cli:{args.author or getpass.getuser()}",
        )
    except (ValueError, ValidationError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    # The id alone on stdout, so scripts can expire it later.
    print(silence.id)
    print(f"silenced {', '.join(str(m) for m in silence.matchers)} until {silence.ends_at.isoformat()}", file=sys.stderr)
    return 0


def cmd_silence_list(args: argparse.Namespace) -> int:
    from alerts.silence_service import list_silences
    from store.types import utc_now

    engine = _engine(args)
    try:
        views = list_silences(engine, utc_now(), include_expired=args.all)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([v.as_dict() for v in views], indent=2))
        return 0
    if not views:
        print("no silences", file=sys.stderr)
        return 0
    print(f"{'ID':36}  {'STATE':8}  {'ENDS (UTC)':20}  {'AUTHOR':16}  MATCHERS / COMMENT")
    for v in views:
        s = v.silence
        print(f"{s.id:36}  {v.state.value:8}  {s.ends_at.strftime('%Y-%m-%d %H:%M:%S'):20}  {s.created_by[:16]:16}  "
              f"{', '.join(str(m) for m in s.matchers)}  # {s.comment}")
    return 0


def cmd_silence_expire(args: argparse.Namespace) -> int:
    from alerts.silence_service import expire_silence
    from store.types import utc_now

    engine = _engine(args)
    try:
        done = expire_silence(engine, args.id, utc_now(), actor=f"cli:{getpass.getuser()}")
    finally:
        engine.dispose()
    if not done:
        print(f"FAILED: no running or pending silence {args.id}", file=sys.stderr)
        return 1
    print(f"expired {args.id}", file=sys.stderr)
    return 0


def _block_strings(dumper: Any, value: str) -> Any:
    # Multi-line PromQL reads best as a literal block.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def cmd_rules_export(args: argparse.Namespace) -> int:
    import yaml

    from alerts.prom_rules import prometheus_rules
    from modelwatch.cli import _load_monitors_or_exit, _settings

    monitors = _load_monitors_or_exit(_settings(args))
    class RulesDumper(yaml.SafeDumper):
        pass

    RulesDumper.add_representer(str, _block_strings)
    text = yaml.dump(prometheus_rules(monitors), Dumper=RulesDumper, sort_keys=False, width=160)
    if args.output and args.output != "-":
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def add_alert_commands(sub: Any, add_db_flags: Any) -> None:
    """Register ``silence`` and ``rules`` on the CLI's subparsers."""
    silence = sub.add_parser("silence", help="silences: mute matching alerts for a while")
    silence_sub = silence.add_subparsers(dest="silence_command", required=True, metavar="ACTION")
    add = silence_sub.add_parser("add", help="create a silence and print its id alone on stdout")
    add.add_argument("--matcher", action="append", required=True,
                     help="label matcher like 'model=\"m\"' or 'severity=~\"page|ticket\"'; repeat for several (all must match)")
    add.add_argument("--comment", required=True, help="why (shown to whoever sees the muted alert)")
    add.add_argument("--author", help="who (default: the current user)")
    add.add_argument("--duration", help="how long, e.g. 2h or 30m (or give --end)")
    add.add_argument("--start", help="start time, RFC 3339 (default: now)")
    add.add_argument("--end", help="end time, RFC 3339")
    add_db_flags(add)
    add.set_defaults(func=cmd_silence_add)
    listing = silence_sub.add_parser("list", help="active and pending silences")
    listing.add_argument("--all", action="store_true", help="include expired silences")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_db_flags(listing)
    listing.set_defaults(func=cmd_silence_list)
    expire = silence_sub.add_parser("expire", help="end a silence now")
    expire.add_argument("id", metavar="ID")
    add_db_flags(expire)
    expire.set_defaults(func=cmd_silence_expire)

    rules = sub.add_parser("rules", help="Prometheus rules equivalent to modelwatch's SLO alerting")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    export = rules_sub.add_parser("export", help="write recording and multiwindow burn-rate alerting rules (promtool-checked)")
    export.add_argument("--config", help="monitors YAML (MODELWATCH_CONFIG, default examples/monitors.yaml)")
    export.add_argument("-o", "--output", help="file to write (default: stdout)")
    export.set_defaults(func=cmd_rules_export)
