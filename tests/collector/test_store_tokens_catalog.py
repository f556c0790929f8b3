"""store.tokens and store.catalog on both dialects."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from config.loader import parse_monitors
from store.catalog import ReferenceExists, get_reference_rows, list_references, sync_models, write_reference
from store.tokens import TOKEN_PREFIX, UnknownScope, create_token, list_tokens, revoke_token, verify_token
from tests.collector.conftest import PRICES, monitors_for_tests


def test_tokens_are_stored_hashed_and_verified(engine: Engine) -> None:
    token = create_token(engine, ["ingest", "read"], "ci")
    assert token.startswith(TOKEN_PREFIX) and len(token) >= 40
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT token_sha256, prefix, scopes FROM api_tokens")).one()
        audit = conn.execute(sa.text("SELECT action, target FROM audit_log")).one()
    assert stored.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(tuple(stored)) and stored.prefix == token[:10]
    assert audit.action == "token.create"
    info = verify_token(engine, token)
    assert info is not None and info.scopes == {"ingest", "read"} and info.allows("read") and not info.allows("admin")
    assert verify_token(engine, token + "x") is None
    assert verify_token(engine, "not-a-token") is None


def test_admin_implies_every_scope_and_unknown_scopes_fail(engine: Engine) -> None:
    info = verify_token(engine, create_token(engine, ["admin"], "root"))
    assert info is not None and info.allows("ingest") and info.allows("read")
    with pytest.raises(UnknownScope):
        create_token(engine, ["write"], "bad")
    with pytest.raises(UnknownScope):
        create_token(engine, [], "none")


def test_revoked_tokens_stop_verifying(engine: Engine) -> None:
    token = create_token(engine, ["ingest"], "old")
    info = verify_token(engine, token)
    assert info is not None
    assert revoke_token(engine, info.id)
    assert not revoke_token(engine, info.id)
    assert verify_token(engine, token) is None
    assert list_tokens(engine) == []
    assert [t.name for t in list_tokens(engine, include_revoked=True)] == ["old"]


def test_sync_models_upserts(engine: Engine) -> None:
    monitors = monitors_for_tests()
    assert sync_models(engine, monitors) == 2
    changed = monitors.model_dump(mode="json")
    changed["models"][1]["sampling_rate"] = 0.5
    sync_models(engine, parse_monitors(changed))
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, spec FROM models ORDER BY name")).all()
    assert len(rows) == 2
    spec = rows[1].spec if isinstance(rows[1].spec, dict) else __import__("json").loads(rows[1].spec)
    assert spec["sampling_rate"] == 0.5


def test_write_reference_from_a_dataframe(engine: Engine) -> None:
    monitors = monitors_for_tests()
    sync_models(engine, monitors)
    model = monitors.model(PRICES)
    assert model is not None
    frame = pd.DataFrame({"sq-ft": [1.0, float("nan")], "rooms": [2.0, 3.0], "city": ["paris", None],
                          "class": ["a", "b"], "prediction": [1.5, 2.5]})
    info = write_reference(engine, model, "default", frame)
    assert info.n_rows == 2 and len(info.sha256) == 64
    rows = get_reference_rows(engine, PRICES)
    assert rows[1].features == {"sq-ft": None, "rooms": 3.0, "city": None, "class": "b"}
    with pytest.raises(ReferenceExists):
        write_reference(engine, model, "default", frame)
    assert write_reference(engine, model, "default", frame.head(1), replace=True).replaced
    assert [r.n_rows for r in list_references(engine, PRICES)] == [1]
    with pytest.raises(ValueError, match="colour"):
        write_reference(engine, model, "other", frame.assign(colour=1))
