"""The event definitions file: shape checks, first match wins, properties over the event."""

from __future__ import annotations

from pathlib import Path

import pytest

from mistral.event_engine import definitions
from mistral.event_engine.events import Event
from mistral.exceptions import ExpressionError, InputError

DEFINITIONS = """
- event_types: [compute.instance.create.*]
  properties:
    instance: <% $.payload.instance_id %>
    project: "{{ _.context.project_id }}"
    kind: <% $.event_type %>
- event_types: compute.*
  properties:
    any: true
"""


def _event(event_type: str = "compute.instance.create.end") -> Event:
    return Event(
        "nova",
        "notifications",
        event_type,
        {"instance_id": "i-1"},
        "compute.host1",
        ctxt={"project_id": "p-1", "auth_token": "secret"},
    )


def test_load_and_convert(tmp_path: Path) -> None:
    path = tmp_path / "event_definitions.yaml"
    path.write_text(DEFINITIONS)
    found = definitions.load(str(path))
    first = definitions.find(found, "compute.instance.create.end")
    assert first is not None
    assert first.convert(_event()) == {
        "instance": "i-1",
        "project": "p-1",
        "kind": "compute.instance.create.end",
    }
    second = definitions.find(found, "compute.volume.attach")
    assert second is not None and second.convert(_event("compute.volume.attach")) == {"any": True}
    assert definitions.find(found, "image.upload") is None


def test_a_missing_file_means_no_definitions(tmp_path: Path) -> None:
    assert definitions.load(str(tmp_path / "absent.yaml")) == []
    assert definitions.load(None) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"event_types": ["x"]}, "list of definitions"),
        ([{"event_types": ["x"], "other": 1}], "only 'event_types' and 'properties'"),
        ([{"properties": {}}], "event_types"),
        ([{"event_types": [1]}], "event_types"),
        ([{"event_types": "x", "properties": ["a"]}], "'properties' must be a mapping"),
        ([{"event_types": "x", "properties": {"a": "<% $.( %>"}}], "Invalid YAQL"),
    ],
)
def test_bad_definitions_are_refused(data: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        definitions.parse(data)


def test_a_failing_expression_raises_expression_error() -> None:
    (definition,) = definitions.parse([{"event_types": "*", "properties": {"a": "<% $.payload.x.y.z %>"}}])
    with pytest.raises(ExpressionError):
        definition.convert(Event("e", "t", "x", {"x": 1}))
