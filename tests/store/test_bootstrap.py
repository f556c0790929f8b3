"""Migrations and create_schema produce exactly the tables of store/schema.py."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from store import bootstrap, schema, timescale
from store.engine import create_engine
from store.schema import metadata


def schema_diff(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def head_revision() -> str:
    return ScriptDirectory.from_config(bootstrap.alembic_config()).get_current_head()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return request.getfixturevalue("pg_database_url")
    return f"sqlite:///{tmp_path / 'empty.db'}"


def test_upgrade_on_empty_database_matches_metadata(empty_database_url: str) -> None:
    bootstrap.upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        assert schema_diff(engine) == []
        assert set(sa.inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}
        assert bootstrap.current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(empty_database_url: str) -> None:
    bootstrap.upgrade(empty_database_url)
    bootstrap.upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_create_schema_matches_metadata_and_is_stamped(engine: sa.Engine) -> None:
    assert schema_diff(engine) == []
    assert bootstrap.current_revision(engine) == head_revision()


def test_create_schema_again_upgrades_in_place(engine: sa.Engine) -> None:
    # A second `modelwatch up` on the same database runs migrations (none pending) and keeps data.
    with engine.begin() as conn:
        conn.execute(schema.audit_log.insert().values(
            time=datetime(2024, 1, 1, tzinfo=timezone.utc), actor="me", action="test"))
    bootstrap.create_schema(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar() == 1
    assert schema_diff(engine) == []


def test_timescale_setup_is_a_no_op_without_the_extension(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert timescale.setup(conn) is False
        assert timescale.hypertables(conn) == set()
