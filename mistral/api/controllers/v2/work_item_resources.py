"""The work item resource and the bodies of its requests.

Unlike Mistral's resources, ``input`` is a JSON object, not JSON text: no Mistral client
reads work items, and a worker passes the input on as it is.
"""

from __future__ import annotations

from typing import Any, Self

from wsme import types as wtypes

from mistral.api import contract
from mistral.api.controllers.resource import Resource, format_time
from mistral.api.controllers.v2.resources import SAMPLE_ID, SAMPLE_TIME


class WorkItem(Resource):
    id = wtypes.text
    action_execution_id = wtypes.text
    workflow_execution_id = wtypes.text
    task_name = wtypes.text
    queue = wtypes.text
    tags = [wtypes.text]
    input = wtypes.DictType(wtypes.text, wtypes.text)
    state = wtypes.text
    attempt = int
    max_attempts = int
    lease_expires_at = wtypes.text
    worker = wtypes.text
    project_id = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            action_execution_id=SAMPLE_ID,
            workflow_execution_id=SAMPLE_ID,
            task_name="resize",
            queue="images",
            tags=["gpu"],
            input={"url": "https://example.com/cat.png"},
            state="claimed",
            attempt=1,
            max_attempts=3,
            lease_expires_at=SAMPLE_TIME,
            worker="worker-1",
            project_id="a7eb669e9819420ea4bd1453e672c0a7",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )


class ClaimRequest(Resource):
    queue = wtypes.text
    tags = [wtypes.text]
    max = int
    lease = float
    wait = float
    worker = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(queue="images", tags=["gpu"], max=10, lease=30.0, wait=20.0, worker="worker-1")


class LeaseRequest(Resource):
    lease = float

    @classmethod
    def sample(cls) -> Self:
        return cls(lease=30.0)


FILTERS = ("queue", "state", "task_name", "workflow_execution_id", "action_execution_id", "worker",
           "created_at", "updated_at")  # fmt: skip
QUERY = contract.list_query(FILTERS)


def render(item: Any, *, fields: list[str] | None = None, with_token: bool = False) -> dict[str, Any]:
    """The item (a model, or a claim's row of its columns) as JSON; ``with_token`` (only for its
    claimer) adds the claim's ``lease_token``."""
    names = fields or WorkItem.field_names()
    body = {name: format_time(getattr(item, name, None)) for name in names}
    if with_token:
        body["lease_token"] = item.lease_token
    return body
