"""``modelwatch canary report``: the canary version against the stable one, side by side, and the
verdict (promote / roll back / keep watching) with its reasons.

Like the rest of the CLI, only argparse is imported up front; the analysis, the store and rich
are imported inside the command.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from modelwatch.cli_shadow import _fail, _model  # shared: a failed command exits 2

__all__ = ["add_canary_commands"]

STYLES = {"promote": "bold green", "rollback": "bold red", "keep_watching": "bold yellow"}


def _window(args: argparse.Namespace, model: Any) -> tuple[datetime, datetime]:
    """[from, to): --to (default now) minus --window (default the model's canary.window), or --from."""
    from config.durations import parse_duration
    from modelwatch.cli_analysis import _time

    end = _time(args.end, "--to") if args.end else datetime.now(timezone.utc)
    if args.start:
        return _time(args.start, "--from"), end
    try:
        length = parse_duration(args.window) if args.window else model.canary.window
    except ValueError as exc:
        raise SystemExit(_fail(f"--window: {exc}")) from None
    return end - length, end


def _cell(value: float | None, text: Callable[[float], str]) -> str:
    return "-" if value is None or not math.isfinite(value) else text(value)


def _rows(report: Any) -> list[tuple[str, str, str, str, str]]:
    """(metric, stable, canary, canary - stable with its interval, q) per table row."""
    from analysis.stats.wording import ms, pct, pp, relative

    c = report.comparison
    q = {g.metric: _cell(g.q_value, lambda v: "< 0.001" if v < 0.001 else f"{v:.3f}") for g in report.verdict.guards}
    lat, e = c.latency, c.errors
    rows = [("requests", f"{c.stable.requests:,}", f"{c.canary.requests:,}", "", ""),
            ("error rate", pct(c.stable.error_rate), pct(c.canary.error_rate),
             f"{pp(e.difference)} [{pp(e.lower)}, {pp(e.upper)}]", q.get("error_rate", ""))]
    for name in ("p50", "p95", "p99"):
        s, k = getattr(lat.stable, name), getattr(lat.canary, name)
        change = relative(k / s - 1.0) if math.isfinite(s) and math.isfinite(k) and s > 0 else ""
        if name == "p99" and lat.tail is not None:  # what the q is about: the share in the tail
            change += f" (> {lat.tail_bound_ms:g} ms: {pct(lat.tail.b)} vs {pct(lat.tail.a)})"
        rows.append((f"latency {name}", ms(s), ms(k), change, q.get("latency_p99", "") if name == "p99" else ""))
    if c.quality is not None:
        m = c.quality
        shown: Callable[[float], str] = pct if m.metric == "accuracy" else (lambda v: f"{v:.4g}")
        delta: Callable[[float], str] = pp if m.metric == "accuracy" else (lambda v: f"{v:+.4g}")
        rows.append((m.metric, shown(m.stable), shown(m.canary), f"{delta(m.difference)} [{delta(m.lower)}, "
                     f"{delta(m.upper)}]", q.get(m.metric, "")))
    rows.append(("labelled / sampled", f"{c.stable.labelled:,} / {c.stable.sampled:,}",
                 f"{c.canary.labelled:,} / {c.canary.sampled:,}", "", ""))
    for shift in c.predictions:
        rows.append((f"{shift.column} distribution", "", shift.status.replace("_", " "),
                     f"{shift.method} {shift.effect_size:.3g}", _cell(shift.p_adjusted, lambda v: f"{v:.3g}")))
    if len(c.drift) == 2:
        s_d, k_d = c.drift
        rows.append((f"inputs drifting vs {report.reference}", f"{s_d.n_drifted} of {s_d.features}",
                     f"{k_d.n_drifted} of {k_d.features}", "", ""))
    return rows


def _print_report(report: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from analysis.canary.verdict import HEADLINES

    console = Console(width=max(Console().width, 110))
    roles, verdict = report.roles, report.verdict
    table = Table(title=f"canary report for {report.model}: canary {roles.canary} vs stable {roles.stable} "
                        f"({roles.why}), {report.start.isoformat(timespec='seconds')} to "
                        f"{report.end.isoformat(timespec='seconds')}", title_justify="left")
    for heading in ("metric", f"stable {roles.stable}", f"canary {roles.canary}", "canary - stable [CI]", "q"):
        table.add_column(heading, justify="left" if heading in ("metric", "canary - stable [CI]") else "right")
    for row in _rows(report):
        table.add_row(*row)
    console.print(table)
    console.print(HEADLINES[verdict.decision], style=STYLES[verdict.decision], highlight=False)
    for reason in verdict.reasons:
        console.print(f"  - {reason}", highlight=False, soft_wrap=True)
    for note in ([roles.note] if roles.note else []) + list(verdict.notes):
        console.print(f"  note: {note}", style="dim", highlight=False, soft_wrap=True)


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.canary.report import canary_report
    from analysis.canary.roles import CanaryError
    from modelwatch.cli_analysis import _store_and_monitors

    if args.stable is not None and args.stable == args.canary:
        return _fail(f"--stable and --canary are both {args.stable!r}: name two different versions")
    _, engine, monitors = _store_and_monitors(args)
    try:
        model = _model(monitors, args.model)
        start, end = _window(args, model)
        if start >= end:
            return _fail("--from must be before --to")
        report = canary_report(engine, model, start, end, stable=args.stable, canary=args.canary)
    except CanaryError as exc:
        return _fail(str(exc))
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    return 0


def add_canary_commands(sub: Any, add_db_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    canary = sub.add_parser("canary", help="compare a canary version with the stable one serving beside it")
    actions = canary.add_subparsers(dest="canary_command", required=True, metavar="ACTION")
    report = actions.add_parser("report", help="error rate, latency, predictions, drift, accuracy and the verdict")
    report.add_argument("--model", required=True)
    report.add_argument("--stable", help="the stable version (default: the policy's, else the one that served first)")
    report.add_argument("--canary", help="the canary version (default: the newest other version serving)")
    report.add_argument("--window", help="how far back from --to, like 1h or 30m (default: the model's canary.window)")
    report.add_argument("--from", dest="start", metavar="T1", help="start of the window instead of --window")
    report.add_argument("--to", dest="end", metavar="T2", help="end of the window (default: now)")
    report.add_argument("--json", action="store_true", help="the API's JSON instead of the table")
    add_db_flags(report)
    report.set_defaults(func=cmd_report)
