"""The real ``mistral`` CLI against the server, as an operator would type it."""

from __future__ import annotations

import json
import pathlib
import shutil
from typing import Any

import pytest

from tests.functional.conftest import cli_json

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "definitions"

# NOTE: each CLI call costs a process start; the backends are covered by the other suites.
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def rows(result: Any) -> list[dict]:
    """A list command's rows; the client prints one blank row for an empty list."""
    return [r for r in cli_json(result) if r.get("ID") or r.get("Name")]


@pytest.fixture
def files(tmp_path: pathlib.Path) -> pathlib.Path:
    for f in FIXTURES.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def test_workflow_commands(cli: Any, files: pathlib.Path) -> None:
    created = cli_json(
        cli("workflow-create", str(files / "workflows.yaml"), "--namespace", "ns", "--public", "-f", "json")
    )
    assert sorted(w["Name"] for w in created) == ["wf_one", "wf_two"]
    assert {w["Scope"] for w in created} == {"public"}
    got = cli_json(cli("workflow-get", "wf_one", "--namespace", "ns", "-f", "json"))
    assert (got["Input"], got["Namespace"]) == ('a, b="2"', "ns")
    definition = cli("workflow-get-definition", "wf_one", "--namespace", "ns").stdout
    assert "wf_one:" in definition and "wf_two" not in definition
    listed = rows(cli("workflow-list", "-f", "json"))
    assert sorted(w["Name"] for w in listed) == ["wf_one", "wf_two"]
    assert "Valid: True" in cli("workflow-validate", str(files / "workflows.yaml"), "-f", "value").stdout or (
        cli_json(cli("workflow-validate", str(files / "workflows.yaml"), "-f", "json"))["Valid"] is True
    )
    cli("workflow-update", str(files / "workflows.yaml"), "--namespace", "ns")
    cli("workflow-delete", "wf_one", "wf_two", "--namespace", "ns")
    assert rows(cli("workflow-list", "-f", "json")) == []


def test_workflow_errors_are_reported(cli: Any, files: pathlib.Path) -> None:
    bad = files / "bad.yaml"
    bad.write_text("version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n      on-sucess: t\n")
    result = cli("workflow-create", str(bad), check=False)
    assert result.returncode != 0
    assert "on-sucess" in result.stderr + result.stdout
    invalid = cli_json(cli("workflow-validate", str(bad), "-f", "json"))
    assert invalid["Valid"] is False and "on-sucess" in invalid["Error"]
    missing = cli("workflow-get", "nope", check=False)
    assert missing.returncode != 0 and "nope" in missing.stderr + missing.stdout


def test_workbook_commands(cli: Any, files: pathlib.Path) -> None:
    created = cli_json(cli("workbook-create", str(files / "workbook.yaml"), "-f", "json"))
    assert (created["Name"], created["Namespace"]) == ("my_book", "")
    assert cli_json(cli("workbook-get", "my_book", "-f", "json"))["Tags"] == "demo"
    definition = cli("workbook-get-definition", "my_book").stdout
    assert definition.strip() == (files / "workbook.yaml").read_text().strip()
    assert [w["Name"] for w in rows(cli("workbook-list", "-f", "json"))] == ["my_book"]
    assert cli_json(cli("workbook-validate", str(files / "workbook.yaml"), "-f", "json"))["Valid"] is True
    cli("workbook-update", str(files / "workbook.yaml"))
    cli("workbook-delete", "my_book")
    assert rows(cli("workbook-list", "-f", "json")) == []


def test_action_commands(cli: Any, files: pathlib.Path) -> None:
    created = cli_json(cli("action-create", str(files / "actions.yaml"), "-f", "json"))
    assert created[0]["Name"] == "concat"
    got = cli_json(cli("action-get", "concat", "-f", "json"))
    assert (got["Input"], got["Description"]) == ('left, right="!"', "Join two strings")
    assert "base: std.echo" in cli("action-get-definition", "concat").stdout
    system = cli_json(cli("action-get", "std.http", "-f", "json"))
    assert system["Input"].startswith('url, method="GET"')
    names = [a["Name"] for a in rows(cli("action-list", "-f", "json"))]
    assert "std.echo" in names and "concat" in names
    assert cli_json(cli("action-validate", str(files / "actions.yaml"), "-f", "json"))["Valid"] is True
    cli("action-update", str(files / "actions.yaml"))
    cli("action-delete", "concat")
    assert "concat" not in [a["Name"] for a in rows(cli("action-list", "-f", "json"))]


def test_environment_commands(cli: Any, files: pathlib.Path) -> None:
    created = cli_json(cli("environment-create", str(files / "environment.yaml"), "-f", "json"))
    assert created["Name"] == "staging"
    got = cli_json(cli("environment-get", "staging", "-f", "json"))
    variables = got["Variables"]
    variables = json.loads(variables) if isinstance(variables, str) else variables
    assert variables["nested"] == {"list": [1, 2, 3]}
    updated = files / "env2.json"
    updated.write_text(json.dumps({"name": "staging", "variables": {"host": "b"}}))
    cli("environment-update", str(updated))
    assert [e["Name"] for e in rows(cli("environment-list", "-f", "json"))] == ["staging"]
    cli("environment-delete", "staging")
    assert rows(cli("environment-list", "-f", "json")) == []


def test_workbook_in_a_namespace(cli: Any, files: pathlib.Path) -> None:
    created = cli_json(
        cli("workbook-create", str(files / "workbook.yaml"), "--namespace", "team", "-f", "json")
    )
    assert (created["Name"], created["Namespace"]) == ("my_book", "team")
    assert (
        cli_json(cli("workbook-get", "my_book", "--namespace", "team", "-f", "json"))["Namespace"] == "team"
    )
    assert (
        cli_json(cli("workflow-get", "my_book.main", "--namespace", "team", "-f", "json"))["Name"]
        == "my_book.main"
    )
    cli("workbook-delete", "my_book", "--namespace", "team")
    assert rows(cli("workbook-list", "-f", "json")) == []
