"""Dynamic actions as the engine sees them: which class of which code source, never running it.

``find`` resolves an action name to a dynamic action definition as the execution's
owner sees it; ``payload`` adds the code source's current text to what an action
request carries, so the executor (which has no database) can run it in a child.
"""

from __future__ import annotations

from typing import Any

from mistral import context
from mistral.db import api as db_api


def find(owner: context.Context, name: str, namespace: str) -> dict[str, Any] | None:
    """What runs the dynamic action ``name`` (its namespace first, then the default one), or None."""
    with context.using(owner):
        for ns in dict.fromkeys([namespace, ""]):
            found = db_api.load_dynamic_action_definition(name, ns)
            if found is not None:
                return {
                    "name": found.name,
                    "class_name": found.class_name,
                    "code_source": found.code_source_name,
                    "code_source_id": found.code_source_id,
                }
    return None


def payload(dynamic: dict[str, Any]) -> dict[str, Any]:
    """``dynamic`` with the code source's current ``content`` and ``version`` (None once deleted)."""
    # NOTE: by id and unscoped: the dynamic action the owner may use names this code source, and
    # a public dynamic action may run code the owner cannot read through the API.
    with context.using(context.current().with_(is_internal=True)):
        source = db_api.load_code_source_by_id(dynamic["code_source_id"])
    if source is None:
        return {**dynamic, "content": None, "version": None}
    return {**dynamic, "code_source": source.name, "content": source.content, "version": source.version}
