"""SDK-internal error handling: swallow and count in production, re-raise in debug mode.

Like sentry's ``capture_internal_exceptions``: a bug in the SDK must never reach the serving
path, but tests (``MODELWATCH_SDK_DEBUG=1`` or ``Client(debug=True)``) must still see it.
"""

from __future__ import annotations

import logging
import os
import threading

__all__ = ["DEBUG_ENV", "InternalErrors", "SDKInternalError", "debug_from_env"]

DEBUG_ENV = "MODELWATCH_SDK_DEBUG"
logger = logging.getLogger("modelwatch")


class SDKInternalError(RuntimeError):
    """Raised from flush()/close() in debug mode when the background thread hit an SDK bug."""


def debug_from_env() -> bool:
    """Return True when MODELWATCH_SDK_DEBUG is set to 1/true/yes."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes")


class InternalErrors:
    """Counts SDK-internal errors; in debug mode re-raises them (caller thread) or keeps them
    for the next flush()/close() (background thread)."""

    def __init__(self, debug: bool) -> None:
        self.debug = debug
        self.count = 0
        self.last: BaseException | None = None
        self._from_thread: list[BaseException] = []
        self._lock = threading.Lock()

    def on_caller_thread(self, exc: BaseException) -> None:
        """Handle an error raised inside a public SDK call: count it; re-raise in debug mode.

        Must be called from an ``except`` block. Does no I/O (no logging) on the serving path.
        """
        self.count += 1
        self.last = exc
        if self.debug:
            raise

    def on_worker_thread(self, exc: BaseException) -> None:
        """Handle an error in the background thread: count and log it, keep it in debug mode."""
        with self._lock:
            self.count += 1
            self.last = exc
            if self.debug:
                self._from_thread.append(exc)
        logger.debug("modelwatch SDK internal error", exc_info=exc)

    def raise_pending(self) -> None:
        """In debug mode, raise SDKInternalError for the first background-thread error not yet raised."""
        with self._lock:
            pending, self._from_thread = self._from_thread, []
        if pending:
            raise SDKInternalError(f"{len(pending)} internal error(s) in the SDK background thread") from pending[0]

    def reinit(self) -> None:
        """Replace the lock and forget pending errors (in a forked child)."""
        self._lock = threading.Lock()
        self._from_thread = []
