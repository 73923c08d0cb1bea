"""definition history and test runs: workflow versions, the version an execution runs, test_run

Revision ID: 009
Revises: 008
Create Date: 2026-11-30 06:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import mistral.db.types

revision = "009"
down_revision = "008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workflow_definitions_v2") as batch:
        # NOTE: every workflow stored so far is its own version 1: it has no history yet.
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "workflow_definition_versions",
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("definition", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=True),
        sa.Column("spec", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("checksum", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflow_definitions_v2.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workflow_id", "version"),
    )
    with op.batch_alter_table("workflow_executions_v2") as batch:
        batch.add_column(sa.Column("workflow_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("test_run", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("workflow_executions_v2") as batch:
        batch.drop_column("test_run")
        batch.drop_column("workflow_version")
    op.drop_table("workflow_definition_versions")
    with op.batch_alter_table("workflow_definitions_v2") as batch:
        batch.drop_column("version")
