"""A list without ``limit`` answers one page of ``[api] max_limit`` items and a ``next`` link, as Mistral."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import Override
from tests.functional import runs
from tests.functional.conftest import Server, cli_json

WFS = "version: '2.0'\n" + "".join(f"wf{i}:\n  tasks:\n    t:\n      action: std.noop\n" for i in range(3))
BOOK = "version: '2.0'\nname: book{i}\nworkflows:\n  w:\n    tasks:\n      t:\n        action: std.noop\n"


@pytest.fixture
def rows(api: Server) -> Server:
    """Three rows behind every list endpoint tested here."""
    assert api.request("POST", "/workflows", data=WFS, headers=runs.TEXT).status_code == 201
    for i in range(3):
        book = api.request("POST", "/workbooks", data=BOOK.format(i=i), headers=runs.TEXT)
        assert book.status_code == 201, book.text
        env = api.request("POST", "/environments", json={"name": f"env{i}", "variables": {}})
        assert env.status_code == 201, env.text
        ex_id = api.request("POST", "/executions", json={"workflow_name": f"wf{i}"}).json()["id"]
        runs.wait(api, ex_id, "SUCCESS")
    return api


@pytest.mark.parametrize(
    "plural",
    ["workflows", "executions", "tasks", "action_executions", "workbooks", "environments"],
)
def test_a_list_without_limit_is_one_page(rows: Server, override_conf: Override, plural: str) -> None:
    override_conf("api", "max_limit", 2)
    first = rows.request("GET", f"/{plural}").json()
    assert len(first[plural]) == 2
    assert "limit=2" in first["next"]
    seen = [item["id"] for item in first[plural]]
    url = first["next"]
    while url:
        page = requests.get(url, timeout=30).json()
        seen += [item["id"] for item in page[plural]]
        url = page.get("next")
    assert len(seen) == len(set(seen)) >= 3


ADHOC = "version: '2.0'\n" + "".join(f"adhoc{i}:\n  base: std.noop\n" for i in range(3))


def test_the_actions_list_holds_every_system_action_and_at_most_max_limit_others(
    api: Server, override_conf: Override
) -> None:
    """As in Mistral, one page holds every system action (mistral-extra alone brings some 1200)."""
    assert api.request("POST", "/actions", data=ADHOC, headers=runs.TEXT).status_code == 201
    override_conf("api", "max_limit", 4)
    whole = api.request("GET", "/actions").json()
    assert "next" not in whole
    assert len([a for a in whole["actions"] if not a["is_system"]]) == 3
    system = sum(a["is_system"] for a in whole["actions"])
    assert system > 4
    override_conf("api", "max_limit", 1)
    first = api.request("GET", "/actions").json()
    assert len(first["actions"]) >= system + 1 and first["next"]
    seen = [a["id"] for a in first["actions"]]
    url = first["next"]
    while url:
        page = requests.get(url, timeout=30).json()
        seen += [a["id"] for a in page["actions"]]
        url = page.get("next")
    assert len(seen) == len(set(seen)) == system + 3
    assert len(api.request("GET", "/actions?limit=1").json()["actions"]) == 1


def test_the_client_and_the_cli_list_one_page(
    rows: Server, client: Any, cli: Any, override_conf: Override
) -> None:
    override_conf("api", "max_limit", 2)
    assert len(client.workflows.list()) == 2
    assert len(client.executions.list()) == 2
    assert len(client.executions.list(limit=1)) == 1
    for command in ("workflow-list", "execution-list", "task-list", "action-execution-list", "workbook-list"):
        assert len(cli_json(cli(command, "-f", "json"))) == 2, command
    assert len(cli_json(cli("execution-list", "--limit", "1", "-f", "json"))) == 1
