"""Process-level behaviour: stdlib-only import, fork safety, flush at exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from modelwatch import Client

from .conftest import CollectorStub

REPO_ROOT = Path(__file__).resolve().parents[2]
MakeClient = Callable[..., Client]


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_import_pulls_in_the_standard_library_only() -> None:
    code = """
        import json, sys
        before = set(sys.modules)
        import modelwatch
        client = modelwatch.Client("http://127.0.0.1:9", "t", "m", "v", flush_at_exit=False)
        client.log_prediction("a", {"x": 1.0}, 1)
        client.close(0)
        print(json.dumps(sorted(set(sys.modules) - before)))
    """
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    added = json.loads(result.stdout)
    assert "modelwatch" in added
    foreign = [m for m in added if m.split(".")[0] not in sys.stdlib_module_names and m.split(".")[0] != "modelwatch"]
    assert foreign == []
    for heavy in ("fastapi", "pandas", "sqlalchemy", "numpy", "msgspec", "pydantic"):
        assert heavy not in added


def test_flush_at_exit(collector: CollectorStub) -> None:
    code = f"""
        import modelwatch
        modelwatch.init({collector.url!r}, "t", "m", "v", flush_interval=60)
        for i in range(3):
            modelwatch.log_prediction(f"exit-{{i}}", {{}}, 1)
    """
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert sorted(r["prediction_id"] for r in collector.records()) == ["exit-0", "exit-1", "exit-2"]
    assert collector.accepted("/v1/counters")[0]["counters"][0]["requests"] == 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_child_after_fork_starts_empty_and_ships_its_own_data(make_client: MakeClient, collector: CollectorStub) -> None:
    client = make_client(url=collector.url, transport=None)
    client.log_prediction("parent-0", {}, 1)
    assert client.flush(5)  # the parent now holds a kept-alive connection and a running thread
    client.log_prediction("parent-1", {}, 1)  # buffered in the parent at fork time
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            client.log_prediction("child-0", {}, 1)
            stats = client.stats()
            ok = client.flush(5) and stats.buffered_predictions == 1
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client.flush(5)
    ids = [r["prediction_id"] for r in collector.records()]
    assert sorted(ids) == ["child-0", "parent-0", "parent-1"]  # parent-1 sent once, by the parent
    assert collector.connections >= 2  # the child opened its own connection, never the parent's
    counters = collector.accepted("/v1/counters")
    assert sum(row["requests"] for p in counters for row in p["counters"]) == 3
