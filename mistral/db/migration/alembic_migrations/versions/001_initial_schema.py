"""initial schema

Revision ID: 001
Revises:
Create Date: 2026-11-23 19:21:54.975601
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import mistral.db.types

revision = "001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_definitions_v2",
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("is_system", sa.Boolean(), nullable=False),
        sa.Column("action_class", sa.String(length=255), nullable=True),
        sa.Column("workbook_name", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("definition", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=True),
        sa.Column("spec", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("tags", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "namespace", "project_id"),
    )
    with op.batch_alter_table("action_definitions_v2", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_definitions_v2_project_id"), ["project_id"], unique=False)

    op.create_table(
        "environments_v2",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("variables", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "project_id"),
    )
    with op.batch_alter_table("environments_v2", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_environments_v2_project_id"), ["project_id"], unique=False)

    op.create_table(
        "named_locks",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "resource_members_v2",
        sa.Column("resource_id", sa.String(length=80), nullable=False),
        sa.Column("resource_type", sa.String(length=50), nullable=False),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("member_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "resource_type", "member_id"),
    )
    op.create_table(
        "scheduled_jobs_v2",
        sa.Column("func_name", sa.String(length=255), nullable=False),
        sa.Column("func_args", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("run_after", sa.DateTime(), nullable=False),
        sa.Column("captured_at", sa.DateTime(), nullable=True),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("context", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("scheduled_jobs_v2", schema=None) as batch_op:
        batch_op.create_index("scheduled_jobs_v2_run_after", ["run_after", "captured_at"], unique=False)

    op.create_table(
        "workbooks_v2",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("definition", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=True),
        sa.Column("spec", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("tags", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "namespace", "project_id"),
    )
    with op.batch_alter_table("workbooks_v2", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workbooks_v2_project_id"), ["project_id"], unique=False)

    op.create_table(
        "workflow_definitions_v2",
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("interface", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("checksum", sa.String(length=32), nullable=True),
        sa.Column("is_system", sa.Boolean(), nullable=False),
        sa.Column("workbook_name", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("definition", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=True),
        sa.Column("spec", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("tags", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "namespace", "project_id"),
    )
    with op.batch_alter_table("workflow_definitions_v2", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_definitions_v2_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "workflow_executions_v2",
        sa.Column("workflow_name", sa.String(length=255), nullable=True),
        sa.Column("workflow_namespace", sa.String(length=255), nullable=False),
        sa.Column("workflow_id", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("spec", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_info", sa.Text(), nullable=True),
        sa.Column("input", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("output", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("params", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("context", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("runtime_context", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("task_execution_id", sa.String(length=36), nullable=True),
        sa.Column("root_execution_id", sa.String(length=36), nullable=True),
        sa.Column("source_execution_id", sa.String(length=36), nullable=True),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workflow_executions_v2", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workflow_executions_v2_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index("workflow_executions_v2_root", ["root_execution_id"], unique=False)
        batch_op.create_index("workflow_executions_v2_state", ["state"], unique=False)
        batch_op.create_index("workflow_executions_v2_task", ["task_execution_id"], unique=False)

    op.create_table(
        "cron_triggers_v2",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("pattern", sa.String(length=100), nullable=True),
        sa.Column("first_execution_time", sa.DateTime(), nullable=True),
        sa.Column("next_execution_time", sa.DateTime(), nullable=False),
        sa.Column("remaining_executions", sa.Integer(), nullable=True),
        sa.Column("workflow_name", sa.String(length=255), nullable=True),
        sa.Column("workflow_id", sa.String(length=36), nullable=True),
        sa.Column("workflow_input", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("workflow_params", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("trust_id", sa.String(length=80), nullable=True),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflow_definitions_v2.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "project_id"),
    )
    with op.batch_alter_table("cron_triggers_v2", schema=None) as batch_op:
        batch_op.create_index("cron_triggers_v2_next_execution_time", ["next_execution_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_cron_triggers_v2_project_id"), ["project_id"], unique=False)

    op.create_table(
        "event_triggers_v2",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("workflow_id", sa.String(length=36), nullable=False),
        sa.Column("workflow_input", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("workflow_params", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("exchange", sa.String(length=80), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("event", sa.String(length=80), nullable=False),
        sa.Column("trust_id", sa.String(length=80), nullable=True),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workflow_id"], ["workflow_definitions_v2.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exchange", "topic", "event", "workflow_id", "project_id"),
    )
    with op.batch_alter_table("event_triggers_v2", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_triggers_v2_project_id"), ["project_id"], unique=False)

    op.create_table(
        "task_executions_v2",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("workflow_name", sa.String(length=255), nullable=True),
        sa.Column("workflow_namespace", sa.String(length=255), nullable=False),
        sa.Column("workflow_id", sa.String(length=80), nullable=True),
        sa.Column("workflow_execution_id", sa.String(length=36), nullable=False),
        sa.Column("tags", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("spec", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_info", sa.Text(), nullable=True),
        sa.Column("in_context", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("published", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("runtime_context", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("result", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("reset", sa.Boolean(), nullable=False),
        sa.Column("error_handled", sa.Boolean(), nullable=False),
        sa.Column("has_next_tasks", sa.Boolean(), nullable=False),
        sa.Column("unique_key", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workflow_execution_id"], ["workflow_executions_v2.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("task_executions_v2", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_executions_v2_project_id"), ["project_id"], unique=False)
        batch_op.create_index("task_executions_v2_unique_key", ["unique_key"], unique=False)
        batch_op.create_index(
            "task_executions_v2_wf_ex_state", ["workflow_execution_id", "state"], unique=False
        )

    op.create_table(
        "action_executions_v2",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("workflow_name", sa.String(length=255), nullable=True),
        sa.Column("workflow_namespace", sa.String(length=255), nullable=False),
        sa.Column("task_execution_id", sa.String(length=36), nullable=True),
        sa.Column("tags", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_info", sa.Text(), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("is_sync", sa.Boolean(), nullable=False),
        sa.Column("input", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("output", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("params", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("spec", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("runtime_context", mistral.db.types.JsonEncoded(), nullable=True),
        sa.Column("last_heartbeat", sa.DateTime(), nullable=True),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["task_execution_id"], ["task_executions_v2.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_executions_v2", schema=None) as batch_op:
        batch_op.create_index(
            "action_executions_v2_state_heartbeat", ["state", "last_heartbeat"], unique=False
        )
        batch_op.create_index("action_executions_v2_task_state", ["task_execution_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_executions_v2_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action_executions_v2", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_executions_v2_project_id"))
        batch_op.drop_index("action_executions_v2_task_state")
        batch_op.drop_index("action_executions_v2_state_heartbeat")

    op.drop_table("action_executions_v2")
    with op.batch_alter_table("task_executions_v2", schema=None) as batch_op:
        batch_op.drop_index("task_executions_v2_wf_ex_state")
        batch_op.drop_index("task_executions_v2_unique_key")
        batch_op.drop_index(batch_op.f("ix_task_executions_v2_project_id"))

    op.drop_table("task_executions_v2")
    with op.batch_alter_table("event_triggers_v2", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_triggers_v2_project_id"))

    op.drop_table("event_triggers_v2")
    with op.batch_alter_table("cron_triggers_v2", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cron_triggers_v2_project_id"))
        batch_op.drop_index("cron_triggers_v2_next_execution_time")

    op.drop_table("cron_triggers_v2")
    with op.batch_alter_table("workflow_executions_v2", schema=None) as batch_op:
        batch_op.drop_index("workflow_executions_v2_task")
        batch_op.drop_index("workflow_executions_v2_state")
        batch_op.drop_index("workflow_executions_v2_root")
        batch_op.drop_index(batch_op.f("ix_workflow_executions_v2_project_id"))

    op.drop_table("workflow_executions_v2")
    with op.batch_alter_table("workflow_definitions_v2", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_definitions_v2_project_id"))

    op.drop_table("workflow_definitions_v2")
    with op.batch_alter_table("workbooks_v2", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workbooks_v2_project_id"))

    op.drop_table("workbooks_v2")
    with op.batch_alter_table("scheduled_jobs_v2", schema=None) as batch_op:
        batch_op.drop_index("scheduled_jobs_v2_run_after")

    op.drop_table("scheduled_jobs_v2")
    op.drop_table("resource_members_v2")
    op.drop_table("named_locks")
    with op.batch_alter_table("environments_v2", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_environments_v2_project_id"))

    op.drop_table("environments_v2")
    with op.batch_alter_table("action_definitions_v2", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_definitions_v2_project_id"))

    op.drop_table("action_definitions_v2")
