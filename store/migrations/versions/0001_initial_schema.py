"""Initial schema: every table of store/schema.py.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 12:01:33.703359
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out here rather than imported from store.types, so this revision keeps creating the
# same DDL whatever later code does to those types.
UTC_DATETIME = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
JSON_TEXT = sa.JSON()  # json on PostgreSQL too: prediction features load faster by COPY


def upgrade() -> None:
    op.create_table('analysis_results',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('window_start', UTC_DATETIME, nullable=False),
    sa.Column('window_end', UTC_DATETIME, nullable=False),
    sa.Column('slice_key', sa.String(length=128), nullable=False),
    sa.Column('slice_value', sa.String(length=256), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('feature', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('details', JSON_DOCUMENT, nullable=True),
    sa.Column('computed_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_results')),
    sa.UniqueConstraint('model', 'version', 'window_start', 'window_end', 'slice_key', 'slice_value', 'kind', 'metric', 'feature', name='uq_analysis_results_window')
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('scopes', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('revoked_at', UTC_DATETIME, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_api_tokens_token_sha256'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('time', UTC_DATETIME, nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=256), nullable=True),
    sa.Column('details', JSON_DOCUMENT, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_table('labels',
    sa.Column('time', UTC_DATETIME, nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('prediction_id', sa.String(length=256), nullable=False),
    sa.Column('label', sa.Text(), nullable=True),
    sa.Column('label_value', sa.Float(), nullable=True),
    sa.Column('received_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('model', 'prediction_id', 'time', name=op.f('pk_labels'))
    )
    op.create_index('ix_labels_model_time', 'labels', ['model', 'time'], unique=False)
    op.create_table('models',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('task', sa.String(length=16), nullable=False),
    sa.Column('spec', JSON_DOCUMENT, nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('updated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_models'))
    )
    op.create_table('predictions',
    sa.Column('time', UTC_DATETIME, nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('prediction_id', sa.String(length=256), nullable=False),
    sa.Column('features', JSON_TEXT, nullable=False),
    sa.Column('prediction', sa.Text(), nullable=True),
    sa.Column('prediction_value', sa.Float(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('probabilities', JSON_DOCUMENT, nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('slices', JSON_DOCUMENT, nullable=True),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('received_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('model', 'prediction_id', 'time', name=op.f('pk_predictions'))
    )
    op.create_index('ix_predictions_model_time', 'predictions', ['model', 'time'], unique=False)
    op.create_table('request_counters',
    sa.Column('minute', UTC_DATETIME, nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('requests', sa.BigInteger(), nullable=False),
    sa.Column('errors', sa.BigInteger(), nullable=False),
    sa.Column('latency_count', sa.BigInteger(), nullable=False),
    sa.Column('latency_sum_ms', sa.Float(), nullable=False),
    sa.Column('latency_buckets', JSON_DOCUMENT, nullable=False),
    sa.Column('dropped', JSON_DOCUMENT, nullable=True),
    sa.PrimaryKeyConstraint('model', 'version', 'minute', 'batch_id', name=op.f('pk_request_counters'))
    )
    op.create_index('ix_request_counters_minute', 'request_counters', ['minute'], unique=False)
    op.create_table('model_versions',
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=False),
    sa.Column('first_seen', UTC_DATETIME, nullable=False),
    sa.Column('deployed_at', UTC_DATETIME, nullable=True),
    sa.Column('artifact_sha256', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['model'], ['models.name'], name=op.f('fk_model_versions_model_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model', 'version', name=op.f('pk_model_versions'))
    )
    op.create_table('references',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('n_rows', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('profile', JSON_DOCUMENT, nullable=True),
    sa.ForeignKeyConstraint(['model'], ['models.name'], name=op.f('fk_references_model_models'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_references')),
    sa.UniqueConstraint('model', 'name', name=op.f('uq_references_model'))
    )
    op.create_table('reference_rows',
    sa.Column('reference_id', sa.Integer(), nullable=False),
    sa.Column('row', sa.BigInteger(), nullable=False),
    sa.Column('features', JSON_DOCUMENT, nullable=False),
    sa.Column('prediction', sa.Text(), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('label', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['reference_id'], ['references.id'], name=op.f('fk_reference_rows_reference_id_references'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reference_id', 'row', name=op.f('pk_reference_rows'))
    )


def downgrade() -> None:
    op.drop_table('reference_rows')
    op.drop_table('references')
    op.drop_table('model_versions')
    op.drop_index('ix_request_counters_minute', table_name='request_counters')
    op.drop_table('request_counters')
    op.drop_index('ix_predictions_model_time', table_name='predictions')
    op.drop_table('predictions')
    op.drop_table('models')
    op.drop_index('ix_labels_model_time', table_name='labels')
    op.drop_table('labels')
    op.drop_table('audit_log')
    op.drop_table('api_tokens')
    op.drop_table('analysis_results')
