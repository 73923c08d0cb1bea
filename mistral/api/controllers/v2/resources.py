"""The v2 definition resources, field for field as Mistral v2 shows them."""

from __future__ import annotations

from typing import Self

from wsme import types as wtypes

from mistral.api.controllers.resource import Resource
from mistral.api.controllers.types import jsontype

SAMPLE_ID = "123e4567-e89b-12d3-a456-426655440000"
SAMPLE_TIME = "1970-01-01 00:00:00"


class Workbook(Resource):
    id = wtypes.text
    name = wtypes.text
    namespace = wtypes.text
    definition = wtypes.text
    tags = [wtypes.text]
    scope = wtypes.text
    project_id = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            name="book",
            namespace="",
            definition="version: '2.0'\nname: book\nworkflows: {}\n",
            tags=["large"],
            scope="private",
            project_id="a7eb669e9819420ea4bd1453e672c0a7",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )


class Workflow(Resource):
    id = wtypes.text
    name = wtypes.text
    namespace = wtypes.text
    input = wtypes.text
    interface = jsontype
    definition = wtypes.text
    checksum = wtypes.text
    tags = [wtypes.text]
    scope = wtypes.text
    project_id = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text
    #: not in Mistral: the number of its current definition (``/v2/workflows/{id}/versions``)
    version = int

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            name="flow",
            namespace="",
            input='param1, param2="2"',
            interface={"input": ["param1", {"param2": 2}], "output": []},
            definition="version: '2.0'\n\nflow:\n  tasks:\n    hello:\n      action: std.noop\n",
            checksum="a3f8b8e6a2b4c5d6e7f8091a2b3c4d5e",
            tags=["large", "expensive"],
            scope="private",
            project_id="a7eb669e9819420ea4bd1453e672c0a7",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
            version=2,
        )


class WorkflowVersion(Resource):
    """One definition of a workflow, its current one or a previous one (not in Mistral)."""

    workflow_id = wtypes.text
    workflow_name = wtypes.text
    namespace = wtypes.text
    version = int
    #: whether this is the workflow's definition now
    current = bool
    definition = wtypes.text
    checksum = wtypes.text
    project_id = wtypes.text
    #: when this definition became the workflow's
    created_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            workflow_id=SAMPLE_ID,
            workflow_name="flow",
            namespace="",
            version=1,
            current=False,
            definition="version: '2.0'\n\nflow:\n  tasks:\n    hello:\n      action: std.noop\n",
            checksum="a3f8b8e6a2b4c5d6e7f8091a2b3c4d5e",
            project_id="a7eb669e9819420ea4bd1453e672c0a7",
            created_at=SAMPLE_TIME,
        )


class Action(Resource):
    id = wtypes.text
    name = wtypes.text
    is_system = bool
    input = wtypes.text
    description = wtypes.text
    tags = [wtypes.text]
    definition = wtypes.text
    scope = wtypes.text
    project_id = wtypes.text
    namespace = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            name="greeting",
            is_system=False,
            input="name",
            description="Say hello",
            tags=["hello"],
            definition="version: '2.0'\ngreeting:\n  base: std.echo output=\"Hello, <% $.name %>\"\n",
            scope="private",
            project_id="a7eb669e9819420ea4bd1453e672c0a7",
            namespace="",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )


class Environment(Resource):
    id = wtypes.text
    name = wtypes.text
    description = wtypes.text
    variables = jsontype
    scope = wtypes.Enum(str, "private", "public")
    project_id = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            name="sample",
            description="example environment entry",
            variables={"server": "localhost", "database": "temp", "timeout": 600, "verbose": True},
            scope="private",
            project_id="a7eb669e9819420ea4bd1453e672c0a7",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )


class Member(Resource):
    id = wtypes.text
    resource_id = wtypes.text
    resource_type = wtypes.text
    project_id = wtypes.text
    member_id = wtypes.text
    status = wtypes.Enum(str, "pending", "accepted", "rejected")
    created_at = wtypes.text
    updated_at = wtypes.text

    @classmethod
    def sample(cls) -> Self:
        return cls(
            id=SAMPLE_ID,
            resource_id=SAMPLE_ID,
            resource_type="workflow",
            project_id="40a908dbddfe48ad80a87fb30fa70a03",
            member_id="a7eb669e9819420ea4bd1453e672c0a7",
            status="accepted",
            created_at=SAMPLE_TIME,
            updated_at=SAMPLE_TIME,
        )
