"""notification events: the notifier's outbox of execution and task events

Revision ID: 005
Revises: 004
Create Date: 2026-11-29 15:05:00.000000
"""

import sqlalchemy as sa
from alembic import op

import mistral.db.types

revision = "005"
down_revision = "004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("stream", sa.String(80), nullable=False),
        sa.Column("execution_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(80), nullable=True),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("publisher", mistral.db.types.JsonEncoded(), nullable=False),
        sa.Column("payload", mistral.db.types.JsonEncoded(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    )
    op.create_index("notification_events_stream", "notification_events", ["stream", "seq"])
    op.create_index("notification_events_due", "notification_events", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("notification_events_due", table_name="notification_events")
    op.drop_index("notification_events_stream", table_name="notification_events")
    op.drop_table("notification_events")
