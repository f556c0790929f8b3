"""Create or upgrade the schema: `modelwatch up` (create_schema) and `modelwatch db upgrade`.

Alembic is configured in code, pointing at store/migrations, so no alembic.ini is needed in the
working directory. After the tables exist, TimescaleDB is set up when the server has it.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Connection, Engine

from store import timescale
from store.engine import create_engine
from store.schema import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic config for store/migrations; ``connection`` is used as is when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def create_schema(engine: Engine, policies: timescale.TimescalePolicies | None = None) -> None:
    """Make the database current: a new database gets every table at once (and is stamped at
    the latest migration), one already under Alembic is upgraded. Then TimescaleDB, if present.
    """
    with engine.connect() as conn:
        if sa.inspect(conn).has_table(VERSION_TABLE):
            command.upgrade(alembic_config(conn), "head")
        else:
            metadata.create_all(conn)
            command.stamp(alembic_config(conn), "head")
        conn.commit()
        timescale.setup(conn, policies)
        conn.commit()


def upgrade(target: Engine | str | URL, revision: str = "head",
            policies: timescale.TimescalePolicies | None = None) -> None:
    """Run the migrations up to ``revision`` on an engine or a database URL, then TimescaleDB."""
    engine = target if isinstance(target, Engine) else create_engine(target)
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), revision)
            conn.commit()
            timescale.setup(conn, policies)
            conn.commit()
    finally:
        if engine is not target:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None when it is not under Alembic yet."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
