"""The shadow runner service: tail every active candidate of every declared model, forever.

Each cycle re-reads the registry (new candidates start, removed ones stop), runs one tail pass
per candidate (bounded, so one busy candidate cannot starve the rest), and sleeps on the stop
event, so SIGTERM or Ctrl-C ends it between pages: a page is stored with its progress in one
transaction, and the next start resumes there. A failing candidate is logged and skipped; it
never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from config.monitors import Monitors
from shadow.registry import LoadedCandidate, list_candidates, load_candidate
from shadow.replay import DEFAULT_BATCH, ReplayOutcome, tail
from shadow.session import SessionConfig
from store.types import utc_now

__all__ = ["RunnerConfig", "ShadowRunner"]

logger = logging.getLogger("modelwatch.shadow")



@dataclass(frozen=True)
class RunnerConfig:
    poll_seconds: float = 5.0
    lag: timedelta = timedelta(seconds=5)  # leave the newest seconds to commits still in flight
    lookback: timedelta = timedelta(hours=1)  # re-scan for predictions that arrived late
    batch_size: int = DEFAULT_BATCH
    max_batches_per_pass: int = 50
    session: SessionConfig = field(default_factory=SessionConfig)


class ShadowRunner:
    def __init__(self, engine: Engine, monitors: Monitors, config: RunnerConfig | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.monitors = monitors
        self.config = config or RunnerConfig()
        self.clock = clock
        self.stop = threading.Event()
        self._loaded: dict[int, LoadedCandidate] = {}
        self._thread: threading.Thread | None = None

    @property
    def loaded(self) -> dict[int, LoadedCandidate]:
        return dict(self._loaded)

    def _refresh(self) -> None:
        declared = {m.name for m in self.monitors.models}
        active = {c.id: c for c in list_candidates(self.engine) if c.model in declared}
        for gone in set(self._loaded) - set(active):
            logger.info("candidate %s stopped (removed)", self._loaded.pop(gone).candidate.name)
        for cid, cand in active.items():
            if cid in self._loaded:
                continue
            model = self.monitors.model(cand.model)
            assert model is not None
            try:
                loaded = load_candidate(self.engine, model, cand, self.config.session)
            except ValueError as exc:  # ShadowError, or no usable execution provider: retried next cycle
                logger.error("candidate %s of %s cannot be loaded: %s", cand.name, cand.model, exc)
                continue
            session = loaded.runnable.session
            if session.fell_back:
                logger.warning("candidate %s: requested %s but ONNX Runtime runs it on %s (fell back)",
                               cand.name, ", ".join(session.requested), session.provider)
            logger.info("candidate %s of %s on %s (intra-op threads %d, IOBinding %s)", cand.name, cand.model,
                        session.provider, session.intra_op_threads, session.io_binding)
            self._loaded[cid] = loaded

    def run_once(self) -> list[ReplayOutcome]:
        """One tail pass per active candidate; returns their outcomes (failed ones are logged)."""
        self._refresh()
        outcomes = []
        for loaded in list(self._loaded.values()):
            if self.stop.is_set():
                break
            model = self.monitors.model(loaded.candidate.model)
            assert model is not None
            try:
                outcomes.append(tail(self.engine, model, loaded, self.clock(), lag=self.config.lag,
                                     lookback=self.config.lookback, batch_size=self.config.batch_size,
                                     max_batches=self.config.max_batches_per_pass, stop=self.stop))
            except SQLAlchemyError as exc:
                # The store is down or the candidate was deleted meanwhile: retried next cycle.
                logger.error("candidate %s: replay failed (%s); retrying next cycle", loaded.candidate.name,
                             type(exc).__name__)
            except Exception:  # a service boundary: one candidate's bug must not stop the others
                logger.exception("candidate %s: replay failed; retrying next cycle", loaded.candidate.name)
        return outcomes

    def run_forever(self) -> None:
        """Cycle until ``stop`` is set; a cycle that left work behind starts the next at once."""
        while not self.stop.is_set():
            try:
                outcomes = self.run_once()
            except SQLAlchemyError as exc:
                logger.error("shadow cycle failed (%s); retrying in %.0fs", type(exc).__name__, self.config.poll_seconds)
                outcomes = []
            if outcomes and not all(o.finished for o in outcomes):
                continue
            self.stop.wait(self.config.poll_seconds)

    def start_background(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run_forever, name="modelwatch-shadow", daemon=True)
        self._thread.start()
        return self._thread

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop after the page in flight and wait for the thread."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
