"""Alias bombs and deep nesting in every place the API or the engine reads YAML: defused, fast.

Anchors and aliases are read as plain text (Mistral's rule), so a bomb is a few short strings;
where that text is not valid YAML (flow style) the answer names the YAML problem.
"""

from __future__ import annotations

import time

from tests.functional import runs
from tests.functional.conftest import Server
from tests.unit.utils.test_safe_yaml import BOMB, DEEP

WF = "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: {action}\n"
FLOW = (
    "[&a [lol,lol,lol,lol,lol,lol,lol,lol,lol], "
    + ", ".join(
        f"&{b} [*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a},*{a}]"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "]"
)


def _upload(api: Server, text: str) -> tuple[int, str]:
    started = time.monotonic()
    response = api.request("POST", "/workflows", data=text, headers=runs.TEXT)
    assert time.monotonic() - started < 2
    return response.status_code, response.text


def _task(api: Server, ex_id: str) -> dict:
    (task,) = api.request("GET", f"/executions/{ex_id}/tasks").json()["tasks"]
    return api.request("GET", f"/tasks/{task['id']}").json()


def _run(api: Server, state: str, **wf_input: str) -> dict:
    started = time.monotonic()
    ex_id = api.request("POST", "/executions", json={"workflow_name": "wf", "input": wf_input}).json()["id"]
    runs.wait(api, ex_id, state)
    assert time.monotonic() - started < 5
    return _task(api, ex_id)


def test_a_bomb_in_the_dsl_is_text(api: Server) -> None:
    indented = "".join(f"    {line}\n" for line in BOMB.splitlines())
    status, body = _upload(api, WF.format(action="std.echo output=<% $.i %>") + "  vars:\n" + indented)
    assert status == 201, body
    assert _run(api, "SUCCESS")["result"] == '"&i [*h,*h,*h,*h,*h,*h,*h,*h,*h]"'


def test_a_bomb_in_inline_parameters_is_text(api: Server) -> None:
    status, body = _upload(api, WF.format(action=f"std.echo output={FLOW}"))
    assert status == 201, body
    assert _run(api, "SUCCESS")["result"] == f'"{FLOW}"'


def test_a_bomb_in_a_with_items_literal_is_400(api: Server) -> None:
    text = (
        "version: '2.0'\nwf:\n  tasks:\n    t:\n      with-items: 'x in "
        + FLOW
        + "'\n      action: std.noop\n"
    )
    status, body = _upload(api, text)
    assert status == 400, body
    assert "invalid list literal" in body


def test_deep_nesting_in_a_with_items_literal_is_400(api: Server) -> None:
    text = (
        "version: '2.0'\nwf:\n  tasks:\n    t:\n      with-items: 'x in "
        + DEEP
        + "'\n      action: std.noop\n"
    )
    status, body = _upload(api, text)
    assert status == 400, body
    assert "nested deeper than 100 levels" in body


def test_yaml_parse_at_run_time(api: Server) -> None:
    definition = (
        "version: '2.0'\nwf:\n  input: [text]\n  tasks:\n    t:\n      action: std.echo\n"
        "      input:\n        output: <% yaml_parse($.text).get('i') %>\n"
    )
    assert api.request("POST", "/workflows", data=definition, headers=runs.TEXT).status_code == 201
    assert _run(api, "SUCCESS", text=BOMB)["result"] == '"&i [*h,*h,*h,*h,*h,*h,*h,*h,*h]"'
    task = _run(api, "ERROR", text=DEEP)
    assert "yaml_parse(): not valid YAML: nested deeper than 100 levels" in task["state_info"], task[
        "state_info"
    ]
