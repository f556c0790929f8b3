"""``modelwatch shadow``: add / list / remove candidates, backtest, report, run.

Like the rest of the CLI, only argparse is imported up front; ONNX Runtime, the store and the
shadow package are imported inside each command.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

__all__ = ["add_shadow_commands", "start_background_runner"]

PROVIDERS = {"tensorrt": "TensorrtExecutionProvider", "cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}
DEFAULT_REPORT_RANGE = timedelta(days=7)


def _fail(message: str) -> int:
    print(f"FAILED: {message}", file=sys.stderr)
    return 2


def _session_config(args: argparse.Namespace) -> Any:
    from shadow.session import SessionConfig

    providers = tuple(PROVIDERS[p] for p in args.provider) if getattr(args, "provider", None) else None
    return SessionConfig(providers=providers, intra_op_threads=getattr(args, "threads", None))


def _model(monitors: Any, name: str) -> Any:
    model = monitors.model(name)
    if model is None:
        print(f"FAILED: unknown model {name!r}; declared: {', '.join(m.name for m in monitors.models)}", file=sys.stderr)
        raise SystemExit(2)
    return model


def _read_mapping(path: str | None) -> tuple[Any, Any]:
    """(InputMapping or None, OutputSemantics or None) from a mapping YAML file."""
    import yaml

    from shadow.mapping import parse_mapping
    from shadow.outputs import parse_semantics

    if path is None:
        return None, None
    document = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(document, dict):
        raise SystemExit(_fail(f"{path}: expected a mapping with inputs (and optional encodings, missing, outputs)"))
    outputs = document.pop("outputs", None)
    semantics = None
    if outputs is not None:
        kind = "regressor" if "value" in outputs else "classifier"
        semantics = parse_semantics({"kind": kind, **outputs})
    return (parse_mapping(document) if document else None), semantics


def cmd_add(args: argparse.Namespace) -> int:
    from modelwatch.cli_analysis import _store_and_monitors
    from shadow.errors import ShadowError
    from shadow.registry import register_candidate
    from store.audit import cli_actor

    _, engine, monitors = _store_and_monitors(args)
    model = _model(monitors, args.model)
    try:
        mapping, semantics = _read_mapping(args.mapping)
        content = Path(args.file).read_bytes()
        production = Path(args.production).read_bytes() if args.production else None
        result = register_candidate(engine, model, args.name, content, mapping, semantics, production,
                                    args.sample_rate, _session_config(args), actor=cli_actor())
    except (ShadowError, OSError) as exc:
        return _fail(str(exc))
    finally:
        engine.dispose()
    c = result.candidate
    verb = "registered" if result.created else "already registered (same sha256)"
    print(f"{model.name}/{c.name} {verb}: sha256 {c.sha256}, {c.semantics.kind}, inputs "
          + ", ".join(f"{t.name}[{c.mapping.width(t)}]" for t in c.mapping.inputs)
          + f"; validated on {result.sample_rows or 'one synthetic'} row(s) with {result.provider}")
    if result.production is not None:
        print(f"{model.name}/{result.production.name}: production ONNX for the noise floor, sha256 {result.production.sha256}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from modelwatch.cli_analysis import _store_and_monitors
    from shadow.registry import list_candidates

    _, engine, _monitors = _store_and_monitors(args)
    try:
        found = list_candidates(engine, args.model, include_removed=args.all)
    finally:
        engine.dispose()
    if not found:
        print("no shadow candidates")
    for c in found:
        state = f"removed {c.removed_at.isoformat()}" if c.removed_at else "active"
        role = "production (noise floor)" if c.production else "candidate"
        print(f"{c.model}/{c.name}  {role}  sha256 {c.sha256[:12]}  {c.semantics.kind}  provider {c.provider or '-'}  "
              f"sample {c.sample_rate:g}  created {c.created_at.isoformat()}  {state}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from modelwatch.cli_analysis import _store_and_monitors
    from shadow.errors import ShadowError
    from shadow.registry import remove_candidate
    from store.audit import cli_actor

    _, engine, _monitors = _store_and_monitors(args)
    try:
        removed = remove_candidate(engine, args.model, args.name, actor=cli_actor())
    except ShadowError as exc:
        return _fail(str(exc))
    finally:
        engine.dispose()
    print(f"{removed.model}/{removed.name} removed; its outputs stay for reports")
    return 0


def _counts(engine: Any, model: str, candidate_id: int, start: datetime, end: datetime) -> tuple[int, int]:
    """(predictions in the range, of those already replayed by the candidate): the bar's total and start."""
    import sqlalchemy as sa

    from store.schema import predictions as p
    from store.schema_shadow import shadow_outputs as s

    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(p)
                             .where(p.c.model == model, p.c.time >= start, p.c.time < end)).scalar_one()
        done = conn.execute(sa.select(sa.func.count()).select_from(s)
                            .where(s.c.candidate_id == candidate_id, s.c.time >= start, s.c.time < end)).scalar_one()
    return int(total), int(done)


