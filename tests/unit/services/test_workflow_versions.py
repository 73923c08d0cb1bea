"""Definition history: updates keep the replaced definition, executions run and record a version."""

from __future__ import annotations

from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.engine import engine as engine_module
from mistral.exceptions import InputError, NotFoundError
from mistral.rpc import clients
from mistral.services import definitions, workflow_versions

pytestmark = pytest.mark.usefixtures("db")


def _flow(output: str, name: str = "flow") -> str:
    return f"""
version: '2.0'
{name}:
  output:
    said: {output}
  tasks:
    t:
      action: std.noop
"""


def _workbook(output: str) -> str:
    return f"""
version: '2.0'
name: wb
workflows:
  inner:
    output:
      said: {output}
    tasks:
      t:
        action: std.noop
"""


def _numbers(identifier: str) -> list[tuple[int, bool, str]]:
    wf_def = db_api.get_workflow_definition(identifier)
    return [(v.number, v.current, v.spec["output"]["said"]) for v in workflow_versions.versions_of(wf_def)]


def test_each_update_that_changes_the_definition_keeps_the_one_it_replaced() -> None:
    (created,) = definitions.create_workflows(_flow("one"))
    assert created.version == 1 and _numbers("flow") == [(1, True, "one")]
    definitions.update_workflows(_flow("two"))
    definitions.update_workflows(_flow("two"), scope="private")  # the same text: no new version
    (updated,) = definitions.update_workflows(_flow("three"), identifier=created.id)
    assert updated.version == 3 and updated.id == created.id
    assert _numbers("flow") == [(3, True, "three"), (2, False, "two"), (1, False, "one")]
    old = workflow_versions.version_of(updated, "1")
    assert old.definition == _flow("one") and old.checksum != updated.checksum


def test_a_workbook_update_that_changes_a_workflow_keeps_its_previous_definition() -> None:
    definitions.create_workbook(_workbook("one"))
    definitions.update_workbook(_workbook("two"))
    assert _numbers("wb.inner") == [(2, True, "two"), (1, False, "one")]


def test_history_is_bounded_by_max_workflow_versions(override_conf: Any) -> None:
    override_conf("api", "max_workflow_versions", 2)
    definitions.create_workflows(_flow("v1"))
    for n in range(2, 6):
        definitions.update_workflows(_flow(f"v{n}"))
    assert [n for n, _, _ in _numbers("flow")] == [5, 4, 3]
    with pytest.raises(NotFoundError, match="flow version 2"):
        workflow_versions.version_of(db_api.get_workflow_definition("flow"), 2)


def test_deleting_a_workflow_deletes_its_versions() -> None:
    (wf_def,) = definitions.create_workflows(_flow("one"))
    definitions.update_workflows(_flow("two"))
    definitions.delete_workflow("flow")
    assert db_api.find_workflow_versions(wf_def.id) == []


@pytest.mark.parametrize("number", ["x", 0, -1, 1.5, True, None])
def test_a_version_that_is_no_whole_number_from_1_is_a_400(number: Any) -> None:
    (wf_def,) = definitions.create_workflows(_flow("one"))
    with pytest.raises(InputError, match="'workflow_version' must be a whole number from 1"):
        workflow_versions.version_of(wf_def, number)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> engine_module.Engine:
    monkeypatch.setattr(clients.ExecutorClient, "run_actions", lambda *_, **__: None)
    return engine_module.Engine()


def test_an_execution_runs_and_records_the_version_it_asks_for(engine: engine_module.Engine) -> None:
    definitions.create_workflows(_flow("one"))
    definitions.update_workflows(_flow("two"))
    old_id = engine.start_workflow("flow", params={"workflow_version": 1})["id"]
    new_id = engine.start_workflow("flow")["id"]
    definitions.update_workflows(_flow("three"))  # the running ones keep what they started with
    with context.using(context.Context(is_internal=True)), db_api.transaction():
        old, new = db_api.get_workflow_execution(old_id), db_api.get_workflow_execution(new_id)
        assert (old.workflow_version, old.spec["output"]) == (1, {"said": "one"})
        assert (new.workflow_version, new.spec["output"]) == (2, {"said": "two"})


def test_an_unknown_version_starts_nothing(engine: engine_module.Engine) -> None:
    definitions.create_workflows(_flow("one"))
    with pytest.raises(NotFoundError, match="Workflow version not found \\[flow version 4"):
        engine.start_workflow("flow", params={"workflow_version": 4})
    with context.using(context.Context(is_internal=True)):
        assert db_api.list_workflow_executions() == []
