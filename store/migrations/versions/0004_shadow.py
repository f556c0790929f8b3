"""Shadow runner: artifacts, candidates, outputs, progress (store/schema_shadow.py).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('shadow_artifacts',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_shadow_artifacts'))
    )
    op.create_table('candidates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('mapping', JSON_DOCUMENT, nullable=False),
    sa.Column('outputs', JSON_DOCUMENT, nullable=False),
    sa.Column('production', sa.Boolean(), nullable=False),
    sa.Column('sample_rate', sa.Float(), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('removed_at', UTC_DATETIME, nullable=True),
    sa.ForeignKeyConstraint(['model'], ['models.name'], name=op.f('fk_candidates_model_models'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sha256'], ['shadow_artifacts.sha256'], name=op.f('fk_candidates_sha256_shadow_artifacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidates')),
    sa.UniqueConstraint('model', 'name', name=op.f('uq_candidates_model'))
    )
    op.create_table('shadow_outputs',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('prediction_id', sa.String(length=256), nullable=False),
    sa.Column('time', UTC_DATETIME, nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('batch_latency_ms', sa.Float(), nullable=False),
    sa.Column('batch_size', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('replayed_at', UTC_DATETIME, nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_shadow_outputs_candidate_id_candidates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('candidate_id', 'prediction_id', name=op.f('pk_shadow_outputs'))
    )
    op.create_index('ix_shadow_outputs_candidate_id_time', 'shadow_outputs', ['candidate_id', 'time'], unique=False)
    op.create_table('shadow_progress',
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('run', sa.String(length=128), nullable=False),
    sa.Column('range_start', UTC_DATETIME, nullable=True),
    sa.Column('range_end', UTC_DATETIME, nullable=True),
    sa.Column('cursor_time', UTC_DATETIME, nullable=True),
    sa.Column('cursor_id', sa.String(length=256), nullable=True),
    sa.Column('rows_done', sa.BigInteger(), nullable=False),
    sa.Column('batches_done', sa.BigInteger(), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=True),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.Column('finished_at', UTC_DATETIME, nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_shadow_progress_candidate_id_candidates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('candidate_id', 'run', name=op.f('pk_shadow_progress'))
    )


def downgrade() -> None:
    op.drop_table('shadow_progress')
    op.drop_index('ix_shadow_outputs_candidate_id_time', table_name='shadow_outputs')
    op.drop_table('shadow_outputs')
    op.drop_table('candidates')
    op.drop_table('shadow_artifacts')
