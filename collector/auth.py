"""Bearer-token authentication with scopes (ingest, read, admin; admin implies all).

Verified tokens are cached for a few seconds, keyed by the token's SHA-256, so a busy client
does not cost a database round trip per batch; a revoked token stops working within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from collector.errors import CollectorError
from store.tokens import TokenInfo, hash_token, verify_token

_bearer = HTTPBearer(auto_error=False, description="A modelwatch API token (`modelwatch token create`).")
_CACHE_MAX = 10_000  # distinct tokens (valid or not) remembered; cleared when full


class TokenCache:
    """Token hash -> (TokenInfo or None, expiry). Unknown tokens are cached too, so a client
    with a bad token cannot make every request a database query."""

    def __init__(self, ttl_seconds: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._entries: dict[str, tuple[TokenInfo | None, float]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> tuple[bool, TokenInfo | None]:
        """(hit, info): hit is False when the digest is absent or expired."""
        entry = self._entries.get(digest)
        if entry is None or entry[1] < self.clock():
            return False, None
        return True, entry[0]

    def put(self, digest: str, info: TokenInfo | None) -> None:
        with self._lock:
            if len(self._entries) >= _CACHE_MAX:
                self._entries.clear()
            self._entries[digest] = (info, self.clock() + self.ttl)


def _unauthorized(message: str) -> CollectorError:
    return CollectorError(401, message, headers={"WWW-Authenticate": "Bearer"})


def require(scope: str) -> Callable[..., Awaitable[TokenInfo]]:
    """A dependency admitting requests whose token carries ``scope`` (401 / 403 otherwise)."""

    async def check(request: Request,
                    credentials: HTTPAuthorizationCredentials | None = Security(_bearer)) -> TokenInfo:
        if credentials is None or not credentials.credentials:
            raise _unauthorized("missing bearer token")
        state = request.app.state.collector
        token = credentials.credentials
        digest = hash_token(token)
        hit, info = state.tokens.get(digest)
        if not hit:
            # verify_token blocks on the database: keep it off the event loop.
            info = await run_in_threadpool(verify_token, state.engine, token)
            state.tokens.put(digest, info)
        if info is None:
            raise _unauthorized("unknown or revoked token")
        if not info.allows(scope):
            raise CollectorError(403, f"token {info.prefix}... lacks the {scope!r} scope")
        return info

    return check
