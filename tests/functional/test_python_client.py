"""The real python-mistralclient's Python API against the server."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from mistralclient.api import base as client_base

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "definitions"


def _text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_workflows(client: Any) -> None:
    created = client.workflows.create(_text("workflows.yaml"), namespace="ns1")
    assert sorted(w.name for w in created) == ["wf_one", "wf_two"]
    wf = client.workflows.get("wf_one", namespace="ns1")
    assert (wf.input, wf.namespace, wf.tags) == ('a, b="2"', "ns1", ["one", "demo"])
    assert [w.name for w in client.workflows.list(namespace="ns1", sort_keys="name")] == ["wf_one", "wf_two"]
    updated = client.workflows.update(_text("workflows.yaml").replace("first one", "1st"), namespace="ns1")
    assert {w.id for w in updated} == {w.id for w in created}
    assert "1st" in client.workflows.get(wf.id).definition
    assert client.workflows.validate(_text("workflows.yaml")) == {"valid": True}
    assert client.workflows.validate("wf: {tasks: 1}")["valid"] is False
    client.workflows.delete("wf_one", namespace="ns1")
    with pytest.raises(client_base.APIException) as err:
        client.workflows.get("wf_one", namespace="ns1")
    assert err.value.error_code == 404 and "wf_one" in err.value.error_message


def test_update_single_workflow_by_id(client: Any) -> None:
    (wf,) = client.workflows.create("version: '2.0'\nsolo:\n  tasks:\n    t: {action: std.noop}\n")
    text = "version: '2.0'\nsolo:\n  description: by id\n  tasks:\n    t: {action: std.noop}\n"
    updated = client.workflows.update(text, id=wf.id)
    assert updated.id == wf.id
    assert client.workflows.get(wf.id).definition == text


def test_public_scope(client: Any) -> None:
    (wf,) = client.workflows.create(
        "version: '2.0'\npub:\n  tasks:\n    t: {action: std.noop}\n", scope="public"
    )
    assert client.workflows.get(wf.id).scope == "public"


def test_workbooks(client: Any) -> None:
    wb = client.workbooks.create(_text("workbook.yaml"))
    assert (wb.name, wb.tags) == ("my_book", ["demo"])
    assert client.workbooks.get("my_book").definition == _text("workbook.yaml")
    assert [w.name for w in client.workbooks.list()] == ["my_book"]
    assert client.workflows.get("my_book.main").input == "name"
    text = _text("workbook.yaml").replace("  sub:\n    tasks:\n      noop:\n        action: std.noop\n", "")
    text = text.replace("        on-success: [run_sub]\n      run_sub:\n        workflow: sub\n", "")
    client.workbooks.update(text)
    assert sorted(w.name for w in client.workflows.list()) == ["my_book.main"]
    assert client.workbooks.validate(_text("workbook.yaml")) == {"valid": True}
    client.workbooks.delete("my_book")
    assert client.workbooks.list() == []


def test_actions(client: Any) -> None:
    (action,) = client.actions.create(_text("actions.yaml"), namespace="tools")
    assert client.actions.get("concat", namespace="tools").id == action.id
    names = [a.name for a in client.actions.list(limit=1000)]
    assert "std.echo" in names and "concat" in names
    client.actions.update(_text("actions.yaml").replace("Join", "Glue"), namespace="tools")
    assert client.actions.get("concat", namespace="tools").description == "Glue two strings"
    client.actions.delete("concat", namespace="tools")
    with pytest.raises(client_base.APIException):
        client.actions.get("concat", namespace="tools")


def test_environments(client: Any) -> None:
    env = client.environments.create(name="e1", description="d", variables={"a": {"b": 1}})
    assert env.variables == {"a": {"b": 1}}
    assert client.environments.get("e1").variables == {"a": {"b": 1}}
    client.environments.update(name="e1", variables={"c": 2})
    assert client.environments.get("e1").variables == {"c": 2}
    assert [e.name for e in client.environments.list()] == ["e1"]
    client.environments.delete("e1")
    assert client.environments.list() == []


def test_members_need_authentication(client: Any) -> None:
    (wf,) = client.workflows.create("version: '2.0'\nshared:\n  tasks:\n    t: {action: std.noop}\n")
    with pytest.raises(client_base.APIException) as err:
        client.members.create(wf.id, "workflow", "other-project")
    assert err.value.error_code == 400 and "authentication" in err.value.error_message