def cmd_backtest(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from modelwatch.cli_analysis import _store_and_monitors, _time
    from shadow.errors import ShadowError
    from shadow.registry import get_candidate, list_candidates, load_candidate
    from shadow.replay import backtest

    start, end = _time(args.start, "--from"), _time(args.end, "--to")
    if start >= end:
        return _fail("--from must be before --to")
    _, engine, monitors = _store_and_monitors(args)
    model = _model(monitors, args.model)
    status = 0
    try:
        chosen = [get_candidate(engine, model.name, args.candidate)] if args.candidate else list_candidates(engine, model.name)
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), TextColumn("{task.fields[provider]}"), console=Console(stderr=True),
                      disable=args.quiet) as progress:
            for cand in chosen:
                loaded = load_candidate(engine, model, cand, _session_config(args))
                total, done = _counts(engine, model.name, cand.id, start, end)
                task = progress.add_task(cand.name, total=total, completed=done, provider=loaded.runnable.session.provider)
                def advance(read: int, _replayed: int, task_id: Any = task) -> None:
                    progress.advance(task_id, read)

                outcome = backtest(engine, model, loaded, start, end, batch_size=args.batch_size, restart=args.restart,
                                   rows_per_second=args.rate, on_batch=advance)
                progress.update(task, completed=total)
                print(f"{model.name}/{cand.name}: {outcome.rows_replayed} row(s) replayed in {outcome.batches} batch(es), "
                      f"{outcome.errors} error(s), {outcome.seconds:.1f}s on {outcome.provider}"
                      + ("" if outcome.rows_read or not outcome.finished else " (range already done)"))
    except ShadowError as exc:
        status = _fail(str(exc))
    except KeyboardInterrupt:
        print("interrupted: the next backtest of the same range resumes where this one stopped", file=sys.stderr)
        status = 130
    finally:
        engine.dispose()
    return status


def _print_report(report: Any) -> None:
    print(f"shadow report for {report.model}, {report.start.isoformat()} to {report.end.isoformat()}")
    if report.noise_floor is not None:
        nf = report.noise_floor
        print(f"  noise floor ({nf.candidate}): agreement {100 * nf.agreement:.2f}% on {nf.n} row(s)")
    if not report.candidates:
        print("  no active candidates")
    for c in report.candidates:
        print(f"\n  {c.candidate.name}: {c.verdict.decision.upper()}  [{c.candidate.provider or 'provider unknown'}]")
        print(f"    {c.verdict.summary}")
        for reason in c.verdict.reasons:
            print(f"    - {reason}")
        for s in c.slices[:3]:
            print(f"    slice {s.key}={s.value}: agreement {100 * s.agreement:.1f}% (n = {s.n})")


def cmd_report(args: argparse.Namespace) -> int:
    from modelwatch.cli_analysis import _store_and_monitors, _time
    from shadow.errors import ShadowError
    from shadow.report import shadow_report

    end = _time(args.end, "--to") if args.end else datetime.now(timezone.utc)
    start = _time(args.start, "--from") if args.start else end - DEFAULT_REPORT_RANGE
    _, engine, monitors = _store_and_monitors(args)
    model = _model(monitors, args.model)
    try:
        report = shadow_report(engine, model, start, end, candidate=args.candidate)
    except ShadowError as exc:
        return _fail(str(exc))
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        _print_report(report)
    return 0


def _runner(engine: Any, monitors: Any, args: argparse.Namespace) -> Any:
    from shadow.replay import DEFAULT_BATCH
    from shadow.runner import RunnerConfig, ShadowRunner

    config = RunnerConfig(poll_seconds=getattr(args, "poll", 5.0), batch_size=getattr(args, "batch_size", DEFAULT_BATCH),
                          session=_session_config(args))
    return ShadowRunner(engine, monitors, config)


def cmd_run(args: argparse.Namespace) -> int:
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from modelwatch.cli_analysis import _store_and_monitors

    settings, engine, monitors = _store_and_monitors(args)
    from modelwatch.cli_store import audit_config_load

    audit_config_load(engine, settings, "shadow-runner", monitors)
    runner = _runner(engine, monitors, args)
    # SIGTERM (docker stop, systemd) ends the loop after the page in flight, like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: runner.stop.set())
    try:
        if args.once:
            outcomes = runner.run_once()
            for o in outcomes:
                print(f"{o.candidate}: {o.rows_replayed} row(s) replayed, {o.errors} error(s) on {o.provider}")
            return 0
        print(f"modelwatch shadow runner: {len(monitors.models)} model(s) from {settings.config}", file=sys.stderr)
        runner.run_forever()
    except KeyboardInterrupt:
        runner.stop.set()
    finally:
        engine.dispose()
    print("shadow runner stopped", file=sys.stderr)
    return 0


