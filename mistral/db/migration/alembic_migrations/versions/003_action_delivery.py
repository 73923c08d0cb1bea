"""action delivery: when an action was last sent and when an executor took it

Revision ID: 003
Revises: 002
Create Date: 2026-11-29 09:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "003"
down_revision = "002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_executions_v2", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("taken_at", sa.DateTime(), nullable=True))
        batch_op.create_index("action_executions_v2_state_sent", ["state", "sent_at"])
    # NOTE: rows from before this revision were reported by their executor or
    # are finished; counting them as taken keeps the re-send path off them.
    op.execute(
        "UPDATE action_executions_v2 SET sent_at = created_at, "
        "taken_at = CASE WHEN accepted THEN COALESCE(last_heartbeat, created_at) END"
    )


def downgrade() -> None:
    with op.batch_alter_table("action_executions_v2", schema=None) as batch_op:
        batch_op.drop_index("action_executions_v2_state_sent")
        batch_op.drop_column("taken_at")
        batch_op.drop_column("sent_at")
