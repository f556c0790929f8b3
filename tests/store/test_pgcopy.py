"""The binary COPY paths on a real PostgreSQL: fast path, fallback on duplicates, jsonb wire format."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store import pgcopy, schema
from store.records import PredictionColumns, PredictionRow

pytestmark = pytest.mark.postgres

T0 = datetime(2024, 3, 10, 12, 0, tzinfo=timezone.utc)
RECEIVED = T0 + timedelta(minutes=1)


def records(ids: range) -> list[tuple[object, ...]]:
    rows = [PredictionRow(time=T0 + timedelta(seconds=i), model="m", version="v1", prediction_id=f"p{i}",
                          features={"x": float(i), "c": "a"}, slices={"region": "eu"}) for i in ids]
    return pgcopy.prediction_records(PredictionColumns.from_rows(rows), RECEIVED)


def copy(conn: Connection, ids: range) -> int:
    return pgcopy.copy_rows(conn, "predictions", pgcopy.PREDICTION_COLUMNS, pgcopy.PREDICTION_TYPES,
                            records(ids))


def staging_exists(conn: Connection) -> bool:
    return conn.exec_driver_sql(
        "SELECT to_regclass('pg_temp.modelwatch_staging_predictions') IS NOT NULL").scalar()


def test_fast_path_copies_straight_into_the_table(pg_engine: Engine) -> None:
    with pg_engine.begin() as conn:
        assert copy(conn, range(100)) == 100
        assert not staging_exists(conn)
    with pg_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.predictions)).scalar() == 100


def test_duplicates_fall_back_to_staging_and_count_exactly(pg_engine: Engine) -> None:
    with pg_engine.begin() as conn:
        copy(conn, range(0, 60))
    with pg_engine.begin() as conn:
        assert copy(conn, range(40, 100)) == 40
        assert staging_exists(conn)  # the fallback ran; the table goes at commit
        # The same transaction can fall back again (staging is reused, emptied first).
        assert copy(conn, range(90, 110)) == 10
    with pg_engine.connect() as conn:
        assert not staging_exists(conn)
        ids = conn.execute(sa.select(schema.predictions.c.prediction_id)).scalars().all()
    assert sorted(ids) == sorted(f"p{i}" for i in range(110))


def test_fallback_keeps_everything_the_caller_wrote_before(pg_engine: Engine) -> None:
    # The savepoint only undoes the failed COPY, not earlier work in the same transaction.
    with pg_engine.begin() as conn:
        copy(conn, range(5))
    with pg_engine.begin() as conn:
        conn.execute(schema.audit_log.insert().values(time=T0, actor="test", action="before"))
        assert copy(conn, range(3, 8)) == 3
    with pg_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.audit_log)).scalar() == 1


def test_json_documents_go_over_the_wire_in_their_binary_input_format() -> None:
    document = {"a": [1, 2.5, "é"], "b": None}
    assert pgcopy.jsonb_field(document) == b"\x01" + msgspec.json.encode(document)
    assert pgcopy.json_field(document) == msgspec.json.encode(document)
    assert pgcopy.jsonb_field(None) is None and pgcopy.json_field(None) is None
    assert pgcopy.document_field(schema.predictions.c.features) is pgcopy.json_field
    assert pgcopy.document_field(schema.predictions.c.slices) is pgcopy.jsonb_field


def test_copied_documents_are_queryable_on_the_server(pg_engine: Engine) -> None:
    with pg_engine.begin() as conn:
        copy(conn, range(3))
    with pg_engine.connect() as conn:
        types = conn.exec_driver_sql(
            "SELECT pg_typeof(features)::text, pg_typeof(slices)::text FROM predictions LIMIT 1").one()
        total = conn.exec_driver_sql(
            "SELECT sum((features->>'x')::float8), json_typeof(features->'c'),"
            " count(*) FILTER (WHERE slices @> '{\"region\": \"eu\"}') FROM predictions GROUP BY 2").one()
    assert tuple(types) == ("json", "jsonb")
    assert tuple(total) == (3.0, "string", 3)


def test_real_postgres_supports_copy_and_the_answer_is_kept(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:
        assert pgcopy.supports_copy(conn)
        assert conn.info[pgcopy._COPY_SUPPORTED] is True
