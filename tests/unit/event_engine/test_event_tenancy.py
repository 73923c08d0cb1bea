"""With authentication on, a private event trigger hears only its own project's events (as in Mistral)."""

from __future__ import annotations

from typing import Any

import pytest

from mistral import context
from mistral.event_engine.engine import EventEngine, TriggerSet, load_trigger_refs
from mistral.event_engine.events import Event
from mistral.services import event_triggers
from tests.unit.event_engine.conftest import FakeEngineClient

OWNER = context.DEFAULT_PROJECT_ID


def _trigger(workflow: Any, name: str, scope: str, event: str) -> Any:
    return event_triggers.create_event_trigger(
        {
            "name": name,
            "workflow_id": workflow.id,
            "workflow_input": {"greeting": "hi"},
            "exchange": "nova",
            "topic": "notifications",
            "event": event,
            "scope": scope,
        }
    )


def _event(project_id: str | None) -> Event:
    ctxt = {"project_id": project_id, "auth_token": "publisher's"} if project_id else {}
    return Event("nova", "notifications", "compute.instance.create.end", {"id": "i-1"}, ctxt=ctxt)


@pytest.fixture
def engine(workflow: Any, fake_engine: FakeEngineClient) -> EventEngine:
    _trigger(workflow, "private_one", "private", "compute.instance.create.end")
    _trigger(workflow, "public_one", "public", "compute.instance.create.*")
    engine = EventEngine(None, engine_client=lambda: fake_engine, definitions=[], pool_name="test-pool")
    engine._triggers = TriggerSet(load_trigger_refs())
    return engine


def _fired(fake_engine: FakeEngineClient) -> list[str]:
    return sorted(start["description"].split('"name": "')[1].split('"')[0] for start in fake_engine.starts)


@pytest.mark.parametrize(
    ("auth", "project", "fired"),
    [
        (True, OWNER, ["private_one", "public_one"]),
        (True, "another-project", ["public_one"]),
        (True, None, ["public_one"]),
        (False, "another-project", ["private_one", "public_one"]),
    ],
)
def test_which_triggers_an_event_fires(
    engine: EventEngine,
    fake_engine: FakeEngineClient,
    override_conf: Any,
    auth: bool,
    project: Any,
    fired: Any,
) -> None:
    override_conf("pecan", "auth_enable", auth)
    engine.handle(_event(project))
    assert _fired(fake_engine) == fired
    # Whoever published the event, the workflow runs as the trigger's owner.
    assert {start["project_id"] for start in fake_engine.starts} == {OWNER}
