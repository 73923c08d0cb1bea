"""The cron trigger resource, field for field as Mistral v2 shows it."""

from __future__ import annotations

from typing import Self

from wsme import types as wtypes

from mistral.api.controllers.resource import Resource
from mistral.api.controllers.types import jsontype
from mistral.api.controllers.v2.resources import SAMPLE_ID, SAMPLE_TIME


class CronTrigger(Resource):
    id = wtypes.text
    name = wtypes.text
    workflow_name = wtypes.text
    workflow_id = wtypes.text
    workflow_input = jsontype
    workflow_params = jsontype
    scope = wtypes.Enum(str, "private", "public")
    pattern = wtypes.text
    remaining_executions = int
    first_execution_time = wtypes.text
    next_execution_time = wtypes.text
    project_id = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            name="nightly_backup",
            workflow_name="backup",
            workflow_id="123e4567-e89b-12d3-a456-426655440001",
            workflow_input={"volume": "data"},
            workflow_params={"env": {"region": "RegionOne"}},
            scope="private",
            pattern="0 2 * * *",
            remaining_executions=42,
            first_execution_time="1970-01-01 02:00:00",
            next_execution_time="1970-01-02 02:00:00",
            project_id="a7eb669e9819420ea4bd1453e672c0a7",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )
