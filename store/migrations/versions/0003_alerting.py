"""SLO status, alerts, outbox and silences (store/schema_alerts.py).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('alert_groups',
    sa.Column('group_key', sa.String(length=1024), nullable=False),
    sa.Column('receiver', sa.String(length=128), nullable=False),
    sa.Column('labels', JSON_DOCUMENT, nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('last_flush_at', UTC_DATETIME, nullable=True),
    sa.Column('log_firing', JSON_DOCUMENT, nullable=True),
    sa.Column('log_resolved', JSON_DOCUMENT, nullable=True),
    sa.Column('log_sent_at', UTC_DATETIME, nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('closed_at', UTC_DATETIME, nullable=True),
    sa.PrimaryKeyConstraint('group_key', name=op.f('pk_alert_groups'))
    )
    op.create_table('alerts',
    sa.Column('fingerprint', sa.String(length=16), nullable=False),
    sa.Column('alertname', sa.String(length=128), nullable=False),
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('labels', JSON_DOCUMENT, nullable=False),
    sa.Column('annotations', JSON_DOCUMENT, nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('active_since', UTC_DATETIME, nullable=True),
    sa.Column('fired_at', UTC_DATETIME, nullable=True),
    sa.Column('resolved_at', UTC_DATETIME, nullable=True),
    sa.Column('last_evaluated_at', UTC_DATETIME, nullable=False),
    sa.Column('silenced_by', JSON_DOCUMENT, nullable=True),
    sa.Column('inhibited', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('fingerprint', name=op.f('pk_alerts'))
    )
    op.create_index('ix_alerts_model_state', 'alerts', ['model', 'state'], unique=False)
    op.create_table('notifications',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('notification_id', sa.String(length=32), nullable=False),
    sa.Column('receiver', sa.String(length=128), nullable=False),
    sa.Column('group_key', sa.String(length=1024), nullable=False),
    sa.Column('dedup_key', sa.String(length=64), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payload', JSON_DOCUMENT, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTC_DATETIME, nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', UTC_DATETIME, nullable=True),
    sa.Column('first_attempt_at', UTC_DATETIME, nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('sent_at', UTC_DATETIME, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedup_key', 'sequence', name='uq_notifications_dedup_key_sequence')
    )
    op.create_index('ix_notifications_status_next_attempt_at', 'notifications', ['status', 'next_attempt_at'], unique=False)
    op.create_table('silences',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('matchers', JSON_DOCUMENT, nullable=False),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('starts_at', UTC_DATETIME, nullable=False),
    sa.Column('ends_at', UTC_DATETIME, nullable=False),
    sa.Column('created_at', UTC_DATETIME, nullable=False),
    sa.Column('expired_at', UTC_DATETIME, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_silences'))
    )
    op.create_index('ix_silences_ends_at', 'silences', ['ends_at'], unique=False)
    op.create_table('sli_hourly',
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('slo', sa.String(length=128), nullable=False),
    sa.Column('hour', UTC_DATETIME, nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('bad', sa.Float(), nullable=False),
    sa.Column('cum_total', sa.Float(), nullable=False),
    sa.Column('cum_bad', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('model', 'slo', 'hour', name=op.f('pk_sli_hourly'))
    )
    op.create_table('sli_rollups',
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('slo', sa.String(length=128), nullable=False),
    sa.Column('spec_key', sa.String(length=64), nullable=False),
    sa.Column('rolled_until', UTC_DATETIME, nullable=False),
    sa.Column('cum_total', sa.Float(), nullable=False),
    sa.Column('cum_bad', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('model', 'slo', name=op.f('pk_sli_rollups'))
    )
    op.create_table('slo_status',
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('slo', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('objective', sa.Float(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('sli', sa.Float(), nullable=True),
    sa.Column('events_total', sa.Float(), nullable=False),
    sa.Column('events_bad', sa.Float(), nullable=False),
    sa.Column('budget_remaining', sa.Float(), nullable=True),
    sa.Column('current_burn', sa.Float(), nullable=True),
    sa.Column('time_to_exhaustion_s', sa.Float(), nullable=True),
    sa.Column('label_coverage', sa.Float(), nullable=True),
    sa.Column('burn_rates', JSON_DOCUMENT, nullable=False),
    sa.Column('rules', JSON_DOCUMENT, nullable=False),
    sa.Column('firing_severities', sa.String(length=256), nullable=False),
    sa.Column('window_end', UTC_DATETIME, nullable=False),
    sa.Column('evaluated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('model', 'slo', name=op.f('pk_slo_status'))
    )
    op.create_table('slo_status_history',
    sa.Column('model', sa.String(length=128), nullable=False),
    sa.Column('slo', sa.String(length=128), nullable=False),
    sa.Column('hour', UTC_DATETIME, nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('sli', sa.Float(), nullable=True),
    sa.Column('budget_remaining', sa.Float(), nullable=True),
    sa.Column('current_burn', sa.Float(), nullable=True),
    sa.Column('events_total', sa.Float(), nullable=False),
    sa.Column('events_bad', sa.Float(), nullable=False),
    sa.Column('evaluated_at', UTC_DATETIME, nullable=False),
    sa.PrimaryKeyConstraint('model', 'slo', 'hour', name=op.f('pk_slo_status_history'))
    )
    op.create_table('delivery_attempts',
    sa.Column('id', ID, autoincrement=True, nullable=False),
    sa.Column('notification', ID, nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('at', UTC_DATETIME, nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.Column('worker', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['notification'], ['notifications.id'], name=op.f('fk_delivery_attempts_notification_notifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempts'))
    )
    op.create_index('ix_delivery_attempts_notification', 'delivery_attempts', ['notification'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_delivery_attempts_notification', table_name='delivery_attempts')
    op.drop_table('delivery_attempts')
    op.drop_table('slo_status_history')
    op.drop_table('slo_status')
    op.drop_table('sli_rollups')
    op.drop_table('sli_hourly')
    op.drop_index('ix_silences_ends_at', table_name='silences')
    op.drop_table('silences')
    op.drop_index('ix_notifications_status_next_attempt_at', table_name='notifications')
    op.drop_table('notifications')
    op.drop_index('ix_alerts_model_state', table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('alert_groups')
