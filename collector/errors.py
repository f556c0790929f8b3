"""Every error leaves the collector as ``{"error": "...", "detail": [...]}``.

Handlers never echo request bodies, feature values, tokens or driver messages (SQLAlchemy puts
bound parameters in its exception text), and log exception types and counts, not contents.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from store.engine import DatabaseUnavailable

logger = logging.getLogger("modelwatch.collector")

# Errors that mean "the database cannot take this now": the client keeps the data and retries.
DATABASE_DOWN: tuple[type[Exception], ...] = (OperationalError, InterfaceError, DatabaseUnavailable, PoolTimeoutError)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: the 0-based record index (None for the envelope), the
    field path inside it (``features.amount``) and what is wrong."""

    row: int | None
    field: str
    error: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class CollectorError(Exception):
    """An HTTP error with the collector's error body."""

    def __init__(self, status: int, error: str, detail: Sequence[Problem] = (),
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = list(detail)
        self.headers = headers


def error_response(status: int, error: str, detail: Sequence[Problem] = (),
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": [p.as_dict() for p in detail]}, status, headers=headers)


def _collector_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CollectorError)
    return error_response(exc.status, exc.error, exc.detail, exc.headers)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Query and path parameters only: request bodies are decoded by collector.decode.
    detail = [Problem(None, ".".join(str(p) for p in err.get("loc", ())), str(err.get("msg", "invalid")))
              for err in exc.errors()]
    return error_response(422, "invalid request parameters", detail)


def database_unavailable_handler(retry_after_seconds: int):  # type: ignore[no-untyped-def]
    def handler(request: Request, exc: Exception) -> JSONResponse:
        # The type only: driver messages can carry bound parameters (feature values).
        logger.warning("database unavailable (%s) on %s; answering 503", type(exc).__name__, request.url.path)
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.database_unavailable.inc()
        return error_response(503, "database unavailable; nothing was stored, retry later",
                              headers={"Retry-After": str(retry_after_seconds)})

    return handler


def log_unexpected(exc: BaseException, path: str) -> None:
    # The traceback's frames, not the exception's message, which could quote a value
    # (driver errors quote rows and parameters).
    frames = "\n".join(f"  {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(exc.__traceback__))
    logger.error("unhandled %s on %s\n%s", type(exc).__name__, path, frames)


class ContainUnexpectedErrors:
    """ASGI middleware answering 500 for an unhandled exception without re-raising it: the
    server would otherwise log the exception's message, which may quote feature values."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            log_unexpected(exc, scope.get("path", ""))
            if not started:
                await error_response(500, "internal error")(scope, receive, send)


def install_error_handlers(app: FastAPI, retry_after_seconds: int) -> None:
    app.add_exception_handler(CollectorError, _collector_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    on_db_down = database_unavailable_handler(retry_after_seconds)
    for exc_type in DATABASE_DOWN:
        app.add_exception_handler(exc_type, on_db_down)
