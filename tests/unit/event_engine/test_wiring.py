"""How the event engine is reached: ``--server`` names and the API resource's JSON shape."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import wsme.rest.json

from mistral import config, launcher
from mistral.api.controllers.v2.event_trigger_resources import EventTrigger


@pytest.fixture
def rabbit_transport() -> Iterator[None]:
    config.CONF.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:5672/")
    yield
    config.CONF.clear_override("transport_url")


def test_all_includes_the_event_engine() -> None:
    assert launcher.resolve(["all"]) == ["api", "engine", "executor", "event-engine", "notifier"]


def test_in_process_transport_needs_api_engine_and_executor_together() -> None:
    assert launcher.resolve(["api", "engine", "executor"]) == ["api", "engine", "executor"]
    with pytest.raises(ValueError, match="in-process"):
        launcher.resolve(["event-engine"])


def test_a_broker_lets_the_event_engine_run_alone(rabbit_transport: None) -> None:
    assert launcher.resolve(["event-engine"]) == ["event-engine"]


def test_resource_sample_round_trip() -> None:
    rendered = EventTrigger.sample().to_json()
    assert json.loads(rendered["workflow_input"]) == {"flavor": "m1.small"}
    assert json.loads(rendered["workflow_params"]) == {"env": {"region": "RegionOne"}}
    assert wsme.rest.json.fromjson(EventTrigger, rendered).to_json() == rendered
