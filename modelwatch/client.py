"""The Client: what serving code calls. Its log methods never block and never raise.

A call counts the request (exact counters, every call), decides sampling on the prediction id,
and appends a tuple to a bounded buffer; the background worker does the rest.
"""

from __future__ import annotations

import atexit
import functools
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelwatch._internal import InternalErrors, debug_from_env
from modelwatch.counters import DEFAULT_BOUNDS_MS, RequestCounters
from modelwatch.payloads import LabelItem, PredictionItem, epoch_seconds, error_text
from modelwatch.redact import RedactionPolicy
from modelwatch.retry import RetryPolicy
from modelwatch.sampling import HASH_SPACE, id_hash, sample_threshold
from modelwatch.transport import Transport, make_transport
from modelwatch.worker import WIRE_FORMATS, BackgroundWorker, ExportSettings

__all__ = ["Client", "ClientStats"]

_time = time.time


@dataclass(frozen=True)
class ClientStats:
    """What a client has done so far (since creation, or since fork in a child)."""

    sent_predictions: int
    sent_labels: int
    sent_counter_batches: int
    dropped: Mapping[str, int]
    buffered_predictions: int
    buffered_labels: int
    pending_counter_batches: int
    internal_errors: int


def _policy(pii: RedactionPolicy | Mapping[str, Any] | None) -> RedactionPolicy | None:
    if pii is None or isinstance(pii, RedactionPolicy):
        policy = pii
    else:
        policy = RedactionPolicy.from_dict(pii)
    return None if policy is None or policy.is_noop() else policy


