"""Preinstalled workflows: the ``mistral.preinstalled_workflows`` entry points, mirrored into the DB.

Each entry point is a function returning the paths of YAML workflow files
(mistral-extra's ``create_instance`` and ``delete_instance``). As in Mistral,
their workflows are public system workflows of the default project in the
default namespace: everyone may run them, nobody may change or delete them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from mistral import lang
from mistral.db import api as db_api
from mistral.exceptions import MistralError
from mistral.services import definitions

LOG = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "mistral.preinstalled_workflows"

#: Set by the sync itself: every system workflow is public, in the default namespace.
_KEYS = frozenset({"name", "namespace", "scope"})


def _entry_points() -> Iterable[metadata.EntryPoint]:
    """The installed entry points of the group; tests replace this."""
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def workflow_files() -> list[Path]:
    """The YAML files every installed entry point names; a broken one is logged and skipped."""
    files: list[Path] = []
    for ep in _entry_points():
        try:
            files.extend(Path(str(p)) for p in ep.load()())
        except Exception:  # whatever a plugin's import raises
            LOG.exception("Preinstalled workflows entry point %s = %s failed", ep.name, ep.value)
    return sorted(set(files))


def _values(path: Path) -> dict[str, dict[str, Any]]:
    """The row values of every workflow in one file; raises MistralError or OSError when unusable."""
    specs = lang.parse_workflows(path.read_text(encoding="utf-8"), validate=True).workflows
    values = {s.name: definitions.workflow_values(s, "public", "", None) for s in specs}
    return {name: {k: v for k, v in row.items() if k not in _KEYS} for name, row in values.items()}


@db_api.retry_on_transient
def sync_system_workflows() -> int:
    """Store one public system row per preinstalled workflow; return how many there are."""
    values: dict[str, dict[str, Any]] = {}
    for path in workflow_files():
        try:
            values.update(_values(path))
        except (MistralError, OSError) as exc:
            LOG.error("Skipping preinstalled workflow file %s: %s", path, exc)
    with db_api.transaction():
        skipped = db_api.sync_system_workflows(values)
    for name in skipped:
        LOG.warning("Preinstalled workflow %s not registered: a user's workflow has that name", name)
    LOG.info("Registered %d preinstalled workflows", len(values) - len(skipped))
    return len(values) - len(skipped)
