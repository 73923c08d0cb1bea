"""Test runs through the real python-mistralclient and ``mistral`` CLI: ``params.mock_actions``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mistralclient.api import base as client_base

from tests.functional.conftest import cli_json
from tests.polling import wait_execution

# NOTE: the engine's side runs on both databases in tests/unit/engine/test_mocked_actions.py.
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

WORKFLOWS = """
version: '2.0'
deploy:
  output:
    address: <% $.address %>
  tasks:
    create_server:
      action: nova.servers_create name=web
      publish:
        address: <% task().result.ip %>
      publish-on-error:
        address: null
      on-success: announce
      on-error: cleanup
    announce:
      action: std.echo output="up at <% $.address %>"
    cleanup:
      action: std.noop
"""
MOCKS = {"create_server": {"ip": "10.0.0.7"}}


@pytest.fixture
def wfs(client: Any) -> Any:
    client.workflows.create(WORKFLOWS)
    return client


def test_a_test_run_replaces_its_mocked_actions_and_is_marked_in_lists(wfs: Any) -> None:
    client = wfs
    # nova.servers_create is not even installed here (load_action_generators is off): mocked, it
    # is never looked up, and the task publishes the mocked result
    ex = client.executions.create("deploy", mock_actions=MOCKS)
    assert ex.test_run is True and ex.workflow_version == 1
    done = wait_execution(client, ex.id)
    assert done.state == "SUCCESS", done.state_info
    assert json.loads(done.output) == {"address": "10.0.0.7"}
    assert json.loads(done.params)["mock_actions"] == MOCKS

    actions = {a.name: a for a in client.action_executions.list()}
    assert actions["nova.servers_create"].description.startswith("Mocked result (test run)")
    mocked = client.action_executions.get(actions["nova.servers_create"].id)
    assert json.loads(mocked.output) == {"result": {"ip": "10.0.0.7"}}
    assert not actions["std.echo"].description  # not mocked: it ran on an executor

    failed = client.executions.create("deploy", mock_actions={"nova.servers_create": {"error": "no quota"}})
    done_failed = wait_execution(client, failed.id)
    assert done_failed.state == "SUCCESS", done_failed.state_info  # on-error: cleanup
    tasks = {t.name: t.state for t in client.tasks.list(failed.id)}
    assert tasks == {"create_server": "ERROR", "cleanup": "SUCCESS"}

    assert {e.id for e in client.executions.list(test_run=True)} == {ex.id, failed.id}
    assert client.executions.list(test_run=False) == []


def test_mocks_that_mock_nothing_are_a_400_naming_them(wfs: Any) -> None:
    with pytest.raises(client_base.APIException) as err:
        wfs.executions.create("deploy", mock_actions={"create_servr": 1})
    assert err.value.error_code == 400
    assert "'create_servr' is no task or action of the workflow" in err.value.error_message
    with pytest.raises(client_base.APIException) as err:
        wfs.executions.create("deploy", mock_actions=["create_server"])
    assert err.value.error_code == 400 and "must be a JSON object" in err.value.error_message
    assert wfs.executions.list() == []


def test_the_cli_starts_a_test_run_and_lists_test_runs(wfs: Any, cli: Any) -> None:
    plain = wfs.executions.create("deploy")  # no mocks: a real run (it fails: no nova here)
    wait_execution(wfs, plain.id)
    params = json.dumps({"mock_actions": MOCKS})
    created = cli_json(cli("execution-create", "deploy", "{}", params, "-f", "json"))
    assert wait_execution(wfs, created["ID"]).state == "SUCCESS"
    listed = cli_json(cli("execution-list", "--filter", "test_run=true", "-f", "json"))
    assert [row["ID"] for row in listed] == [created["ID"]]
