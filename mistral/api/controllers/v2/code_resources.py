"""The code source and dynamic action resources, field for field as Mistral 23 shows them."""

from __future__ import annotations

from typing import Self

from wsme import types as wtypes

from mistral.api.controllers.resource import Resource
from mistral.api.controllers.v2.resources import SAMPLE_ID, SAMPLE_TIME

SAMPLE_PROJECT = "a7eb669e9819420ea4bd1453e672c0a7"


class CodeSource(Resource):
    id = wtypes.text
    name = wtypes.text
    namespace = wtypes.text
    content = wtypes.text
    version = int
    project_id = wtypes.text
    scope = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            name="my_actions",
            namespace="",
            content="from mistral_lib import actions\n\nclass Hello(actions.Action):\n    ...\n",
            version=1,
            project_id=SAMPLE_PROJECT,
            scope="private",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )


class DynamicAction(Resource):
    id = wtypes.text
    name = wtypes.text
    namespace = wtypes.text
    class_name = wtypes.text
    code_source_id = wtypes.text
    code_source_name = wtypes.text
    project_id = wtypes.text
    scope = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            name="hello",
            namespace="",
            class_name="Hello",
            code_source_id="123e4567-e89b-12d3-a456-426655440001",
            code_source_name="my_actions",
            project_id=SAMPLE_PROJECT,
            scope="private",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )
