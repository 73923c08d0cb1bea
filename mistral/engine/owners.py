"""Who the engine acts as for an execution: its owner, never an all-seeing context (DESIGN rule 8).

An execution keeps its owner's project in ``project_id`` and the rest of the
starter's identity (user, roles, trust) in ``runtime_context``; sub-workflows
inherit both from their parent. Never the user's own token: only an execution
started through a Keystone trust (by a cron or event trigger) keeps a token, the
trust-scoped one the service made, and the engine renews it before it goes to
an action (``mistral.services.trusts``).
"""

from __future__ import annotations

from typing import Any

from mistral import context
from mistral.db import models

#: The key of a workflow execution's ``runtime_context`` that keeps its owner's identity.
KEY = "owner"


def record_of(wf_ex: models.WorkflowExecution) -> dict[str, Any]:
    return dict((wf_ex.runtime_context or {}).get(KEY) or {})


def of(wf_ex: models.WorkflowExecution) -> context.Context:
    """The context the engine uses for ``wf_ex``'s lookups and for its actions on executors."""
    return context.owner(wf_ex.project_id, record_of(wf_ex))
