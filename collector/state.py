"""What one collector app holds: settings, engine, per-model codecs, metrics, caches."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from starlette.requests import Request

from collector.auth import TokenCache
from collector.codecs import ModelCodec
from collector.errors import CollectorError
from collector.metrics import CollectorMetrics
from config.monitors import Monitors
from config.settings import Settings
from store.catalog import sync_models
from store.writes import note_versions

logger = logging.getLogger("modelwatch.collector")
# Batches decoded and written at once per process. More would not go faster on a few cores (and
# the pool has ~10 connections), but each waiting body would sit in memory: this keeps it flat.
INGEST_CONCURRENCY = 4
BATCH_TIMES_MAX = 100_000  # batches remembered: minutes of traffic at full speed, a few MB


@dataclass
class CollectorState:
    settings: Settings
    engine: Engine
    monitors: Monitors
    codecs: dict[str, ModelCodec]
    metrics: CollectorMetrics
    tokens: TokenCache
    owns_engine: bool
    catalog_synced: bool = False
    # (model, version) pairs already in model_versions: most batches then cost no extra query.
    _noted_versions: set[tuple[str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # (model, batch_id) -> when the batch was first received: the default time of its records,
    # so an in-process retry of records sent without a timestamp still deduplicates.
    _batch_times: OrderedDict[tuple[str, str], datetime] = field(default_factory=OrderedDict)
    _slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def codec(self, model: str) -> ModelCodec:
        """The model's codec; 404 for a model monitors.yaml does not declare."""
        codec = self.codecs.get(model)
        if codec is None:
            raise CollectorError(404, f"unknown model {model!r}: it is not declared in the monitors config")
        return codec

    def sync_catalog(self) -> None:
        """Write the declared models to the ``models`` table, once per app (retried after a
        start with the database down, since model_versions rows refer to it)."""
        if self.catalog_synced:
            return
        with self._lock:
            if not self.catalog_synced:
                n = sync_models(self.engine, self.monitors)
                self.catalog_synced = True
                logger.info("model catalog synced: %d model(s)", n)

    def note_versions(self, model: str, versions: set[str], seen_at: datetime) -> None:
        """Record versions not yet noted by this process (idempotent in the store anyway)."""
        new = [v for v in versions if (model, v) not in self._noted_versions]
        if not new:
            return
        self.sync_catalog()
        note_versions(self.engine, model, new, seen_at)
        self._noted_versions.update((model, v) for v in new)


    def ingest_slots(self) -> asyncio.Semaphore:
        """The semaphore bounding in-flight ingest requests, for the running event loop (tests
        may run one app under several loops)."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(INGEST_CONCURRENCY))
        return self._slots[1]

    def batch_time(self, model: str, batch_id: str | None, now: datetime) -> datetime:
        """The receive time of the first delivery of ``batch_id`` (``now`` if new or None)."""
        if batch_id is None:
            return now
        key = (model, batch_id)
        with self._lock:
            first = self._batch_times.setdefault(key, now)
            self._batch_times.move_to_end(key)
            if len(self._batch_times) > BATCH_TIMES_MAX:
                self._batch_times.popitem(last=False)
        return first


def get_state(request: Request) -> CollectorState:
    return request.app.state.collector  # type: ignore[no-any-return]
