"""The event trigger resource, field for field as Mistral v2 shows it."""

from __future__ import annotations

from typing import Self

from wsme import types as wtypes

from mistral.api.controllers.resource import Resource
from mistral.api.controllers.types import jsontype
from mistral.api.controllers.v2.resources import SAMPLE_ID, SAMPLE_TIME


class EventTrigger(Resource):
    id = wtypes.text
    name = wtypes.text
    workflow_id = wtypes.text
    workflow_input = jsontype
    workflow_params = jsontype
    exchange = wtypes.text
    topic = wtypes.text
    event = wtypes.text
    scope = wtypes.Enum(str, "private", "public")
    project_id = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            name="expiration_event_trigger",
            workflow_id="123e4567-e89b-12d3-a456-426655440001",
            workflow_input={"flavor": "m1.small"},
            workflow_params={"env": {"region": "RegionOne"}},
            exchange="nova",
            topic="notifications",
            event="compute.instance.create.end",
            scope="private",
            project_id="a7eb669e9819420ea4bd1453e672c0a7",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )
