"""InMemoryTransport: the SDK's own test double (like OTel's in-memory span exporter).

It records every request, can be told to fail the next N requests with a status (or as a
connection error), and answers like the collector: duplicate batch ids are acknowledged but
not counted twice, so tests can check "no duplicates" the way the collector would.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelwatch.columnar import payload_records
from modelwatch.transport import Transport, TransportResult

__all__ = ["InMemoryTransport", "SentRequest"]


@dataclass(frozen=True)
class SentRequest:
    """One request the transport received: ``accepted`` is False when it was answered with a failure."""

    path: str
    body: bytes
    accepted: bool

    @property
    def payload(self) -> Any:
        """Return the decoded JSON body."""
        return json.loads(self.body)


class InMemoryTransport(Transport):
    """Records requests in memory; thread-safe.

    ``fail_next(n, status=503, retry_after=None)`` makes the next ``n`` requests fail
    (``status=None`` means a connection error). ``responder`` may compute the answer instead:
    it gets ``(path, payload)`` and returns a TransportResult.
    """

    def __init__(self, responder: Callable[[str, Any], TransportResult] | None = None) -> None:
        self._lock = threading.Lock()
        self._requests: list[SentRequest] = []
        self._failures: deque[TransportResult] = deque()
        self._accepted_batches: set[tuple[str, Any]] = set()
        self._responder = responder
        self.closed = False

    def fail_next(self, n: int, status: int | None = 503, retry_after: float | None = None, body: bytes = b"") -> None:
        """Make the next ``n`` requests fail with ``status`` (None: connection error)."""
        with self._lock:
            for _ in range(n):
                error = None if status is not None else "ConnectionRefusedError: simulated"
                self._failures.append(TransportResult(status, body, retry_after, error))

    def send(self, path: str, body: bytes, timeout: float) -> TransportResult:
        """Record the request and return the scripted (or successful) outcome."""
        with self._lock:
            answer = self._failures.popleft() if self._failures else None
        if answer is None and self._responder is not None:
            answer = self._responder(path, json.loads(body))
        if answer is not None and not answer.ok:
            with self._lock:
                self._requests.append(SentRequest(path, body, False))
            return answer
        payload = json.loads(body)
        batch = (path, payload.get("batch_id"))
        with self._lock:
            duplicate = batch in self._accepted_batches
            self._accepted_batches.add(batch)
            self._requests.append(SentRequest(path, body, True))
        if answer is not None:
            return answer
        n = len(payload_records(payload))
        ack = {"accepted": 0 if duplicate else n, "duplicates": n if duplicate else 0, "rejected": []}
        return TransportResult(200, json.dumps(ack).encode())

    @property
    def requests(self) -> list[SentRequest]:
        """Return every request received so far, failed ones included, in order."""
        with self._lock:
            return list(self._requests)

    def payloads(self, path: str) -> list[Any]:
        """Return the decoded bodies accepted on ``path``, once per batch id (retries collapsed)."""
        seen: set[Any] = set()
        out = []
        for request in self.requests:
            if request.path != path or not request.accepted:
                continue
            payload = request.payload
            if payload.get("batch_id") in seen:
                continue
            seen.add(payload.get("batch_id"))
            out.append(payload)
        return out

    def records(self, path: str = "/v1/predictions") -> list[dict[str, Any]]:
        """Return the records accepted on ``path``, each batch counted once (a columnar body
        read as the records it stands for)."""
        return [r for p in self.payloads(path) for r in payload_records(p)]

    def clear(self) -> None:
        """Forget the recorded requests and scripted failures."""
        with self._lock:
            self._requests.clear()
            self._failures.clear()
            self._accepted_batches.clear()

    def close(self) -> None:
        """Mark the transport closed (requests are still recorded; tests check the flag)."""
        self.closed = True
