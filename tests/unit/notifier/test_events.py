"""Which state change makes which event, and what a ``notify`` value may hold."""

from __future__ import annotations

import datetime
import types

import pytest

from mistral.exceptions import InputError
from mistral.notifier import events
from mistral.workflow import states

NOW = datetime.datetime(2026, 11, 29, 15, 0, 0)


@pytest.mark.parametrize(
    ("old", "new", "event"),
    [
        (None, states.RUNNING, events.WORKFLOW_LAUNCHED),
        (states.PAUSED, states.RUNNING, events.WORKFLOW_RESUMED),
        (states.ERROR, states.RUNNING, events.WORKFLOW_RERUN),
        (states.CANCELLED, states.RUNNING, events.WORKFLOW_RERUN),
        (states.SUCCESS, states.RUNNING, events.WORKFLOW_RERUN),
        (states.RUNNING, states.SUCCESS, events.WORKFLOW_SUCCEEDED),
        (states.RUNNING, states.ERROR, events.WORKFLOW_FAILED),
        (states.PAUSED, states.CANCELLED, events.WORKFLOW_CANCELLED),
        (states.RUNNING, states.PAUSED, events.WORKFLOW_PAUSED),
        (states.RUNNING, states.RUNNING, None),
    ],
)
def test_workflow_events(old: str | None, new: str, event: str | None) -> None:
    assert events.workflow_event(old, new) == event


@pytest.mark.parametrize(
    ("old", "new", "event"),
    [
        (None, states.RUNNING, events.TASK_LAUNCHED),
        (states.RUNNING_DELAYED, states.RUNNING, events.TASK_LAUNCHED),
        (states.IDLE, states.RUNNING, events.TASK_RESUMED),
        (states.WAITING, states.RUNNING, events.TASK_RESUMED),
        (states.PAUSED, states.RUNNING, events.TASK_RESUMED),
        (states.ERROR, states.RUNNING, events.TASK_RERUN),
        (states.SUCCESS, states.RUNNING, events.TASK_RERUN),
        (states.RUNNING, states.SUCCESS, events.TASK_SUCCEEDED),
        (states.RUNNING, states.ERROR, events.TASK_FAILED),
        (states.RUNNING, states.CANCELLED, events.TASK_CANCELLED),
        (states.RUNNING, states.PAUSED, events.TASK_PAUSED),
        (states.ERROR, states.SKIPPED, events.TASK_SKIPPED),
        # bookkeeping states make no event, as in Mistral
        (None, states.WAITING, None),
        (states.RUNNING, states.RUNNING_DELAYED, None),
        (states.RUNNING, states.IDLE, None),
    ],
)
def test_task_events(old: str | None, new: str, event: str | None) -> None:
    assert events.task_event(old, new) == event


def test_every_event_name_is_known() -> None:
    assert len(events.EVENTS) == 15
    assert events.WORKFLOW_EVENTS.isdisjoint(events.TASK_EVENTS)


def test_workflow_payload_has_mistral_fields_and_the_event() -> None:
    wf_ex = types.SimpleNamespace(
        id="wf-1", workflow_name="wf", workflow_namespace="", workflow_id="def-1", root_execution_id=None,
        state="RUNNING", state_info=None, project_id="p", task_execution_id=None, created_at=NOW,
    )  # fmt: skip
    payload = events.workflow_payload(wf_ex, events.WORKFLOW_LAUNCHED, NOW)
    assert payload == {
        "id": "wf-1",
        "name": "wf",
        "workflow_name": "wf",
        "workflow_namespace": "",
        "workflow_id": "def-1",
        "root_execution_id": None,
        "state": "RUNNING",
        "state_info": None,
        "project_id": "p",
        "task_execution_id": None,
        "created_at": "2026-11-29 15:00:00",
        "updated_at": "2026-11-29 15:00:00",
        "event": "WORKFLOW_LAUNCHED",
    }


def test_publisher_filter() -> None:
    assert events.wants({"type": "noop"}, events.TASK_FAILED)
    assert events.wants({"type": "noop", "event_types": []}, events.TASK_FAILED)
    assert not events.wants({"type": "noop", "event_types": ["WORKFLOW_FAILED"]}, events.TASK_FAILED)


def test_the_configured_publishers_take_mistrals_comma_separated_objects() -> None:
    assert events.parse_configured('{"type": "noop"}, {"type": "webhook", "url": "http://h"}') == [
        {"type": "noop"},
        {"type": "webhook", "url": "http://h"},
    ]
    assert events.parse_configured('[{"type": "noop"}]') == [{"type": "noop"}]
    assert events.parse_configured("") == []
    with pytest.raises(InputError, match=r"\[notifier\] notify\[0\].url"):
        events.parse_configured('{"type": "webhook"}')


def test_publishers_parse_from_json_text_and_a_single_object() -> None:
    hook = {"type": "webhook", "url": "http://h/x", "headers": {"A": "b"}, "event_types": ["TASK_FAILED"]}
    assert events.parse_publishers([hook]) == [hook]
    assert events.parse_publishers('[{"type": "noop"}]') == [{"type": "noop"}]
    assert events.parse_publishers('{"type": "noop"}') == [{"type": "noop"}]
    assert events.parse_publishers("") == []
    assert events.parse_publishers(None) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[{", "not valid JSON"),
        (42, "must be a list of publishers"),
        (["noop"], r"notify\[0\]' must be an object"),
        ([{"url": "http://h"}], r"notify\[0\].type' must be one of webhook, noop"),
        ([{"type": "email"}], "got 'email'"),
        ([{"type": "webhook"}], r"notify\[0\].url' must be an http"),
        ([{"type": "webhook", "url": "ftp://h"}], "must be an http"),
        ([{"type": "webhook", "url": "http://h", "headers": ["x"]}], "headers' must be an object"),
        ([{"type": "webhook", "url": "http://h", "headers": {"X": 1}}], "headers' must be an object"),
        ([{"type": "noop", "event_types": "TASK_FAILED"}], "must be a list of event names"),
        ([{"type": "noop"}, {"type": "noop", "event_types": ["TASK_BOOM"]}], r"notify\[1\].*TASK_BOOM"),
    ],
)
def test_bad_publishers_name_the_problem(value: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        events.parse_publishers(value)
