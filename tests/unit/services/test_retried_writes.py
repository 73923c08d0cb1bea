"""Every API write path is one unit of work that survives a transient database error."""

from __future__ import annotations

from typing import Any

import pymysql
import pytest
import sqlalchemy as sa

from mistral.db import api as db_api
from mistral.db import retry
from mistral.services import (
    actions,
    cron_triggers,
    definitions,
    environments,
    event_triggers,
    executions,
    expiration,
    members,
)

WRITES = [
    definitions.create_workflows,
    definitions.update_workflows,
    definitions.delete_workflow,
    definitions.create_actions,
    definitions.update_actions,
    definitions.delete_action,
    definitions.create_workbook,
    definitions.update_workbook,
    definitions.delete_workbook,
    environments.create_environment,
    environments.update_environment,
    environments.delete_environment,
    members.add_member,
    members.update_status,
    members.delete_member,
    cron_triggers.create_cron_trigger,
    cron_triggers.delete_cron_trigger,
    event_triggers.create_event_trigger,
    event_triggers.update_event_trigger,
    event_triggers.delete_event_trigger,
    executions.update_execution_env,
    executions.update_execution_description,
    executions.delete_execution,
    executions.delete_action_execution,
    actions.sync_system_actions,
    expiration.ensure_scheduled,
]


@pytest.mark.parametrize("func", WRITES, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_write_path_retries_transient_errors(func: Any) -> None:
    assert getattr(func, "retries_transient_errors", False)


@pytest.mark.usefixtures("db")
def test_environment_created_after_a_deadlock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "_sleep", lambda _s: None)
    real_create = db_api.create_environment
    calls: list[int] = []

    def deadlock_once(values: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            # The INSERT was chosen as the deadlock victim: nothing of it stays.
            orig = pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock")
            raise sa.exc.OperationalError("INSERT INTO environments ...", {}, orig)
        return real_create(values)

    monkeypatch.setattr(db_api, "create_environment", deadlock_once)
    env = environments.create_environment({"name": "env1", "variables": {"a": 1}})
    assert len(calls) == 2
    assert db_api.get_environment("env1").id == env.id
