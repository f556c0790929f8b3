"""``modelwatch dashboard``: serve the Streamlit app (dashboard/app.py) with ``streamlit run``.

Streamlit owns its server and its script runs, so the dashboard is ``streamlit run``: the
command replaces itself with it, and ``modelwatch up`` starts it as a child beside the
collector. The settings travel as MODELWATCH_* environment variables, which the app reads with
``Settings()`` on each run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_PORT", "add_dashboard_commands", "dashboard_command", "start_background_dashboard"]

DEFAULT_PORT = 8501
APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def dashboard_command(port: int, host: str) -> list[str]:
    """The ``streamlit run`` command line: headless, no file watcher, no usage statistics.

    No forced full garbage collection after every page run (runner.postScriptGC): with pandas,
    Altair and SQLAlchemy loaded it walks ~240k objects, 120-200 ms on the 2-core bench machine,
    holding the interpreter lock while the same process serves the opening page's scripts and
    messages. Python's own generational collector still runs as objects are allocated.
    """
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port), "--server.address", host, "--server.headless", "true",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false", "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer", "--theme.base", "light", "--runner.postScriptGC", "false",
    ]


def dashboard_environment(settings: Any) -> dict[str, str]:
    """This process's environment with the resolved store and config for the app."""
    return {**os.environ, "MODELWATCH_DATABASE_URL": settings.database_url,
            "MODELWATCH_CONFIG": str(Path(settings.config).resolve())}


def _check_streamlit() -> bool:
    if importlib.util.find_spec("streamlit") is None:
        print("the dashboard needs streamlit: pip install 'streamlit>=1.50'", file=sys.stderr)
        return False
    return True


def start_dashboard(settings: Any, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> subprocess.Popen[bytes]:
    """Start the dashboard process (it answers once Streamlit has started, a few seconds later)."""
    return subprocess.Popen(dashboard_command(port, host), env=dashboard_environment(settings))


def _stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_background_dashboard(settings: Any, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> Callable[[], None]:
    """For ``modelwatch up``: start the dashboard, return the function that stops it (a no-op
    when port is 0 or streamlit is missing: the rest of the service runs without it)."""
    if port == 0 or not _check_streamlit():
        return lambda: None
    process = start_dashboard(settings, port, host)
    print(f"modelwatch dashboard on http://{host}:{port}", file=sys.stderr)
    return lambda: _stop(process)


def _dashboard_settings(args: argparse.Namespace) -> Any:
    from config.settings import Settings

    overrides = {field: getattr(args, flag) for flag, field in (("db", "database_url"), ("config", "config"))
                 if getattr(args, flag, None) is not None}
    return Settings(**overrides)


def cmd_dashboard(args: argparse.Namespace) -> int:
    if not _check_streamlit():
        return 2
    settings = _dashboard_settings(args)
    if not Path(settings.config).is_file():
        print(f"monitors config {settings.config} not found (--config / MODELWATCH_CONFIG)", file=sys.stderr)
        return 2
    print(f"modelwatch dashboard on http://{args.host}:{args.port}  (read-only; store from "
          f"MODELWATCH_DATABASE_URL / --db, models from {settings.config})", file=sys.stderr, flush=True)
    # Become the Streamlit server: signals (Ctrl-C, a supervisor's SIGTERM) reach it directly, and
    # no child is left behind when this process is killed.
    os.execve(sys.executable, dashboard_command(args.port, args.host), dashboard_environment(settings))
    return 0  # not reached


def add_dashboard_commands(sub: Any, add_db_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    parser = sub.add_parser("dashboard", help="serve the Streamlit dashboards (read-only)")
    add_db_flags(parser)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.set_defaults(func=cmd_dashboard)
