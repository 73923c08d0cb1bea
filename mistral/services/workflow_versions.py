"""Definition history: every update that changes a workflow keeps the definition it replaces.

A workflow's current definition is its row (``version`` says its number); the ones it replaced
are ``WorkflowVersion`` rows. An execution records the number it runs and may ask for an older one
(``params.workflow_version``, see doc/test_runs.rst). System workflows have no history: the
service itself replaces them at start.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from mistral import config
from mistral.db import api as db_api
from mistral.db import models
from mistral.exceptions import InputError, NotFoundError

#: The execution param that asks for a version of the workflow's definition.
PARAM = "workflow_version"


@dataclass(frozen=True)
class Version:
    """One definition of a workflow: its current one or a kept previous one."""

    workflow: models.WorkflowDefinition
    number: int
    definition: str | None
    spec: Any
    checksum: str | None
    #: when this definition became the workflow's
    created_at: datetime.datetime | None
    current: bool


def replace(existing: models.WorkflowDefinition, values: dict[str, Any]) -> models.WorkflowDefinition:
    """Update a workflow; when its definition changes, the replaced one is kept as a version."""
    wf_def = db_api.lock_workflow_definition(existing.id)
    if values.get("checksum") is None or values["checksum"] == wf_def.checksum:
        return db_api.update_workflow_definition(wf_def.id, values, None)
    db_api.add_workflow_version(
        {
            "workflow_id": wf_def.id,
            "version": wf_def.version,
            "project_id": wf_def.project_id,
            "definition": wf_def.definition,
            "spec": wf_def.spec,
            "checksum": wf_def.checksum,
            "created_at": wf_def.updated_at or wf_def.created_at,
        }
    )
    new_number = wf_def.version + 1
    kept = config.CONF.api.max_workflow_versions
    if kept:
        db_api.delete_workflow_versions_before(wf_def.id, new_number - kept)
    return db_api.update_workflow_definition(wf_def.id, {**values, "version": new_number}, None)


def _current(wf_def: models.WorkflowDefinition) -> Version:
    return Version(
        wf_def, wf_def.version, wf_def.definition, wf_def.spec, wf_def.checksum,
        wf_def.updated_at or wf_def.created_at, True,
    )  # fmt: skip


def _kept(wf_def: models.WorkflowDefinition, row: models.WorkflowVersion) -> Version:
    return Version(wf_def, row.version, row.definition, row.spec, row.checksum, row.created_at, False)


def versions_of(wf_def: models.WorkflowDefinition) -> list[Version]:
    """Its current definition and the kept previous ones, newest first."""
    return [_current(wf_def), *(_kept(wf_def, row) for row in db_api.find_workflow_versions(wf_def.id))]


def version_of(wf_def: models.WorkflowDefinition, number: Any) -> Version:
    """Definition ``number`` of the workflow: a 400 for a number that is none, a 404 for one not kept."""
    number = checked_number(number)
    if number == wf_def.version:
        return _current(wf_def)
    row = db_api.load_workflow_version(wf_def.id, number) if 0 < number < wf_def.version else None
    if row is None:
        raise NotFoundError(
            "Workflow version",
            f"{wf_def.name} version {number} (its current version is {wf_def.version}; "
            "[api] max_workflow_versions says how many previous ones are kept)",
        )
    return _kept(wf_def, row)


def checked_number(number: Any) -> int:
    """A version number as given in a path or in params: a whole number from 1."""
    if isinstance(number, bool):
        raise InputError(f"'{PARAM}' must be a whole number from 1, got {number!r}")
    try:
        value = int(number)
    except (TypeError, ValueError) as error:
        raise InputError(f"'{PARAM}' must be a whole number from 1, got {number!r}") from error
    if value < 1 or (isinstance(number, float) and number != value):
        raise InputError(f"'{PARAM}' must be a whole number from 1, got {number!r}")
    return value
