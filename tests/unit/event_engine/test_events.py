"""Matching event types, building event_params and the start request: pure functions."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from mistral.event_engine import events
from mistral.event_engine.events import Event

META = {"message_id": "m-1", "timestamp": "2024-01-31 13:00:00.000001"}


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("compute.instance.create.end", "compute.instance.create.end", True),
        ("compute.instance.create.end", "compute.instance.create.start", False),
        ("compute.instance.*", "compute.instance.delete.end", True),
        ("compute.*.end", "compute.instance.create.end", True),
        ("*", "anything", True),
        ("compute.instance.create.?nd", "compute.instance.create.end", True),
        ("Compute.*", "compute.instance", False),
        ("compute.instance", "compute.instance.create", False),
    ],
)
def test_matches_is_a_case_sensitive_glob(pattern: str, event_type: str, expected: bool) -> None:
    assert events.matches(pattern, event_type) is expected


def _event(payload: object) -> Event:
    return Event(
        "nova", "notifications", "compute.instance.create.end", payload, "compute.host1", metadata=META
    )


def test_event_params_are_the_payload_plus_the_notification_facts() -> None:
    assert events.event_params(_event({"instance_id": "i-1", "event_type": "spoofed"})) == {
        "instance_id": "i-1",
        "event_type": "compute.instance.create.end",
        "publisher_id": "compute.host1",
        "timestamp": "2024-01-31 13:00:00.000001",
    }


def test_a_payload_that_is_not_an_object_travels_under_payload() -> None:
    assert events.event_params(_event(["a", "b"]))["payload"] == ["a", "b"]


def test_converted_properties_replace_the_payload() -> None:
    params = events.event_params(_event({"instance_id": "i-1"}), {"id": "i-1"})
    assert params == {
        "id": "i-1",
        "event_type": "compute.instance.create.end",
        "publisher_id": "compute.host1",
        "timestamp": "2024-01-31 13:00:00.000001",
    }


def test_start_request_merges_event_params_into_the_trigger_params() -> None:
    trigger = SimpleNamespace(
        id="t-1",
        name="on_create",
        workflow_id="wf-1",
        workflow_input={"greeting": "hi"},
        workflow_params={"env": {"a": 1}, "event_params": "overwritten"},
    )
    request = events.start_request(trigger, "ns", _event({"x": 1}), {"x": 1})
    assert request.wf_identifier == "wf-1" and request.wf_namespace == "ns"
    assert request.wf_input == {"greeting": "hi"}
    assert request.params == {"env": {"a": 1}, "event_params": {"x": 1}}
    assert json.loads(request.description) == {
        "description": "Workflow execution created by event trigger '(t-1)'.",
        "triggered_by": {"type": "event_trigger", "id": "t-1", "name": "on_create"},
    }
    assert trigger.workflow_params["event_params"] == "overwritten", "the trigger's own dict is untouched"


def test_execution_id_is_one_per_notification_and_trigger() -> None:
    first = events.execution_id("m-1", "t-1")
    assert first == events.execution_id("m-1", "t-1")
    assert first != events.execution_id("m-2", "t-1") != events.execution_id("m-1", "t-2")
    assert events.execution_id(None, "t-1") is None


def test_start_request_without_input_or_params() -> None:
    trigger = SimpleNamespace(id="t", name="", workflow_id="wf", workflow_input=None, workflow_params=None)
    request = events.start_request(trigger, "", Event("x", "y", "z", {}), {"event_type": "z"})
    assert request.wf_input == {} and request.params == {"event_params": {"event_type": "z"}}
    assert request.wf_ex_id is None
