"""Preinstalled workflows (``mistral.preinstalled_workflows``) mirrored into the workflows table."""

from __future__ import annotations

import threading
from importlib import metadata
from pathlib import Path

import pytest
import sqlalchemy as sa

from mistral import context
from mistral.db import api as db_api
from mistral.services import actions as action_service
from mistral.services import definitions, system_workflows

HERE = __name__
FILES: list[Path] = []

GREET = """---
version: '2.0'
greet:
  description: Say hello.
  input:
    - name
    - greeting: Hello
  tasks:
    t:
      action: std.echo output="<% $.greeting %>, <% $.name %>"
"""


def preinstalled() -> list[Path]:
    return list(FILES)


@pytest.fixture
def files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    ep = metadata.EntryPoint("wfs", f"{HERE}:preinstalled", system_workflows.ENTRY_POINT_GROUP)
    broken = metadata.EntryPoint("broken", "no_such_package_here.wfs:get", system_workflows.ENTRY_POINT_GROUP)
    monkeypatch.setattr(system_workflows, "_entry_points", lambda: [ep, broken])
    FILES.clear()
    (tmp_path / "greet.yaml").write_text(GREET)
    FILES.append(tmp_path / "greet.yaml")
    return tmp_path


def _rows() -> dict[str, db_api.models.WorkflowDefinition]:
    with context.using(context.Context()), db_api.transaction():
        return {w.name: w for w in db_api.list_workflow_definitions()}


def test_preinstalled_workflows_are_public_system_workflows_of_the_default_project(
    files: Path, db: str
) -> None:
    assert system_workflows.sync_system_workflows() == 1
    greet = _rows()["greet"]
    assert (greet.is_system, greet.scope, greet.namespace) == (True, "public", "")
    assert greet.project_id == context.DEFAULT_PROJECT_ID
    assert greet.input == 'name, greeting="Hello"'
    assert greet.definition == GREET


def test_resync_keeps_ids_updates_changes_and_drops_uninstalled(files: Path, db: str) -> None:
    system_workflows.sync_system_workflows()
    first_id = _rows()["greet"].id
    (files / "greet.yaml").write_text(GREET.replace("Say hello.", "Say hi."))
    (files / "bye.yaml").write_text(GREET.replace("greet:", "bye:"))
    FILES.append(files / "bye.yaml")
    assert system_workflows.sync_system_workflows() == 2
    rows = _rows()
    assert rows["greet"].id == first_id
    assert "Say hi." in rows["greet"].definition
    FILES.remove(files / "bye.yaml")
    system_workflows.sync_system_workflows()
    assert set(_rows()) == {"greet"}


def test_a_bad_file_is_skipped_and_the_others_register(files: Path, db: str) -> None:
    (files / "bad.yaml").write_text("version: '2.0'\nbad:\n  tasks:\n    t:\n      on-success: nowhere\n")
    FILES.append(files / "bad.yaml")
    FILES.append(files / "missing.yaml")
    assert system_workflows.sync_system_workflows() == 1
    assert set(_rows()) == {"greet"}


def test_a_users_workflow_of_the_same_name_is_left_alone(files: Path, db: str) -> None:
    # Without authentication everyone is the default project: its own "greet" stays its own.
    with context.using(context.Context()):
        mine = definitions.create_workflows(GREET.replace("Say hello.", "Mine."))[0]
    assert system_workflows.sync_system_workflows() == 0
    greet = _rows()["greet"]
    assert (greet.id, greet.is_system) == (mine.id, False)


def test_api_processes_starting_together_sync_without_tripping_over_each_other(files: Path, db: str) -> None:
    """Several API processes (or WSGI workers) start at once on a new database: each syncs, none fails.

    NOTE: each thread has its own connection, so the race is the database's, as between processes:
    every sync read "no greet yet" and inserted it, and all but one failed on the unique name.
    """
    syncs = 6
    barrier = threading.Barrier(syncs)
    errors: list[BaseException] = []

    def sync() -> None:
        with context.using(context.Context()):
            barrier.wait()
            try:
                system_workflows.sync_system_workflows()
                action_service.sync_system_actions()
            except BaseException as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

    for _ in range(3):
        _clean_definitions()
        threads = [threading.Thread(target=sync) for _ in range(syncs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert list(_rows()) == ["greet"]


def _clean_definitions() -> None:
    with db_api.transaction() as session:
        session.execute(sa.delete(db_api.models.WorkflowDefinition))
        session.execute(sa.delete(db_api.models.ActionDefinition))
