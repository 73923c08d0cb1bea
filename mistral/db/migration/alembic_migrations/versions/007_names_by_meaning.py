"""one name per fact: result_applied, reported_to_parent and offered_at instead of accepted and created_at

``accepted`` meant a different fact on each table: on an action, that its result was applied; on
a workflow execution, that its parent task heard its result. Recovery measured how long an action
had waited to be taken from ``created_at``, which a user sees and which says nothing of an action
given back by its executor: it gets a column of its own.

Revision ID: 007
Revises: 006
Create Date: 2026-11-30 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "007"
down_revision = "006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_executions_v2") as batch:
        batch.alter_column("accepted", new_column_name="result_applied", existing_type=sa.Boolean(),
                           existing_nullable=False)  # fmt: skip
        batch.add_column(sa.Column("offered_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("workflow_executions_v2") as batch:
        batch.alter_column("accepted", new_column_name="reported_to_parent", existing_type=sa.Boolean(),
                           existing_nullable=False)  # fmt: skip
    # NOTE: what recovery measured until now, so an action waiting today gives up when it would have.
    op.execute("UPDATE action_executions_v2 SET offered_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("workflow_executions_v2") as batch:
        batch.alter_column("reported_to_parent", new_column_name="accepted", existing_type=sa.Boolean(),
                           existing_nullable=False)  # fmt: skip
    with op.batch_alter_table("action_executions_v2") as batch:
        batch.drop_column("offered_at")
        batch.alter_column("result_applied", new_column_name="accepted", existing_type=sa.Boolean(),
                           existing_nullable=False)  # fmt: skip
