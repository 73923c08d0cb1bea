"""SQLAlchemy models of every Mistral v2 resource.

Table and column names follow Mistral's so operators recognise them. Only
``mistral.db`` imports this module's query machinery; other packages read
model attributes.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mistral.db.types import JsonEncoded, LongText, utcnow


def _new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    #: How the API names this kind in messages ("Workflow not found [x]").
    __kind__ = "Object"
    #: True for models owned by a project and filtered by project_id/scope.
    __secure__ = False

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=_new_id)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, onupdate=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {c.key: getattr(self, c.key) for c in sa.inspect(type(self)).column_attrs}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


class _SecureMixin:
    __secure__ = True

    project_id: Mapped[str] = mapped_column(sa.String(80), nullable=False, index=True)
    scope: Mapped[str] = mapped_column(sa.String(80), nullable=False, default="private")


class _DefinitionMixin(_SecureMixin):
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    namespace: Mapped[str] = mapped_column(sa.String(255), nullable=False, default="")
    definition: Mapped[str | None] = mapped_column(LongText)
    spec: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    tags: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)


class Workbook(_DefinitionMixin, Base):
    __tablename__ = "workbooks_v2"
    __kind__ = "Workbook"
    __table_args__ = (sa.UniqueConstraint("name", "namespace", "project_id"),)


class WorkflowDefinition(_DefinitionMixin, Base):
    __tablename__ = "workflow_definitions_v2"
    __kind__ = "Workflow"
    __table_args__ = (sa.UniqueConstraint("name", "namespace", "project_id"),)

    input: Mapped[str | None] = mapped_column(sa.Text)
    interface: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    checksum: Mapped[str | None] = mapped_column(sa.String(32))
    is_system: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    #: The workbook this workflow came from; it outlives the workbook (as in Mistral), and the
    #: workbook created again under this name takes it back.
    workbook_name: Mapped[str | None] = mapped_column(sa.String(255))
    #: The number of its current definition: 1 when created, one more on every update that changes
    #: it; the previous ones are ``WorkflowVersion`` rows.
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1, server_default="1")


class WorkflowVersion(Base):
    """A previous definition of a workflow, kept when an update replaced it.

    Not a secure model: it is only ever read through its workflow, whose lookup is scoped
    (whoever sees the workflow sees its history); ``project_id`` records the owner.
    Deleting the workflow deletes its versions (the foreign key cascades).
    """

    __tablename__ = "workflow_definition_versions"
    __kind__ = "Workflow version"
    __table_args__ = (sa.UniqueConstraint("workflow_id", "version"),)

    workflow_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("workflow_definitions_v2.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    project_id: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    definition: Mapped[str | None] = mapped_column(LongText)
    spec: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    checksum: Mapped[str | None] = mapped_column(sa.String(32))


class ActionDefinition(_DefinitionMixin, Base):
    __tablename__ = "action_definitions_v2"
    __kind__ = "Action"
    __table_args__ = (sa.UniqueConstraint("name", "namespace", "project_id"),)

    description: Mapped[str | None] = mapped_column(sa.Text)
    input: Mapped[str | None] = mapped_column(sa.Text)
    is_system: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    #: For system actions: "module:Class" of the plugin.
    action_class: Mapped[str | None] = mapped_column(sa.String(255))
    workbook_name: Mapped[str | None] = mapped_column(sa.String(255))


class Environment(_SecureMixin, Base):
    __tablename__ = "environments_v2"
    __kind__ = "Environment"
    __table_args__ = (sa.UniqueConstraint("name", "project_id"),)

    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    variables: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)


class CodeSource(_SecureMixin, Base):
    """Uploaded Python text whose classes dynamic actions name; run only by executors, in a child."""

    __tablename__ = "code_sources"
    __kind__ = "Code source"
    __table_args__ = (sa.UniqueConstraint("name", "namespace", "project_id"),)

    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    namespace: Mapped[str] = mapped_column(sa.String(255), nullable=False, default="")
    content: Mapped[str] = mapped_column(LongText, nullable=False)
    #: 1 when created, one more on every update.
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    tags: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)


class DynamicActionDefinition(_SecureMixin, Base):
    """An action named ``name`` that runs class ``class_name`` of a code source."""

    __tablename__ = "dynamic_action_definitions"
    __kind__ = "Dynamic action"
    __table_args__ = (sa.UniqueConstraint("name", "namespace", "project_id"),)

    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    namespace: Mapped[str] = mapped_column(sa.String(255), nullable=False, default="")
    class_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    #: Deleting the code source deletes its dynamic actions.
    code_source_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("code_sources.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_source_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)


class WorkflowExecution(_SecureMixin, Base):
    __tablename__ = "workflow_executions_v2"
    __kind__ = "Execution"
    __table_args__ = (
        sa.Index("workflow_executions_v2_state", "state"),
        sa.Index("workflow_executions_v2_root", "root_execution_id"),
        sa.Index("workflow_executions_v2_task", "task_execution_id"),
    )

    workflow_name: Mapped[str | None] = mapped_column(sa.String(255))
    workflow_namespace: Mapped[str] = mapped_column(sa.String(255), default="")
    workflow_id: Mapped[str | None] = mapped_column(sa.String(80))
    description: Mapped[str | None] = mapped_column(sa.Text)
    tags: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    spec: Mapped[Any] = mapped_column(JsonEncoded, nullable=True, deferred=True)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    state_info: Mapped[str | None] = mapped_column(sa.Text)
    input: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    output: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    params: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    context: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    runtime_context: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    #: A sub-workflow's outcome was handed to its parent task (recovery hands on those not yet handed).
    reported_to_parent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Its first tasks were created: False from a start request until an engine ran its first step.
    first_step_done: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    task_execution_id: Mapped[str | None] = mapped_column(sa.String(36))
    root_execution_id: Mapped[str | None] = mapped_column(sa.String(36))
    source_execution_id: Mapped[str | None] = mapped_column(sa.String(36))
    #: The version of its workflow's definition it runs (None: started before versions were kept).
    workflow_version: Mapped[int | None] = mapped_column(sa.Integer)
    #: Started with ``params.mock_actions`` (or a sub-workflow of such a run): its mocked actions
    #: never reach an executor.
    test_run: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())


class TaskExecution(_SecureMixin, Base):
    __tablename__ = "task_executions_v2"
    __kind__ = "Task"
    __table_args__ = (
        sa.Index("task_executions_v2_wf_ex_state", "workflow_execution_id", "state"),
        sa.Index("task_executions_v2_unique_key", "unique_key"),
    )

    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    type: Mapped[str] = mapped_column(sa.String(10), default="ACTION")
    workflow_name: Mapped[str | None] = mapped_column(sa.String(255))
    workflow_namespace: Mapped[str] = mapped_column(sa.String(255), default="")
    workflow_id: Mapped[str | None] = mapped_column(sa.String(80))
    workflow_execution_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("workflow_executions_v2.id", ondelete="CASCADE"), nullable=False
    )
    tags: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    spec: Mapped[Any] = mapped_column(JsonEncoded, nullable=True, deferred=True)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    state_info: Mapped[str | None] = mapped_column(sa.Text)
    in_context: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    published: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    runtime_context: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    result: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    processed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    reset: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    error_handled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    has_next_tasks: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Identifies one task instance so joins and cycles find it again.
    unique_key: Mapped[str | None] = mapped_column(sa.String(255))
    started_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)
    finished_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)


class ActionExecution(_SecureMixin, Base):
    __tablename__ = "action_executions_v2"
    __kind__ = "ActionExecution"
    __table_args__ = (
        sa.Index("action_executions_v2_task_state", "task_execution_id", "state"),
        sa.Index("action_executions_v2_state_heartbeat", "state", "last_heartbeat"),
        sa.Index("action_executions_v2_state_sent", "state", "sent_at"),
    )

    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    workflow_name: Mapped[str | None] = mapped_column(sa.String(255))
    workflow_namespace: Mapped[str] = mapped_column(sa.String(255), default="")
    task_execution_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("task_executions_v2.id", ondelete="CASCADE")
    )
    tags: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    state_info: Mapped[str | None] = mapped_column(sa.Text)
    #: Its result was applied (the REST API shows it as Mistral's ``accepted``).
    result_applied: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_sync: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    input: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    output: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    params: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    spec: Mapped[Any] = mapped_column(JsonEncoded, nullable=True, deferred=True)
    runtime_context: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    last_heartbeat: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)
    #: When the engine last queued it for an executor (the first send, or a re-send).
    sent_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)
    #: When it was last offered to the executors untaken: created, or given back by its executor.
    #: A re-send keeps it: recovery fails an action nobody takes for long after it.
    offered_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)
    #: When an executor took it, before running it; an action taken is never re-sent unless safe to re-run.
    taken_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)
    #: The executor that took the action (its [executor] host), for operators and target checks.
    executor_host: Mapped[str | None] = mapped_column(sa.String(255))


class CronTrigger(_SecureMixin, Base):
    __tablename__ = "cron_triggers_v2"
    __kind__ = "Cron trigger"
    __table_args__ = (
        sa.UniqueConstraint("name", "project_id"),
        sa.Index("cron_triggers_v2_next_execution_time", "next_execution_time"),
    )

    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    pattern: Mapped[str | None] = mapped_column(sa.String(100))
    first_execution_time: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)
    next_execution_time: Mapped[datetime.datetime] = mapped_column(sa.DateTime, nullable=False)
    remaining_executions: Mapped[int | None] = mapped_column(sa.Integer)
    workflow_name: Mapped[str | None] = mapped_column(sa.String(255))
    workflow_id: Mapped[str | None] = mapped_column(
        sa.String(36), sa.ForeignKey("workflow_definitions_v2.id", ondelete="CASCADE")
    )
    workflow_input: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    workflow_params: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    trust_id: Mapped[str | None] = mapped_column(sa.String(80))


class EventTrigger(_SecureMixin, Base):
    __tablename__ = "event_triggers_v2"
    __kind__ = "Event trigger"
    __table_args__ = (sa.UniqueConstraint("exchange", "topic", "event", "workflow_id", "project_id"),)

    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    workflow_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("workflow_definitions_v2.id", ondelete="CASCADE"), nullable=False
    )
    workflow_input: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    workflow_params: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    exchange: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    topic: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    event: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    trust_id: Mapped[str | None] = mapped_column(sa.String(80))


class ResourceMember(Base):
    __tablename__ = "resource_members_v2"
    __kind__ = "Resource member"
    __table_args__ = (sa.UniqueConstraint("resource_id", "resource_type", "member_id"),)

    resource_id: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    resource_type: Mapped[str] = mapped_column(sa.String(50), nullable=False, default="workflow")
    project_id: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    member_id: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="pending")


class ScheduledJob(Base):
    """A persistent delayed call: the scheduler runs ``func_name(**func_args)`` at ``run_after``.

    A job is claimed by setting ``captured_at`` in an atomic update, so with
    many engines each job runs once; a claim older than the capture timeout
    is taken over (its engine died).
    """

    __tablename__ = "scheduled_jobs_v2"
    __kind__ = "Scheduled job"
    __table_args__ = (sa.Index("scheduled_jobs_v2_run_after", "run_after", "captured_at"),)

    func_name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    func_args: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    run_after: Mapped[datetime.datetime] = mapped_column(sa.DateTime, nullable=False)
    captured_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)
    #: Optional deduplication key: at most one job per key.
    key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    context: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)


class NamedLock(Base):
    __tablename__ = "named_locks"
    __kind__ = "Named lock"

    name: Mapped[str] = mapped_column(sa.String(255), nullable=False, unique=True)


class NotificationEvent(Base):
    """One event for one publisher, waiting for the notifier to deliver it (an outbox row).

    Written in the transaction of the state change it reports, so an event exists
    exactly when its change was committed. ``seq`` orders the events of one
    ``stream`` (one execution's events for one publisher): the engine writes them
    under the execution's row lock, so their ``seq`` order is their commit order.
    ``id`` is the event's identity the receiver can deduplicate by.
    """

    __tablename__ = "notification_events"
    __kind__ = "Notification event"
    __table_args__ = (
        sa.Index("notification_events_stream", "stream", "seq"),
        sa.Index("notification_events_due", "next_attempt_at"),
    )

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(sa.String(36), nullable=False, unique=True, default=_new_id)
    stream: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    execution_id: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    project_id: Mapped[str | None] = mapped_column(sa.String(80))
    event: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    publisher: Mapped[Any] = mapped_column(JsonEncoded, nullable=False)
    payload: Mapped[Any] = mapped_column(JsonEncoded, nullable=False)
    next_attempt_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: set while a notifier delivers it; a claim older than [notifier] claim_timeout is taken over
    claimed_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(255))
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class WorkItem(_SecureMixin, Base):
    """An action waiting for (or held by) an external worker of a named queue.

    Created with its action execution, in the same transaction, when the task says ``queue:``
    or runs ``std.external``. A worker claims it for a lease (``lease_token`` names that claim);
    a lease that runs out makes it claimable again, ``attempt`` counting the claims, up to
    ``max_attempts``. The result comes back as the action execution's.
    """

    __tablename__ = "work_items"
    __kind__ = "Work item"
    __table_args__ = (
        # NOTE: the claim's query: the oldest claimable items of one project's queue.
        sa.Index("work_items_claim", "project_id", "queue", "state", "created_at"),
        sa.Index("work_items_state_lease", "state", "lease_expires_at"),
        sa.Index("work_items_workflow", "workflow_execution_id", "state"),
    )

    action_execution_id: Mapped[str] = mapped_column(sa.String(36), nullable=False, unique=True)
    workflow_execution_id: Mapped[str | None] = mapped_column(sa.String(36))
    task_name: Mapped[str | None] = mapped_column(sa.String(255))
    queue: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    tags: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    #: The tags as ",a,b," (sorted), so "has every asked tag" is one LIKE per tag on any database.
    tag_key: Mapped[str] = mapped_column(sa.String(1024), nullable=False, default=",")
    input: Mapped[Any] = mapped_column(JsonEncoded, nullable=True)
    #: queued, claimed, paused, done, cancelled, failed (see mistral.db.queries.work_items).
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    attempt: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    lease_token: Mapped[str | None] = mapped_column(sa.String(36))
    lease_expires_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime)
    #: Who holds (or last held) it, as the worker named itself.
    worker: Mapped[str | None] = mapped_column(sa.String(255))
