"""The definitions endpoints over real HTTP: shapes, status codes and error bodies."""

from __future__ import annotations

import json
import pathlib

import pytest

from tests.functional.conftest import Server

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "definitions"
TEXT = {"Content-Type": "text/plain"}


def _text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_version_documents(server: Server) -> None:
    root = server.request("GET", "/..")
    assert root.status_code == 200
    assert root.json()["versions"][0]["links"][0]["href"] == f"{server.url}/v2"
    assert server.request("GET", "/").json() == {"uri": server.v2}


def test_workflow_create_get_list_update_delete(api: Server) -> None:
    created = api.request("POST", "/workflows", data=_text("workflows.yaml"), headers=TEXT)
    assert created.status_code == 201, created.text
    wfs = {w["name"]: w for w in created.json()["workflows"]}
    assert set(wfs) == {"wf_one", "wf_two"}
    assert wfs["wf_one"]["input"] == 'a, b="2"'
    assert wfs["wf_one"]["interface"] == {"input": ["a", {"b": 2}], "output": ["sum"]}
    assert wfs["wf_one"]["tags"] == ["one", "demo"]
    assert "wf_two" not in wfs["wf_one"]["definition"]

    got = api.request("GET", "/workflows/wf_one").json()
    assert json.loads(got["interface"]) == {"input": ["a", {"b": 2}], "output": ["sum"]}
    assert got["id"] == wfs["wf_one"]["id"]
    assert got["checksum"]
    assert api.request("GET", f"/workflows/{got['id']}").json()["name"] == "wf_one"

    listed = api.request("GET", "/workflows", params={"fields": "name,tags", "tags": "demo"}).json()
    assert [(w["name"], set(w)) for w in listed["workflows"]] == [("wf_one", {"id", "name", "tags"})]

    changed = _text("workflows.yaml").replace("The first one", "Changed")
    updated = api.request("PUT", "/workflows", data=changed, headers=TEXT)
    assert updated.status_code == 200, updated.text
    assert api.request("GET", "/workflows/wf_one").json()["id"] == got["id"]
    assert "Changed" in api.request("GET", "/workflows/wf_one").json()["definition"]

    assert api.request("DELETE", "/workflows/wf_one").status_code == 204
    assert api.request("GET", "/workflows/wf_one").status_code == 404


def test_list_paging_with_next_link(api: Server) -> None:
    for i in range(5):
        text = f"version: '2.0'\nw{i}:\n  tasks:\n    t:\n      action: std.noop\n"
        assert api.request("POST", "/workflows", data=text, headers=TEXT).status_code == 201
    names, url = [], f"{api.v2}/workflows?limit=2&sort_keys=name"
    while url:
        body = api.request("GET", url[len(api.v2) :]).json()
        names += [w["name"] for w in body["workflows"]]
        url = body.get("next")
    assert names == [f"w{i}" for i in range(5)]
    desc = api.request(
        "GET", "/workflows", params={"sort_keys": "name", "sort_dirs": "desc", "limit": 2}
    ).json()
    assert [w["name"] for w in desc["workflows"]] == ["w4", "w3"]
    gte = api.request("GET", "/workflows", params={"name": "in:w1,w3"}).json()
    assert sorted(w["name"] for w in gte["workflows"]) == ["w1", "w3"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("version: '2.0'\nwf:\n  tasks: [unclosed\n", 400, "line"),
        (
            "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n      on-sucess: t2\n",
            400,
            "on-sucess",
        ),
        (
            "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n"
            "      retry:\n        count: abc\n        delay: 1\n",
            400,
            "count",
        ),
        (
            "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n      on-success: missing\n",
            400,
            "missing",
        ),
        ("version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.echo output=<% $.a + %>\n", 400, "$.a +"),
        ("version: '3.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n", 400, "version"),
        ("", 400, "empty"),
    ],
)
def test_bad_workflow_is_refused_naming_the_problem(
    api: Server, body: str, status: int, message: str
) -> None:
    response = api.request("POST", "/workflows", data=body, headers=TEXT)
    assert response.status_code == status, response.text
    assert message in response.json()["faultstring"]
    assert api.request("GET", "/workflows").json()["workflows"] == []


def test_duplicate_workflow_is_409_and_keeps_the_first(api: Server) -> None:
    text = "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n"
    assert api.request("POST", "/workflows", data=text, headers=TEXT).status_code == 201
    again = api.request("POST", "/workflows", data=text.replace("noop", "echo output=1"), headers=TEXT)
    assert again.status_code == 409
    assert "wf" in again.json()["faultstring"]
    assert "noop" in api.request("GET", "/workflows/wf").json()["definition"]


def test_workbook_with_one_invalid_workflow_stores_nothing(api: Server) -> None:
    text = _text("workbook.yaml").replace("action: std.noop", "action: std.noop\n        on-success: nowhere")
    response = api.request("POST", "/workbooks", data=text, headers=TEXT)
    assert response.status_code == 400
    assert "nowhere" in response.json()["faultstring"]
    assert api.request("GET", "/workbooks").json()["workbooks"] == []
    assert api.request("GET", "/workflows").json()["workflows"] == []
    assert api.request("GET", "/actions", params={"is_system": "false"}).json()["actions"] == []


