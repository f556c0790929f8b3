"""Deployment-aware monitoring: deploy events, retrain triggers, feature freshness columns
(store/schema_deploys.py, store/schema.py).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('deploys',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('time', UTC_DATETIME, nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('artifact_sha256', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deploys'))
    )
    op.create_index('ix_deploys_model_time', 'deploys', ['model', 'time'], unique=False)
    op.create_table('retrain_triggers',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('time', UTC_DATETIME, nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('receiver', sa.String(length=128), nullable=False),
    sa.Column('group_key', sa.String(length=512), nullable=False),
    sa.Column('alertnames', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('details', JSON_DOCUMENT, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retrain_triggers'))
    )
    op.create_index('ix_retrain_triggers_model_time', 'retrain_triggers', ['model', 'time'], unique=False)
    # Nullable columns without defaults: instant on PostgreSQL, and allowed on compressed
    # TimescaleDB hypertables.
    op.add_column('predictions', sa.Column('feature_lag_s', sa.Float(), nullable=True))
    op.add_column('predictions', sa.Column('feature_lags', JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    op.drop_column('predictions', 'feature_lags')
    op.drop_column('predictions', 'feature_lag_s')
    op.drop_index('ix_retrain_triggers_model_time', table_name='retrain_triggers')
    op.drop_table('retrain_triggers')
    op.drop_index('ix_deploys_model_time', table_name='deploys')
    op.drop_table('deploys')
