"""code sources and dynamic actions

Revision ID: 004
Revises: 003
Create Date: 2026-11-29 15:00:00.000000
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import mistral.db.types

revision = "004"
down_revision = "003"
branch_labels = None
depends_on = None


def _common() -> list[sa.Column]:
    return [
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "code_sources",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tags", mistral.db.types.JsonEncoded(), nullable=True),
        *_common(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "namespace", "project_id"),
    )
    with op.batch_alter_table("code_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_code_sources_project_id"), ["project_id"], unique=False)
    op.create_table(
        "dynamic_action_definitions",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("class_name", sa.String(length=255), nullable=False),
        sa.Column("code_source_id", sa.String(length=36), nullable=False),
        sa.Column("code_source_name", sa.String(length=255), nullable=False),
        *_common(),
        sa.ForeignKeyConstraint(["code_source_id"], ["code_sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "namespace", "project_id"),
    )
    with op.batch_alter_table("dynamic_action_definitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dynamic_action_definitions_code_source_id"), ["code_source_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dynamic_action_definitions_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("dynamic_action_definitions")
    op.drop_table("code_sources")
