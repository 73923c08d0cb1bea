"""The event engine against the database and oslo.messaging's in-memory driver, with a fake engine client."""

from __future__ import annotations

import json
from typing import Any

import oslo_messaging
import pytest

from mistral import context
from mistral.event_engine import definitions
from mistral.event_engine.engine import EventEngine, TriggerSet, load_trigger_refs
from mistral.event_engine.events import Event, TriggerRef
from mistral.services import event_triggers
from tests.unit.event_engine.conftest import FakeEngineClient

META = {"message_id": "0b6c6b0e-5d1c-4a43-9a55-2bb4a1a5f0a1", "timestamp": "2024-01-31 13:00:00.5"}


def _trigger(workflow: Any, **values: Any) -> Any:
    values = {
        "name": "on_create",
        "workflow_id": workflow.id,
        "workflow_input": {"greeting": "hello"},
        "exchange": "nova",
        "topic": "notifications",
        "event": "compute.instance.create.*",
        **values,
    }
    return event_triggers.create_event_trigger(values)


def _engine(fake_engine: FakeEngineClient, transport: Any = None, **kwargs: Any) -> EventEngine:
    return EventEngine(
        transport,
        engine_client=lambda: fake_engine,
        definitions=kwargs.pop("definitions", []),
        pool_name="test-pool",
        **kwargs,
    )


def test_trigger_set_matches_by_exchange_topic_and_glob() -> None:
    refs = [
        TriggerRef("1", "a", "nova", "notifications", "compute.*", "p"),
        TriggerRef("2", "b", "nova", "notifications", "image.*", "p"),
        TriggerRef("3", "c", "glance", "notifications", "compute.*", "p"),
    ]
    triggers = TriggerSet(refs)
    assert triggers.keys == {("nova", "notifications"), ("glance", "notifications")}
    assert [r.id for r in triggers.matching("nova", "notifications", "compute.x")] == ["1"]
    assert triggers.matching("nova", "other", "compute.x") == []


def test_load_trigger_refs_sees_every_project(workflow: Any) -> None:
    _trigger(workflow)
    with context.using(context.Context(project_id="other")):
        assert load_trigger_refs()[0].project_id == context.DEFAULT_PROJECT_ID


def test_reload_keeps_one_listener_per_exchange_and_topic(
    workflow: Any, fake_engine: Any, fake_transport: Any
) -> None:
    engine = _engine(fake_engine, fake_transport)
    engine.reload()
    assert engine.listening == set()
    first = _trigger(workflow)
    _trigger(workflow, event="compute.instance.delete.*")
    other = _trigger(workflow, exchange="glance", topic="notifications", event="image.*")
    try:
        engine.reload()
        assert engine.listening == {("nova", "notifications"), ("glance", "notifications")}
        assert engine.pool(("nova", "notifications")) == "test-pool.nova.notifications"
        event_triggers.delete_event_trigger(other.id)
        event_triggers.delete_event_trigger(first.id)
        engine.reload()
        assert engine.listening == {("nova", "notifications")}
    finally:
        engine.stop()
    assert engine.listening == set()


def test_handle_starts_the_workflow_as_the_trigger_owner(workflow: Any, fake_engine: Any) -> None:
    trigger = _trigger(workflow, workflow_params={"env": {"region": "one"}})
    engine = _engine(fake_engine)
    engine._triggers = TriggerSet(load_trigger_refs())
    event = Event(
        "nova", "notifications", "compute.instance.create.end", {"id": "i-1"}, "compute.h1", metadata=META
    )
    with context.using(context.Context(project_id="someone-else")):
        started = engine.handle(event)
    assert len(started) == 1
    (start,) = fake_engine.starts
    assert start["wf_identifier"] == workflow.id and start["wf_namespace"] == ""
    assert start["wf_input"] == {"greeting": "hello"}
    assert start["params"] == {
        "env": {"region": "one"},
        "event_params": {
            "id": "i-1",
            "event_type": "compute.instance.create.end",
            "publisher_id": "compute.h1",
            "timestamp": META["timestamp"],
        },
    }
    assert start["project_id"] == context.DEFAULT_PROJECT_ID
    assert start["wf_ex_id"] == started[0]
    assert json.loads(start["description"])["triggered_by"] == {
        "type": "event_trigger",
        "id": trigger.id,
        "name": "on_create",
    }