def start_background_runner(settings: Any, monitors: Any) -> Callable[[], None]:
    """The runner in a background thread of this process (``modelwatch up``); returns the
    function that stops it after the page in flight and closes its engine. Without ONNX Runtime
    installed (the ``cpu`` or ``gpu`` extra) the runner is skipped with a notice."""
    import importlib.util

    from store.engine import create_engine

    if importlib.util.find_spec("onnxruntime") is None:
        print("shadow runner off: install onnxruntime (pip install 'modelwatch[cpu]')", file=sys.stderr)
        return lambda: None

    engine = create_engine(settings.database_url, hide_parameters=True)
    from modelwatch.cli_store import audit_config_load

    audit_config_load(engine, settings, "shadow-runner", monitors)
    runner = _runner(engine, monitors, argparse.Namespace())
    runner.start_background()

    def stop() -> None:
        runner.shutdown()
        engine.dispose()

    return stop


def _session_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", action="append", choices=sorted(PROVIDERS),
                        help="only these execution providers (repeat; default: TensorRT, CUDA, CPU as installed)")
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads (default 1 on CPU)")


def add_shadow_commands(sub: Any, add_db_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    shadow = sub.add_parser("shadow", help="replay live traffic against candidate ONNX models and compare")
    actions = shadow.add_subparsers(dest="shadow_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="register a candidate ONNX model (validated on stored rows)")
    add.add_argument("--model", required=True)
    add.add_argument("--name", required=True, help="candidate name; bound to this file's sha256 for good")
    add.add_argument("file", metavar="MODEL.onnx")
    add.add_argument("--production", metavar="PROD.onnx", help="production's own ONNX, replayed for the noise floor")
    add.add_argument("--mapping", metavar="MAPPING.yaml", help="inputs, encodings, missing, outputs (see docs/shadow.md)")
    add.add_argument("--sample-rate", type=float, default=1.0, help="share of stored predictions to replay (by id hash)")
    _session_flags(add)
    add_db_flags(add)
    add.set_defaults(func=cmd_add)

    listing = actions.add_parser("list", help="registered candidates")
    listing.add_argument("--model")
    listing.add_argument("--all", action="store_true", help="include removed candidates")
    add_db_flags(listing)
    listing.set_defaults(func=cmd_list)

    remove = actions.add_parser("remove", help="stop replaying a candidate (its outputs stay)")
    remove.add_argument("--model", required=True)
    remove.add_argument("--name", required=True)
    add_db_flags(remove)
    remove.set_defaults(func=cmd_remove)

    back = actions.add_parser("backtest", help="replay a time range of stored predictions, with progress")
    back.add_argument("--model", required=True)
    back.add_argument("--candidate", help="one candidate (default: every active one, production's ONNX included)")
    back.add_argument("--from", dest="start", required=True, metavar="T1", help="RFC 3339, date or epoch seconds")
    back.add_argument("--to", dest="end", required=True, metavar="T2")
    back.add_argument("--batch-size", type=int, default=1024)
    back.add_argument("--restart", action="store_true", help="start the range over (rows already replayed are skipped)")
    back.add_argument("--rate", type=float, help="at most this many rows per second (spare a shared machine)")
    back.add_argument("--quiet", action="store_true", help="no progress bar")
    _session_flags(back)
    add_db_flags(back)
    back.set_defaults(func=cmd_backtest)

    report = actions.add_parser("report", help="candidate vs production: agreement, accuracy, latency, verdict")
    report.add_argument("--model", required=True)
    report.add_argument("--candidate")
    report.add_argument("--from", dest="start", metavar="T1", help="default: --to minus 7 days")
    report.add_argument("--to", dest="end", metavar="T2", help="default: now")
    report.add_argument("--json", action="store_true", help="the API's JSON instead of text")
    add_db_flags(report)
    report.set_defaults(func=cmd_report)

    run = actions.add_parser("run", help="run the shadow runner: tail new predictions for every candidate")
    run.add_argument("--poll", type=float, default=5.0, help="seconds between passes when caught up")
    run.add_argument("--batch-size", type=int, default=1024)
    run.add_argument("--once", action="store_true", help="one pass per candidate, then exit")
    _session_flags(run)
    add_db_flags(run)
    run.set_defaults(func=cmd_run)
