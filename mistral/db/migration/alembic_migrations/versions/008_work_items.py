"""work items: actions handed to external workers through named queues

Revision ID: 008
Revises: 007
Create Date: 2026-11-30 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from mistral.db.types import JsonEncoded

revision = "008"
down_revision = "007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("project_id", sa.String(80), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("action_execution_id", sa.String(36), nullable=False),
        sa.Column("workflow_execution_id", sa.String(36), nullable=True),
        sa.Column("task_name", sa.String(255), nullable=True),
        sa.Column("queue", sa.String(255), nullable=False),
        sa.Column("tags", JsonEncoded(), nullable=True),
        sa.Column("tag_key", sa.String(1024), nullable=False),
        sa.Column("input", JsonEncoded(), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_token", sa.String(36), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.UniqueConstraint("action_execution_id"),
    )
    op.create_index("ix_work_items_project_id", "work_items", ["project_id"])
    op.create_index("work_items_claim", "work_items", ["project_id", "queue", "state", "created_at"])
    op.create_index("work_items_state_lease", "work_items", ["state", "lease_expires_at"])
    op.create_index("work_items_workflow", "work_items", ["workflow_execution_id", "state"])


def downgrade() -> None:
    op.drop_table("work_items")
