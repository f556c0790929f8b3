"""A custom prometheus_client collector that reads its families from the store at most once per
``ttl`` seconds, so a busy scraper costs one read per TTL; with the database down it serves the
last families it has (the collector's own metrics count the outage)."""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from collector.errors import DATABASE_DOWN

__all__ = ["CachedCollector"]

logger = logging.getLogger("modelwatch.collector")


class CachedCollector(Collector, abc.ABC):
    """Subclasses say what they serve (``what``, for the log) and read it (``_read``);
    ``clock`` is monotonic seconds (tests pass their own)."""

    what = "metrics"

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._families: list[GaugeMetricFamily] = []
        self._read_at: float | None = None

    def describe(self) -> list[GaugeMetricFamily]:
        # Describing must not touch the database (registering happens in the app factory).
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            if self._read_at is None or self.clock() - self._read_at >= self.ttl:
                try:
                    self._families = self._read()
                    self._read_at = self.clock()
                except DATABASE_DOWN as exc:
                    logger.info("%s not refreshed: database unavailable (%s)", self.what, type(exc).__name__)
            yield from self._families

    @abc.abstractmethod
    def _read(self) -> list[GaugeMetricFamily]:
        """The families, read now. Raises one of DATABASE_DOWN when the store is unreachable."""
