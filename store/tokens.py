"""API tokens: created once, stored only as SHA-256 hashes, checked in constant time.

A token is ``mw_`` + 32 random bytes (urlsafe base64), so it is recognisable in a leaked log or a
secret scanner, and long enough that a plain SHA-256 (no salt, no slow KDF) is safe to store:
there is nothing to brute-force in 256 bits of randomness.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import schema

TOKEN_PREFIX = "mw_"
SCOPES: tuple[str, ...] = ("ingest", "read", "admin")
_SHOWN_PREFIX_CHARS = 10  # "mw_" + 7 characters: enough to tell tokens apart in a list


class UnknownScope(ValueError):
    """A scope other than ingest / read / admin was asked for."""


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None

    def allows(self, scope: str) -> bool:
        """True when the token carries ``scope``; admin implies every scope."""
        return "admin" in self.scopes or scope in self.scopes


def hash_token(token: str) -> str:
    """Hex SHA-256 of the token, as stored in ``api_tokens.token_sha256``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _normalise_scopes(scopes: Iterable[str]) -> list[str]:
    wanted = sorted({s.strip().lower() for s in scopes if s.strip()})
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise UnknownScope(f"scopes must be some of {', '.join(SCOPES)}; got {unknown or 'none'}")
    return wanted


def _info(row: sa.Row) -> TokenInfo:
    return TokenInfo(
        id=row.id, name=row.name, prefix=row.prefix, scopes=frozenset(row.scopes.split(",")),
        created_at=row.created_at, revoked_at=row.revoked_at,
    )


def create_token(engine: Engine, scopes: Iterable[str], name: str, actor: str = "cli") -> str:
    """Create a token with ``scopes`` and return its plaintext, which is never stored or shown
    again. Writes an audit_log row. Raises UnknownScope for a scope that does not exist."""
    granted = _normalise_scopes(scopes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        token_id = conn.execute(
            schema.api_tokens.insert().values(
                name=name, token_sha256=hash_token(token), prefix=token[:_SHOWN_PREFIX_CHARS],
                scopes=",".join(granted), created_at=now,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(schema.audit_log.insert().values(
            time=now, actor=actor, action="token.create", target=f"token:{token_id}",
            details={"name": name, "scopes": granted},
        ))
    return token


def verify_token(engine: Engine, token: str) -> TokenInfo | None:
    """The token's info if it exists and is not revoked, else None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(token)
    table = schema.api_tokens
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.token_sha256 == digest)).first()
    # The lookup is by an index on the hash; compare again in constant time so no timing
    # difference depends on how much of a guessed hash matched.
    if row is None or not hmac.compare_digest(row.token_sha256, digest) or row.revoked_at is not None:
        return None
    return _info(row)


def list_tokens(engine: Engine, include_revoked: bool = False) -> list[TokenInfo]:
    """Every token (never its secret), oldest first."""
    table = schema.api_tokens
    query = sa.select(table).order_by(table.c.id)
    if not include_revoked:
        query = query.where(table.c.revoked_at.is_(None))
    with engine.connect() as conn:
        return [_info(row) for row in conn.execute(query)]


def revoke_token(engine: Engine, token_id: int, actor: str = "cli") -> bool:
    """Revoke a token by id; returns False when no active token has that id. Audited."""
    table = schema.api_tokens
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        result = conn.execute(
            table.update().where(table.c.id == token_id, table.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        if result.rowcount == 0:
            return False
        conn.execute(schema.audit_log.insert().values(
            time=now, actor=actor, action="token.revoke", target=f"token:{token_id}", details=None,
        ))
    return True
