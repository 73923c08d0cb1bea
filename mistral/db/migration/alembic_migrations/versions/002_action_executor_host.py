"""action executor host

Revision ID: 002
Revises: 001
Create Date: 2026-11-23 19:51:36.244562
"""

import sqlalchemy as sa
from alembic import op

revision = "002"
down_revision = "001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_executions_v2", schema=None) as batch_op:
        batch_op.add_column(sa.Column("executor_host", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_executions_v2", schema=None) as batch_op:
        batch_op.drop_column("executor_host")