def test_handle_ignores_other_events_and_deleted_triggers(workflow: Any, fake_engine: Any) -> None:
    trigger = _trigger(workflow)
    engine = _engine(fake_engine)
    engine._triggers = TriggerSet(load_trigger_refs())
    assert engine.handle(Event("nova", "notifications", "compute.instance.delete.end", {})) == []
    assert engine.handle(Event("cinder", "notifications", "compute.instance.create.end", {})) == []
    event_triggers.delete_event_trigger(trigger.id)
    assert engine.handle(Event("nova", "notifications", "compute.instance.create.end", {})) == []
    assert fake_engine.starts == []


def test_a_failing_start_does_not_stop_the_other_triggers(workflow: Any, fake_engine: Any) -> None:
    _trigger(workflow)
    _trigger(workflow, event="compute.*")
    engine = _engine(fake_engine)
    engine._triggers = TriggerSet(load_trigger_refs())
    fake_engine.error = RuntimeError("engine down")
    assert engine.handle(Event("nova", "notifications", "compute.instance.create.end", {})) == []
    fake_engine.error = None
    assert len(engine.handle(Event("nova", "notifications", "compute.instance.create.end", {}))) == 2


def test_event_definitions_convert_the_payload(workflow: Any, fake_engine: Any) -> None:
    _trigger(workflow)
    found = definitions.parse([{"event_types": "compute.*", "properties": {"vm": "<% $.payload.id %>"}}])
    engine = _engine(fake_engine, definitions=found)
    engine._triggers = TriggerSet(load_trigger_refs())
    engine.handle(Event("nova", "notifications", "compute.instance.create.end", {"id": "i-9"}))
    assert fake_engine.starts[0]["params"]["event_params"]["vm"] == "i-9"
    assert "id" not in fake_engine.starts[0]["params"]["event_params"]


def test_an_event_that_cannot_be_converted_starts_nothing(workflow: Any, fake_engine: Any) -> None:
    _trigger(workflow)
    found = definitions.parse([{"event_types": "*", "properties": {"vm": "<% $.payload.a.b.c %>"}}])
    engine = _engine(fake_engine, definitions=found)
    engine._triggers = TriggerSet(load_trigger_refs())
    assert engine.handle(Event("nova", "notifications", "compute.instance.create.end", {"a": 1})) == []
    assert fake_engine.starts == []


@pytest.mark.parametrize("priority", ["info", "error"])
def test_a_notification_through_oslo_messaging_fires_the_trigger(
    workflow: Any, fake_engine: Any, fake_transport: Any, priority: str
) -> None:
    _trigger(workflow)
    engine = _engine(fake_engine, fake_transport, reload_interval=0.1)
    engine.start()
    try:
        notifier = oslo_messaging.Notifier(
            fake_transport, publisher_id="compute.host1", driver="messaging", topics=["notifications"]
        )
        getattr(notifier, priority)({"user": "u"}, "compute.instance.create.end", {"instance_id": "i-1"})
        assert fake_engine.started.wait(10), "the trigger did not fire"
    finally:
        engine.stop()
    (start,) = fake_engine.starts
    params = start["params"]["event_params"]
    assert params["instance_id"] == "i-1" and params["publisher_id"] == "compute.host1"
    assert params["timestamp"] and start["wf_ex_id"]


def test_the_reload_loop_picks_up_new_triggers(workflow: Any, fake_engine: Any, fake_transport: Any) -> None:
    engine = _engine(fake_engine, fake_transport, reload_interval=0.05)
    engine.start()
    try:
        _trigger(workflow)
        notifier = oslo_messaging.Notifier(
            fake_transport, publisher_id="compute.host1", driver="messaging", topics=["notifications"]
        )
        for _ in range(200):
            if engine.listening:
                break
            fake_engine.started.wait(0.05)
        assert engine.listening == {("nova", "notifications")}
        notifier.info({}, "compute.instance.create.end", {"instance_id": "i-2"})
        assert fake_engine.started.wait(10)
    finally:
        engine.stop()
