"""The background thread: waits, decides (``plan_export``), encodes, delivers, counts.

One daemon thread per client, started lazily on the first call. It ships full batches as soon
as they fill up, everything (plus the request counters) when the timer fires, on ``flush`` and
on ``close``. ``close`` refuses new items, drains, and waits up to its deadline; retries waiting
on backoff are cut when that deadline cannot be met.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from modelwatch._internal import InternalErrors
from modelwatch.columnar import columns_body
from modelwatch.counters import RequestCounters, counters_payload
from modelwatch.payloads import (
    EncodeStats,
    LabelItem,
    PredictionItem,
    ENCODE_ERRORS,
    encode_batch,
    encode_items,
    encode_json,
    label_record,
    prediction_record,
)
from modelwatch.redact import RedactionPolicy
from modelwatch.retry import Delivery, RetryPolicy, deliver
from modelwatch.transport import Transport

__all__ = ["WIRE_FORMATS", "BackgroundWorker", "ExportSettings", "plan_export", "refuses_columns"]

logger = logging.getLogger("modelwatch")

PREDICTIONS_PATH = "/v1/predictions"
LABELS_PATH = "/v1/labels"
COUNTERS_PATH = "/v1/counters"
WIRE_FORMATS = ("columns", "records")  # how predictions batches go (docs/protocol.md)


def plan_export(buffered: int, batch_size: int, now: float, timer_due_at: float, forced: bool) -> int:
    """Return how many buffered items to export now: all of them when forced (flush/close) or when
    the timer is due, otherwise only whole batches (0 means: keep waiting)."""
    if forced or now >= timer_due_at:
        return buffered
    return (buffered // batch_size) * batch_size


@dataclass(frozen=True)
class ExportSettings:
    """What the worker needs to know about the model and its batching."""

    model: str
    version: str
    weight: float | None
    policy: RedactionPolicy | None
    batch_size: int = 500
    flush_interval: float = 5.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_pending_counters: int = 100
    wire_format: str = "columns"  # one of WIRE_FORMATS; columns only where eligible (modelwatch.columnar)


@dataclass
class _FlushRequest:
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


class BackgroundWorker:
    """Drains the client's buffers to the transport on one daemon thread."""

    def __init__(
        self,
        settings: ExportSettings,
        transport: Transport,
        counters: RequestCounters,
        predictions: deque[PredictionItem],
        labels: deque[LabelItem],
        errors: InternalErrors,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.counters = counters
        self.predictions = predictions
        self.labels = labels
        self.errors = errors
        self.wake = threading.Event()
        self._interrupt = threading.Event()
        self._lock = threading.Lock()
        self._flush_requests: list[_FlushRequest] = []
        self._pending_counters: deque[bytes] = deque()
        self._closing = False
        self._hard_deadline = math.inf
        self._thread: threading.Thread | None = None
        self._rng = random.Random()
        self._next_timer = time.monotonic() + settings.flush_interval
        self._cycle_failures = 0
        # Off for good once a collector without columnar support refused a columnar body.
        self._columns = settings.wire_format == "columns"
        self.sent_predictions = 0
        self.sent_labels = 0
        self.sent_counter_batches = 0
        self.lost_counter_batches = 0

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Return True once the thread has been started."""
        return self._thread is not None

    def start(self) -> None:
        """Start the thread (idempotent). Raises RuntimeError if the interpreter cannot start one."""
        with self._lock:
            if self._thread is None and not self._closing:
                thread = threading.Thread(target=self._run, name="modelwatch-worker", daemon=True)
                thread.start()
                self._thread = thread

    def flush(self, timeout: float) -> bool:
        """Ask the thread to ship everything buffered now; return True when it was all delivered
        within ``timeout`` seconds."""
        if self._thread is None:
            if not self.predictions and not self.labels:
                return True
            self.start()
        request = _FlushRequest()
        with self._lock:
            self._flush_requests.append(request)
        self.wake.set()
        return request.done.wait(max(0.0, timeout)) and request.ok

    def shutdown(self, timeout: float) -> bool:
        """Drain and stop within ``timeout`` seconds; return True when everything was delivered.

        Items still buffered at the deadline are counted as dropped (``shutdown``).
        """
        with self._lock:
            self._hard_deadline = time.monotonic() + max(0.0, timeout)
            self._closing = True
            thread = self._thread
        self.wake.set()
        self._interrupt.set()
        if thread is None:
            # Never started (or could not start): drain on the caller's thread.
            self._cycle_failures = 0
            self._export(forced=True)
        else:
            thread.join(max(0.0, self._hard_deadline - time.monotonic()))
            if thread.is_alive():
                self._hard_deadline = -math.inf  # cut any wait; an in-flight request ends by its timeout
                self._interrupt.set()
        ok = (thread is None or not thread.is_alive()) and self._cycle_failures == 0 and not self._pending_counters
        with self._lock:  # a flush that raced with close: answer it instead of letting it time out
            flushes, self._flush_requests = self._flush_requests, []
        for request in flushes:
            request.ok = ok
            request.done.set()
        return ok

    # -- sleeper used by retry.deliver ----------------------------------------------------------

    def remaining(self, deadline: float) -> float:
        """Return seconds left before ``deadline`` or the shutdown deadline."""
        return min(deadline, self._hard_deadline) - time.monotonic()

    def sleep(self, seconds: float, deadline: float) -> bool:
        """Wait ``seconds`` unless that passes a deadline (then return False at once)."""
        end = time.monotonic() + seconds
        while True:
            if end > min(deadline, self._hard_deadline):
                return False
            left = end - time.monotonic()
            if left <= 0:
                return True
            if self._interrupt.wait(left):
                self._interrupt.clear()  # close() moved the deadline: re-check it

    def give_up_reason(self, deadline: float) -> str:
        """Return why retries ended: ``shutdown`` or ``retry_deadline``."""
        return "shutdown" if self._hard_deadline < deadline else "retry_deadline"

    # -- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                if self._run_once():
                    return
            except Exception as exc:  # SDK thread boundary: never let the thread die
                self.errors.on_worker_thread(exc)
                if self._closing:
                    return
                time.sleep(0.01)

    def _run_once(self) -> bool:
        timeout = self._next_timer - time.monotonic()
        if timeout > 0 and not self._closing:
            self.wake.wait(timeout)
        self.wake.clear()
        with self._lock:
            flushes, self._flush_requests = self._flush_requests, []
            closing = self._closing
        self._cycle_failures = 0
        try:
            self._export(forced=bool(flushes) or closing)
        finally:
            ok = self._cycle_failures == 0 and not self._pending_counters
            for request in flushes:
                request.ok = ok
                request.done.set()
        return closing

    def _export(self, forced: bool) -> None:
        now = time.monotonic()
        timer_due = forced or now >= self._next_timer
        size = self.settings.batch_size
        self._drain(self.predictions, plan_export(len(self.predictions), size, now, self._next_timer, forced), self._ship_predictions)
        self._drain(self.labels, plan_export(len(self.labels), size, now, self._next_timer, forced), self._ship_labels)
        if timer_due:
            self._ship_counters()
            self._next_timer = time.monotonic() + self.settings.flush_interval

    def _drain(self, buffer: deque[Any], count: int, ship: Any) -> None:
        size = self.settings.batch_size
        while count > 0:
            batch = [buffer.popleft() for _ in range(min(size, count, len(buffer)))]
            if not batch:
                return
            count -= len(batch)
            if self.remaining(math.inf) <= 0:
                self._lost(len(batch), "shutdown")
                continue
            ship(batch)

    def _invalid_record(self, exc: Exception) -> None:
        self._lost(1, "invalid_record")
        if not isinstance(exc, ENCODE_ERRORS):  # anything else may be an SDK bug
            self.errors.on_worker_thread(exc)

    def _lost(self, n: int, reason: str) -> None:
        self._cycle_failures += n
        self.counters.drop(reason, n)

    def _ship_predictions(self, batch: list[PredictionItem]) -> None:
        s = self.settings
        envelope = {"model": s.model, "version": s.version}  # "model" first: the collector's fast path
        if self._columns and self._ship_columns(envelope, batch):
            return

        def build(item: PredictionItem, stats: EncodeStats | None) -> dict[str, Any]:
            return prediction_record(item, s.weight, s.policy, stats)

        self._ship(PREDICTIONS_PATH, envelope, batch, build)

    def _ship_columns(self, envelope: dict[str, Any], batch: list[PredictionItem]) -> bool:
        """Ship ``batch`` as one columnar body; return False when it must go as records instead
        (not eligible, not encodable, or refused by a collector that only takes records)."""
        stats = EncodeStats()
        try:
            body = columns_body(batch, {**envelope, "batch_id": os.urandom(16).hex()}, self.settings.weight, stats,
                                self.settings.policy)
        except Exception as exc:  # the records path sends (or drops and counts) what this batch holds
            if not isinstance(exc, ENCODE_ERRORS):  # anything else may be an SDK bug
                self.errors.on_worker_thread(exc)
            return False
        if body is None:
            return False
        delivery = self._send(PREDICTIONS_PATH, body)
        if refuses_columns(delivery):
            self._columns = False
            logger.warning("modelwatch: the collector does not take columnar batches (422, records missing); "
                           "sending records from now on")
            return False
        self._log_undelivered(PREDICTIONS_PATH, delivery)
        self._count_encode_drops(stats)  # only now: a batch resent as records counts its own
        self._settle(PREDICTIONS_PATH, delivery, len(batch))
        return True

    def _ship_labels(self, batch: list[LabelItem]) -> None:
        policy = self.settings.policy

        def build(item: LabelItem, stats: EncodeStats | None) -> dict[str, Any]:
            return label_record(item, stats, policy)  # ids redacted as their predictions' were

        self._ship(LABELS_PATH, {"model": self.settings.model}, batch, build)

    def _ship(self, path: str, envelope: dict[str, Any], batch: list[Any], build: Any) -> None:
        stats = EncodeStats()
        pieces, count = encode_items(batch, build, stats, self._invalid_record)
        self._count_encode_drops(stats)
        if not count:
            return
        body = encode_batch({**envelope, "batch_id": os.urandom(16).hex()}, pieces)
        self._settle(path, self._deliver(path, body), count)

    def _count_encode_drops(self, stats: EncodeStats) -> None:
        if stats.non_finite:
            self.counters.drop("non_finite", stats.non_finite)
        if stats.invalid_feature_time:  # the record ships without it
            self.counters.drop("invalid_feature_time", stats.invalid_feature_time)

    def _settle(self, path: str, delivery: Delivery, count: int) -> None:
        """Count a batch of ``count`` rows as sent (less the rows the answer rejected) or lost."""
        if not delivery.ok:
            self._lost(count, delivery.reason or "unknown")
            return
        rejected = _rejected_rows(delivery)
        if rejected:
            self._lost(rejected, "rejected_row")
        if path == PREDICTIONS_PATH:
            self.sent_predictions += count - rejected
        else:
            self.sent_labels += count - rejected

    def _ship_counters(self) -> None:
        snapshot = self.counters.swap()
        if not snapshot.is_empty():
            s = self.settings
            payload = counters_payload(s.model, s.version, os.urandom(16).hex(), self.counters.bounds_ms, snapshot)
            self._pending_counters.append(encode_json(payload))
        while len(self._pending_counters) > self.settings.max_pending_counters:
            self._pending_counters.popleft()
            self.lost_counter_batches += 1
        while self._pending_counters:
            delivery = self._deliver(COUNTERS_PATH, self._pending_counters[0])
            if delivery.ok:
                self.sent_counter_batches += 1
            elif delivery.reason and delivery.reason.startswith("rejected_"):
                self.lost_counter_batches += 1
            else:
                return  # keep it, same batch id, for the next cycle
            self._pending_counters.popleft()

    def _deliver(self, path: str, body: bytes) -> Delivery:
        delivery = self._send(path, body)
        self._log_undelivered(path, delivery)
        return delivery

    def _send(self, path: str, body: bytes) -> Delivery:
        return deliver(self.transport, path, body, self.settings.retry, self, self._rng)

    def _log_undelivered(self, path: str, delivery: Delivery) -> None:
        if delivery.ok:
            return
        result = delivery.result
        status = result.status if result is not None else None
        log = logger.warning if delivery.reason and delivery.reason.startswith("rejected_") else logger.debug
        log("modelwatch: %s batch not delivered (%s, status %s, %d tries)", path, delivery.reason, status, delivery.attempts)

    @property
    def pending_counter_batches(self) -> int:
        """Return how many counters batches wait for a retry."""
        return len(self._pending_counters)


def _answer(delivery: Delivery) -> Any:
    """The collector's JSON answer, or None."""
    result = delivery.result
    if result is None or not result.body:
        return None
    try:
        return json.loads(result.body)
    except ValueError:
        return None


def _rejected_rows(delivery: Delivery) -> int:
    # The collector answers {"accepted": n, "duplicates": d, "rejected": [...]}.
    answer = _answer(delivery)
    rejected = answer.get("rejected") if isinstance(answer, dict) else None
    return len(rejected) if isinstance(rejected, list) else 0


# What a collector without columnar support answers a columnar body (collector/errors.py shape):
# its envelope ignores the unknown "columns" and misses the required "records".
_NO_RECORDS = {"row": None, "field": "records", "error": "required field is missing"}


def refuses_columns(delivery: Delivery) -> bool:
    """Return True when the answer is a 422 whose ``detail`` names "records" as a missing field."""
    if delivery.ok or delivery.result is None or delivery.result.status != 422:
        return False
    answer = _answer(delivery)
    detail = answer.get("detail") if isinstance(answer, dict) else None
    return isinstance(detail, list) and _NO_RECORDS in detail
