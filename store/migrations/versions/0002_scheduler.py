"""Analysis scheduler tables (store/schema_scheduler.py).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('analysis_windows',
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('window_start', UTC_DATETIME, nullable=False),
    sa.Column('window_end', UTC_DATETIME, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=128), nullable=True),
    sa.Column('lease_until', UTC_DATETIME, nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('started_at', UTC_DATETIME, nullable=False),
    sa.Column('finished_at', UTC_DATETIME, nullable=True),
    sa.Column('n_rows', sa.BigInteger(), nullable=True),
    sa.Column('weight', sa.Float(), nullable=True),
    sa.Column('n_labels', sa.BigInteger(), nullable=True),
    sa.Column('labels_checked_at', UTC_DATETIME, nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('model', 'window_start', 'window_end', name=op.f('pk_analysis_windows'))
    )
    op.create_index('ix_analysis_windows_status', 'analysis_windows', ['status', 'lease_until'], unique=False)
    op.create_table('analysis_label_scans',
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('scanned_until', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('model', name=op.f('pk_analysis_label_scans'))
    )
    op.create_index('ix_labels_model_received_at', 'labels', ['model', 'received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_labels_model_received_at', table_name='labels')
    op.drop_table('analysis_label_scans')
    op.drop_index('ix_analysis_windows_status', table_name='analysis_windows')
    op.drop_table('analysis_windows')
