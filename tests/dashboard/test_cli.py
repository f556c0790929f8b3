"""``modelwatch dashboard`` and the dashboard inside ``modelwatch up``: real processes, real ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from modelwatch.cli import build_parser
from modelwatch.cli_dashboard import dashboard_command, start_background_dashboard
from tests.conftest import REPO_ROOT, free_port, wait_for_port
from tests.dashboard.conftest import closed, require

pytestmark = pytest.mark.timeout(180)


def test_flags_and_the_streamlit_command():
    args = build_parser().parse_args(["dashboard", "--db", "sqlite:///x.db", "--config", "m.yaml", "--port", "9999"])
    assert (args.db, args.config, args.port, args.host) == ("sqlite:///x.db", "m.yaml", 9999, "127.0.0.1")
    assert build_parser().parse_args(["up"]).dashboard_port == 8501
    command = dashboard_command(9999, "0.0.0.0")
    assert command[1:4] == ["-m", "streamlit", "run"] and Path(command[4]) == REPO_ROOT / "dashboard" / "app.py"
    assert "--server.headless" in command and command[command.index("--server.port") + 1] == "9999"
    assert start_background_dashboard(object(), port=0)() is None  # port 0: no dashboard, a no-op stop


def test_dashboard_command_refuses_a_missing_config(tmp_path, capsys):
    from modelwatch.cli import main

    assert main(["dashboard", "--config", str(tmp_path / "nope.yaml"), "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    assert "not found" in capsys.readouterr().err


def test_up_serves_the_dashboard_and_stops_it_on_ctrl_c(tmp_path):
    require("streamlit")
    api, dash = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "modelwatch.cli", "up", "--db", f"sqlite:///{tmp_path / 'up.db'}", "--port", str(api),
         "--dashboard-port", str(dash)], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "MODELWATCH_LOG_LEVEL": "warning"})
    try:
        wait_for_port("127.0.0.1", api, timeout=60)
        wait_for_port("127.0.0.1", dash, timeout=60)
        import httpx

        page = httpx.get(f"http://127.0.0.1:{dash}/", timeout=10)
        assert page.status_code == 200 and "<title>Streamlit</title>" in page.text
        assert httpx.get(f"http://127.0.0.1:{dash}/_stcore/health", timeout=10).text == "ok"
        process.send_signal(signal.SIGINT)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert closed(dash), "the dashboard outlived modelwatch up"