def test_workbook_creates_its_workflows_and_actions_and_delete_keeps_them(api: Server) -> None:
    created = api.request("POST", "/workbooks", data=_text("workbook.yaml"), headers=TEXT)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "my_book"
    names = sorted(w["name"] for w in api.request("GET", "/workflows").json()["workflows"])
    assert names == ["my_book.main", "my_book.sub"]
    assert api.request("GET", "/actions/my_book.greet").json()["input"] == "name"
    assert api.request("DELETE", "/workbooks/my_book").status_code == 204
    # As in Mistral (issue 10): the workbook goes, what it created stays.
    names = sorted(w["name"] for w in api.request("GET", "/workflows").json()["workflows"])
    assert names == ["my_book.main", "my_book.sub"]
    assert api.request("GET", "/actions/my_book.greet").status_code == 200


def test_namespaces_keep_same_names_apart(api: Server) -> None:
    text = "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n"
    for ns in ("", "team_a"):
        r = api.request("POST", "/workflows", params={"namespace": ns}, data=text, headers=TEXT)
        assert r.status_code == 201, r.text
    in_a = api.request("GET", "/workflows/wf", params={"namespace": "team_a"}).json()
    assert in_a["namespace"] == "team_a"
    assert (
        api.request("GET", "/workflows", params={"namespace": "team_a"}).json()["workflows"][0]["id"]
        == in_a["id"]
    )


def test_system_actions_are_listed_with_their_inputs(api: Server) -> None:
    # NOTE: filtered by name: with mistral-extra installed there are over 1200 system actions.
    params = {"limit": 1000, "name": "in:std.echo,std.http"}
    actions = {a["name"]: a for a in api.request("GET", "/actions", params=params).json()["actions"]}
    assert actions["std.echo"]["input"] == "output, delay=0"
    assert actions["std.http"]["input"].startswith('url, method="GET"')
    assert api.request("DELETE", "/actions/std.echo").status_code == 400


def test_ad_hoc_actions_crud(api: Server) -> None:
    created = api.request("POST", "/actions", data=_text("actions.yaml"), headers=TEXT)
    assert created.status_code == 201, created.text
    (action,) = created.json()["actions"]
    assert (action["name"], action["input"], action["is_system"]) == ("concat", 'left, right="!"', False)
    assert api.request("GET", "/actions/concat").json()["description"] == "Join two strings"
    updated = api.request("PUT", "/actions", data=_text("actions.yaml").replace("Join", "Glue"), headers=TEXT)
    assert updated.json()["actions"][0]["description"] == "Glue two strings"
    assert api.request("DELETE", "/actions/concat").status_code == 204


def test_environments_crud_with_json_string_variables(api: Server) -> None:
    body = {"name": "env1", "variables": json.dumps({"a": 1}), "scope": "private"}
    created = api.request("POST", "/environments", json=body)
    assert created.status_code == 201, created.text
    assert json.loads(created.json()["variables"]) == {"a": 1}
    assert api.request("POST", "/environments", json=body).status_code == 409
    updated = api.request("PUT", "/environments", json={"name": "env1", "variables": {"b": 2}})
    assert json.loads(updated.json()["variables"]) == {"b": 2}
    bad = api.request("POST", "/environments", json={"name": "env2", "color": "red"})
    assert bad.status_code == 400 and "color" in bad.json()["faultstring"]
    assert api.request("DELETE", "/environments/env1").status_code == 204
    assert api.request("GET", "/environments/env1").status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/workflows", {"colour": "red"}, "colour"),
        ("/workflows", {"fields": "name,nope"}, "nope"),
        ("/workflows", {"limit": "-1"}, "Limit"),
        ("/workflows", {"sort_dirs": "sideways"}, "sideways"),
        ("/workflows", {"created_at": "gte:yesterday"}, "created_at"),
    ],
)
def test_bad_list_parameters_are_400(api: Server, path: str, params: dict, message: str) -> None:
    response = api.request("GET", path, params=params)
    assert response.status_code == 400, response.text
    assert message in response.json()["faultstring"]


def test_validate_endpoints_answer_200(api: Server) -> None:
    good = api.request("POST", "/workflows/validate", data=_text("workflows.yaml"), headers=TEXT)
    assert good.json() == {"valid": True}
    bad = api.request("POST", "/workbooks/validate", data="name: x\nworkflows: 3\n", headers=TEXT)
    assert bad.status_code == 200 and bad.json()["valid"] is False and bad.json()["error"]


def test_oversized_body_is_413(api: Server) -> None:
    response = api.request("POST", "/workflows", data="#" * (1024 * 1024 + 10), headers=TEXT)
    assert response.status_code == 413
    assert "limit" in response.json()["faultstring"]
