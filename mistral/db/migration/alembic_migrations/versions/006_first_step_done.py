"""workflow executions: first_step_done, False from a start request until the engine ran its first step

Revision ID: 006
Revises: 005
Create Date: 2026-11-29 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "006"
down_revision = "005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_executions_v2") as batch:
        batch.add_column(sa.Column("first_step_done", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("workflow_executions_v2") as batch:
        batch.drop_column("first_step_done")
