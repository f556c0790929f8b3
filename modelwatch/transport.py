"""Transports: how an encoded batch reaches the collector.

A transport sends one request and reports what happened; it never retries on its own (except
once, at once, when a kept-alive connection turns out to be stale) and never raises for
network or HTTP errors: retries, backoff and drop accounting belong to the worker.
"""

from __future__ import annotations

import email.utils
import http.client
import time
import urllib.parse
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

__all__ = ["HttpTransport", "Transport", "TransportResult", "make_transport", "parse_retry_after"]

USER_AGENT = "modelwatch-python/0.1"


@dataclass(frozen=True)
class TransportResult:
    """Outcome of one request: ``status`` is None when no HTTP response came back (connection
    refused, reset, timed out); ``retry_after`` is the server's Retry-After in seconds."""

    status: int | None
    body: bytes = b""
    retry_after: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Return True for a 2xx response."""
        return self.status is not None and 200 <= self.status < 300


class Transport(ABC):
    """Base class: subclasses implement ``send``; ``close`` and ``reset_after_fork`` are optional."""

    @abstractmethod
    def send(self, path: str, body: bytes, timeout: float) -> TransportResult:
        """Send ``body`` (JSON bytes) to ``path`` (e.g. ``/v1/predictions``) and return the outcome."""

    def close(self) -> None:
        """Release connections. The transport may not be used afterwards."""

    def reset_after_fork(self) -> None:
        """Forget state shared with the parent process (sockets) without touching it."""


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return a Retry-After header as seconds from now (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


class HttpTransport(Transport):
    """HTTP(S) over one kept-alive ``http.client`` connection, used by the worker thread only."""

    def __init__(self, url: str, token: str | None, headers: dict[str, str] | None = None) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"collector url must be http(s)://host[:port][/prefix], got {url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._headers.update(headers or {})
        self._conn: http.client.HTTPConnection | None = None

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=timeout)

    def send(self, path: str, body: bytes, timeout: float) -> TransportResult:
        """POST ``body`` to the collector; see Transport.send."""
        reused = self._conn is not None
        try:
            return self._post(path, body, timeout)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            self._discard()
            if not reused:
                return TransportResult(None, error=f"{type(exc).__name__}: {exc}")
        except (OSError, http.client.HTTPException) as exc:
            self._discard()
            return TransportResult(None, error=f"{type(exc).__name__}: {exc}")
        # The server closed an idle kept-alive connection: one immediate try on a fresh one.
        try:
            return self._post(path, body, timeout)
        except (OSError, http.client.HTTPException) as exc:
            self._discard()
            return TransportResult(None, error=f"{type(exc).__name__}: {exc}")

    def _post(self, path: str, body: bytes, timeout: float) -> TransportResult:
        if self._conn is None:
            self._conn = self._connect(timeout)
        conn = self._conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        conn.request("POST", self._prefix + path, body=body, headers=self._headers)
        response = conn.getresponse()
        data = response.read()
        if response.will_close:
            self._discard()
        return TransportResult(response.status, data, parse_retry_after(response.getheader("Retry-After")))

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except OSError:
                pass

    def close(self) -> None:
        """Close the kept-alive connection."""
        self._discard()

    def reset_after_fork(self) -> None:
        """Drop the parent's connection object without closing its socket (it is the parent's)."""
        self._conn = None


def make_transport(url: str | None, token: str | None, transport: Any = None) -> Transport:
    """Return the transport a client uses.

    ``transport`` may be a Transport instance (used as is), or a callable taking ``(url, token)``
    and returning one; otherwise an HttpTransport for ``url``. Raises ValueError for a bad url.
    """
    if isinstance(transport, Transport):
        return transport
    if transport is not None:
        made = transport(url, token)
        if not isinstance(made, Transport):
            raise TypeError(f"transport factory returned {type(made).__name__}, not a Transport")
        return made
    if not url:
        raise ValueError("a collector url (or a transport) is required")
    return HttpTransport(url, token)
