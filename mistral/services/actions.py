"""System actions: the installed plugins mirrored into the actions table."""

from __future__ import annotations

import logging
from typing import Any

from mistral.actions import registry
from mistral.db import api as db_api

LOG = logging.getLogger(__name__)


def system_action_count() -> int:
    """How many system actions this process loaded (plugins, and generators such as mistral-extra's)."""
    return len(registry.load_system_actions())


@db_api.retry_on_transient
def sync_system_actions() -> int:
    """Store one public row per loaded system action; return how many there are."""
    descriptors = registry.load_system_actions()
    values: dict[str, dict[str, Any]] = {
        name: {
            "description": d.description,
            "input": d.input_string,
            "action_class": f"{d.action_class.__module__}:{d.action_class.__qualname__}",
            "tags": [],
            "project_id": "<default-project>",
            "definition": None,
            "spec": None,
        }
        for name, d in descriptors.items()
    }
    with db_api.transaction():
        db_api.sync_system_actions(values)
    LOG.info("Registered %d system actions", len(values))
    return len(values)