class Client:
    """Logs predictions, labels and request counters of one model version to a collector.

    ``sample_rate`` in [0, 1] picks which payloads ship (deterministically on the prediction id,
    see ``modelwatch.sampling``); counters always count every call. ``pii`` is a RedactionPolicy
    (or its dict form) applied before anything leaves the process. ``transport`` replaces the HTTP
    transport (e.g. an InMemoryTransport). ``debug`` (default: env MODELWATCH_SDK_DEBUG) re-raises
    SDK-internal errors instead of swallowing them. ``sample_labels`` ships labels only for
    sampled ids; by default every label ships, since the process logging labels may run with
    another rate than the one that logged the predictions. ``wire_format``: ``"columns"`` (default)
    sends a predictions batch as one columnar body (each feature named once, float columns packed;
    several times cheaper to encode; the ``pii`` policy applied per column) when it can: no
    ``feature_timestamp``, and every features dict with the same keys in the same order; any
    other batch goes as records.
    A collector that does not take columns gets records from then on (one warning is logged).
    ``"records"`` always sends records.

    Raises ValueError at construction for invalid settings.
    """

    def __init__(
        self,
        url: str | None,
        token: str | None,
        model: str,
        version: str,
        sample_rate: float = 1.0,
        *,
        batch_size: int = 500,
        flush_interval: float = 5.0,
        max_queue_size: int = 10_000,
        latency_bounds_ms: Sequence[float] = DEFAULT_BOUNDS_MS,
        pii: RedactionPolicy | Mapping[str, Any] | None = None,
        sample_labels: bool = False,
        retry_deadline: float = 60.0,
        request_timeout: float = 10.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        transport: Transport | Any = None,
        debug: bool | None = None,
        flush_at_exit: bool = True,
        shutdown_timeout: float = 2.0,
        wire_format: str = "columns",
    ) -> None:
        if not model or not isinstance(model, str):
            raise ValueError(f"model must be a non-empty string, got {model!r}")
        if not version or not isinstance(version, str):
            raise ValueError(f"version must be a non-empty string, got {version!r}")
        if batch_size < 1 or max_queue_size < 1:
            raise ValueError(f"batch_size and max_queue_size must be >= 1, got {batch_size}, {max_queue_size}")
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be positive, got {flush_interval!r}")
        if wire_format not in WIRE_FORMATS:
            raise ValueError(f"wire_format must be one of {', '.join(WIRE_FORMATS)}, got {wire_format!r}")
        threshold = sample_threshold(sample_rate)
        self.model = model
        self.version = version
        self.sample_rate = float(sample_rate)
        self._threshold: int | None = None if threshold >= HASH_SPACE else threshold
        self._sample_labels = sample_labels
        self._max_queue = max_queue_size
        self._batch_size = batch_size
        self._shutdown_timeout = shutdown_timeout
        self._settings = ExportSettings(
            model=model,
            version=version,
            weight=(1.0 / self.sample_rate) if self.sample_rate > 0 else None,
            policy=_policy(pii),
            batch_size=batch_size,
            flush_interval=flush_interval,
            retry=RetryPolicy(backoff_base, backoff_cap, retry_deadline, request_timeout),
            wire_format=wire_format,
        )
        self._transport = make_transport(url, token, transport)
        self._errors = InternalErrors(debug_from_env() if debug is None else debug)
        self._counters = RequestCounters(latency_bounds_ms)
        self._closed = False
        self._new_worker()
        self._exit_hook = None
        if flush_at_exit:
            self._exit_hook = functools.partial(_close_at_exit, weakref.ref(self))
            atexit.register(self._exit_hook)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=functools.partial(_reinit_after_fork, weakref.ref(self)))

    def _new_worker(self) -> None:
        self._predictions: deque[PredictionItem] = deque()
        self._labels: deque[LabelItem] = deque()
        self._worker = BackgroundWorker(
            self._settings, self._transport, self._counters, self._predictions, self._labels, self._errors
        )
        self._wake = self._worker.wake
        self._started = False
        self._start_lock = threading.Lock()

    def _start_worker(self) -> None:
        with self._start_lock:
            if not self._started:
                self._worker.start()
                self._started = True

    # -- serving path ------------------------------------------------------------------------

    def log_prediction(
        self,
        prediction_id: str,
        features: Mapping[str, Any] | None,
        prediction: Any,
        score: float | None = None,
        latency_ms: float | None = None,
        error: Any = None,
        slices: Mapping[str, Any] | None = None,
        timestamp: Any = None,
        probabilities: Mapping[str, float] | None = None,
        feature_timestamp: Any = None,
    ) -> None:
        """Count the call and, if its id is sampled, buffer it for shipping. Returns None.

        ``error`` (text or exception) marks a failed call; ``timestamp`` defaults to now (epoch
        seconds, datetime or RFC 3339). ``feature_timestamp``: when the features were computed,
        one time for all of them or a mapping feature name -> time (same forms as ``timestamp``);
        the collector stores the lag behind the prediction time (docs/freshness.md). It is
        converted on the background thread: a value that is not a time is left out there and
        counted as drop reason ``invalid_feature_time``. Never blocks, never raises (outside
        debug mode).
        """
        try:
            if self._closed:
                self._counters.drop("shutdown")
                return
            ts = _time() if timestamp is None else self._timestamp(timestamp)
            if error is not None and error is not False:
                error = error_text(error)
                self._counters.record(ts, True, latency_ms)
            else:
                error = None
                self._counters.record(ts, False, latency_ms)
            if type(prediction_id) is not str:
                prediction_id = str(prediction_id)
            threshold = self._threshold
            if threshold is not None and (threshold == 0 or id_hash(prediction_id) >= threshold):
                return
            buffer = self._predictions
            if len(buffer) >= self._max_queue:
                self._counters.drop("buffer_full")
                return
            buffer.append(
                (
                    prediction_id,
                    ts,
                    dict(features) if features is not None else None,
                    prediction,
                    score,
                    probabilities,
                    latency_ms,
                    error,
                    slices,
                    feature_timestamp,
                )
            )
            if not self._started:
                self._start_worker()
            if len(buffer) >= self._batch_size and not self._wake.is_set():
                self._wake.set()
        except Exception as exc:
            self._errors.on_caller_thread(exc)

    def log_label(self, prediction_id: str, label: Any, timestamp: Any = None) -> None:
        """Buffer the ground-truth label of a prediction for shipping. Returns None.

        Never blocks, never raises (outside debug mode).
        """
        try:
            if self._closed:
                self._counters.drop("shutdown")
                return
            ts = _time() if timestamp is None else self._timestamp(timestamp)
            if type(prediction_id) is not str:
                prediction_id = str(prediction_id)
            threshold = self._threshold
            if self._sample_labels and threshold is not None and (threshold == 0 or id_hash(prediction_id) >= threshold):
                return
            buffer = self._labels
            if len(buffer) >= self._max_queue:
                self._counters.drop("buffer_full")
                return
            buffer.append((prediction_id, label, ts))
            if not self._started:
                self._start_worker()
            if len(buffer) >= self._batch_size and not self._wake.is_set():
                self._wake.set()
        except Exception as exc:
            self._errors.on_caller_thread(exc)

    def _timestamp(self, timestamp: Any) -> float:
        try:
            return epoch_seconds(timestamp)
        except (TypeError, ValueError) as exc:
            self._errors.on_caller_thread(exc)  # re-raises in debug mode
            return _time()

    # -- control -----------------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Ship everything buffered so far, counters included; return True when it was all
        delivered within ``timeout`` seconds. In debug mode raises SDKInternalError for a bug
        the background thread hit."""
        try:
            if self._closed:
                return not self._predictions and not self._labels
            ok = self._worker.flush(timeout)
        except Exception as exc:
            self._errors.on_caller_thread(exc)
            ok = False
        if self._errors.debug:
            self._errors.raise_pending()
        return ok

    def close(self, timeout: float | None = None) -> bool:
        """Refuse new calls, ship what is buffered and stop, waiting at most ``timeout`` seconds
        (default: ``shutdown_timeout``); return True when everything was delivered. Idempotent."""
        if self._closed:
            return True
        self._closed = True
        if self._exit_hook is not None:
            atexit.unregister(self._exit_hook)
            self._exit_hook = None
        try:
            ok = self._worker.shutdown(self._shutdown_timeout if timeout is None else timeout)
            self._transport.close()
        except Exception as exc:
            self._errors.on_caller_thread(exc)
            ok = False
        if self._errors.debug:
            self._errors.raise_pending()
        return ok

    @property
    def closed(self) -> bool:
        """Return True once close() was called."""
        return self._closed

    @property
    def transport(self) -> Transport:
        """Return the transport batches are sent with."""
        return self._transport

    def stats(self) -> ClientStats:
        """Return counts of what was sent, dropped (by reason) and is still buffered."""
        worker = self._worker
        return ClientStats(
            sent_predictions=worker.sent_predictions,
            sent_labels=worker.sent_labels,
            sent_counter_batches=worker.sent_counter_batches,
            dropped=self._counters.dropped_total(),
            buffered_predictions=len(self._predictions),
            buffered_labels=len(self._labels),
            pending_counter_batches=worker.pending_counter_batches,
            internal_errors=self._errors.count,
        )

    def _after_fork_in_child(self) -> None:
        # The parent's thread does not exist here, its locks may be held and its buffers are the
        # parent's to send: start empty, with fresh locks, and a lazily started thread.
        self._counters.reinit()
        self._errors.reinit()
        self._transport.reset_after_fork()
        self._new_worker()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(model={self.model!r}, version={self.version!r}, sample_rate={self.sample_rate})"


def _close_at_exit(ref: weakref.ref[Client]) -> None:
    client = ref()
    if client is not None:
        client.close()


def _reinit_after_fork(ref: weakref.ref[Client]) -> None:
    client = ref()
    if client is not None:
        try:
            client._after_fork_in_child()
        except Exception:  # never break the child process over the SDK
            pass
