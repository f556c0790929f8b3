"""SDK test fixtures: debug mode on, clients closed after each test, a real HTTP collector stub.

The stub is a real ``http.server`` on loopback (port 0) speaking HTTP/1.1 with keep-alive. It
answers like the collector (dedup on batch id) and can be scripted to fail: a status with
Retry-After, or "read the body, store it, then drop the connection without answering".
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import modelwatch
from modelwatch import Client, InMemoryTransport
from modelwatch.columnar import payload_records


@pytest.fixture(autouse=True)
def sdk_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    """SDK-internal errors re-raise in tests, like sentry's conftest."""
    monkeypatch.setenv("MODELWATCH_SDK_DEBUG", "1")


@pytest.fixture
def make_client() -> Iterator[Callable[..., Client]]:
    """Factory for clients (in-memory transport unless given), closed at teardown."""
    clients: list[Client] = []

    def make(**options: Any) -> Client:
        options.setdefault("transport", InMemoryTransport())
        options.setdefault("flush_interval", 60.0)
        options.setdefault("flush_at_exit", False)
        options.setdefault("backoff_base", 0.01)
        url = options.pop("url", None)
        client = Client(url, options.pop("token", "tok"), options.pop("model", "fraud"), options.pop("version", "v1"), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close(timeout=0.2)
    modelwatch.close(timeout=0.2)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.005) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    payload: Any
    stored: bool


@dataclass
class CollectorStub:
    """State of the stub collector: what it received and what it will answer next."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: deque[tuple[Any, ...]] = field(default_factory=deque)
    connections: int = 0
    # Set to the 422 body a collector without columnar support answers a columnar batch.
    refuse_columns: bytes | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def fail_next(self, n: int, status: int = 503, retry_after: str | None = None) -> None:
        """Answer the next ``n`` requests with ``status`` (and a Retry-After header if given)."""
        for _ in range(n):
            self.script.append(("status", status, retry_after))

    def drop_next(self, n: int) -> None:
        """For the next ``n`` requests: read and store the body, then close without answering."""
        for _ in range(n):
            self.script.append(("drop",))

    def accepted(self, path: str) -> list[Any]:
        """Return the payloads stored on ``path``, each batch id once."""
        with self.lock:
            seen: set[str] = set()
            out = []
            for r in self.received:
                if r.path == path and r.stored and r.payload.get("batch_id") not in seen:
                    seen.add(r.payload.get("batch_id"))
                    out.append(r.payload)
            return out

    def requests(self, path: str) -> list[Received]:
        """Return every request received on ``path``, failed and retried ones included."""
        with self.lock:
            return [r for r in self.received if r.path == path]

    def records(self, path: str = "/v1/predictions") -> list[dict[str, Any]]:
        return [rec for p in self.accepted(path) for rec in payload_records(p)]


def _handler(stub: CollectorStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with stub.lock:
                stub.connections += 1

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            payload = json.loads(body)
            if stub.refuse_columns is not None and "columns" in payload:
                self._store(payload, stored=False)
                self._answer_raw(422, stub.refuse_columns)
                return
            with stub.lock:
                step = stub.script.popleft() if stub.script else ("ok",)
            if step[0] == "drop":
                # Stored (durable) but the answer is lost: the client must retry with the same id.
                self._store(payload, stored=True)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if step[0] == "status":
                self._store(payload, stored=False)
                headers = {"Retry-After": step[2]} if step[2] is not None else {}
                self._answer(step[1], {"error": "scripted failure", "detail": []}, headers)
                return
            duplicate = self._store(payload, stored=True)
            n = len(payload_records(payload))
            self._answer(200, {"accepted": 0 if duplicate else n, "duplicates": n if duplicate else 0, "rejected": []})

        def _store(self, payload: Any, stored: bool) -> bool:
            key = (self.path, str(payload.get("batch_id")))
            with stub.lock:
                duplicate = stored and key in stub._seen
                if stored:
                    stub._seen.add(key)
                stub.received.append(Received(self.path, dict(self.headers), payload, stored))
            return duplicate

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            self._answer_raw(status, json.dumps(body).encode(), headers)

        def _answer_raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture
def collector() -> Iterator[CollectorStub]:
    """A real HTTP collector stub on 127.0.0.1, port chosen by the OS."""
    stub = CollectorStub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield stub
    server.shutdown()
    server.server_close()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
