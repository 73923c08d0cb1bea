"""Who the engine acts as for an execution: its owner, never an all-seeing context (architecture rule 8).

An execution keeps its owner's project in ``project_id`` and the rest of the
starter's identity (user, roles, trust) in ``runtime_context``; sub-workflows
inherit both from their parent. Never the user's own token there: only an
execution started through a Keystone trust (by a cron or event trigger) keeps a
token in it, the trust-scoped one the service made, and the engine renews it
before it goes to an action (``mistral.services.trusts``). The starter's token
and service catalog, which OpenStack actions run with, are kept beside it
(``runtime_context["credentials"]``), not in it.
"""

from __future__ import annotations

from typing import Any

from mistral import context
from mistral.db import models

#: The key of a workflow execution's ``runtime_context`` that keeps its owner's identity.
KEY = "owner"
#: The key that keeps what its actions call OpenStack with (``Context.credentials()``: token,
#: service catalog, region). The API never shows a workflow or action execution's runtime_context.
CREDENTIALS_KEY = "credentials"


def record_of(wf_ex: models.WorkflowExecution) -> dict[str, Any]:
    return dict((wf_ex.runtime_context or {}).get(KEY) or {})


def credentials_of(wf_ex: models.WorkflowExecution) -> dict[str, Any]:
    return dict((wf_ex.runtime_context or {}).get(CREDENTIALS_KEY) or {})


def of(wf_ex: models.WorkflowExecution) -> context.Context:
    """The context the engine uses for ``wf_ex``'s lookups and for its actions on executors."""
    return context.owner(wf_ex.project_id, record_of(wf_ex))
