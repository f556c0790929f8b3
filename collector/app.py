"""The collector's app factory. Nothing is built at import time: settings, engine and monitors
come in (or are made from settings here), so tests build as many apps as they like."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from collector import (
    routes_canary, routes_cost, routes_deploys, routes_health, routes_ingest, routes_read, routes_references,
    routes_results, routes_retrain, routes_shadow, routes_silences,
)
from collector.auth import TokenCache
from collector.codecs import ModelCodec, build_codec
from collector.errors import DATABASE_DOWN, ContainUnexpectedErrors, install_error_handlers
from collector.metrics import RequestTimer, create_metrics
from collector.metrics_cost import CostMetricsCollector
from collector.metrics_slo import SloMetricsCollector
from collector.openapi import install_openapi
from collector.state import CollectorState
from config.loader import load_monitors
from config.monitors import Monitors
from config.settings import Settings
from store.engine import create_engine

logger = logging.getLogger("modelwatch.collector")
TOKEN_CACHE_TTL_SECONDS = 10.0


def _codecs(monitors: Monitors, pii_key: bytes | None) -> dict[str, ModelCodec]:
    return {m.name: build_codec(m, str(i), pii_key) for i, m in enumerate(monitors.models)}


def create_app(settings: Settings, engine: Engine | None = None, monitors: Monitors | None = None) -> FastAPI:
    """A collector app. Without ``engine`` one is created from ``settings.database_url`` (and
    disposed at shutdown); without ``monitors`` they are loaded from ``settings.config``.
    The declared models are written to the ``models`` table at startup (or, if the database is
    down then, on the first request that needs them). Raises ConfigError for a bad config."""
    owns_engine = engine is None
    if engine is None:
        # hide_parameters: driver errors must never carry feature values into logs.
        engine = create_engine(settings.database_url, hide_parameters=True)
    if monitors is None:
        monitors = load_monitors(settings.config)
    pii_key = settings.pii_key.get_secret_value().encode("utf-8") if settings.pii_key else None
    metrics = create_metrics()
    metrics.registry.register(SloMetricsCollector(engine))
    metrics.registry.register(CostMetricsCollector(engine, monitors.models))
    state = CollectorState(
        settings=settings, engine=engine, monitors=monitors, codecs=_codecs(monitors, pii_key),
        metrics=metrics, tokens=TokenCache(TOKEN_CACHE_TTL_SECONDS), owns_engine=owns_engine,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(state.sync_catalog)
        except DATABASE_DOWN as exc:
            # Start anyway: /readyz says 503 and ingest answers 503 until the database is back.
            logger.warning("database unavailable at startup (%s); catalog sync deferred", type(exc).__name__)
        yield
        if state.owns_engine:
            state.engine.dispose()

    app = FastAPI(title="modelwatch collector", version="0.1.0", lifespan=lifespan, redoc_url=None,
                  description="Ingestion API: predictions, labels, request counters, reference datasets.")
    app.state.collector = state
    app.state.metrics = metrics
    install_error_handlers(app, settings.retry_after_seconds)
    for module in (routes_health, routes_ingest, routes_read, routes_references, routes_results, routes_silences,
                   routes_shadow, routes_retrain, routes_cost, routes_deploys, routes_canary):
        app.include_router(module.router)
    install_openapi(app)
    # The timer is added last, so it is outermost and also times the 500s answered inside.
    app.add_middleware(ContainUnexpectedErrors)
    app.add_middleware(RequestTimer, metrics=metrics)
    return app
