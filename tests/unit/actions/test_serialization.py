"""Actions travel to remote executors as JSON (mistral-lib's serializer), never as pickles."""

from __future__ import annotations

from typing import Any

import pytest
from mistral_lib import serialization

from mistral.actions import registry

SAMPLE_INPUTS: dict[str, dict[str, Any]] = {
    "std.noop": {},
    "std.async_noop": {},
    "std.echo": {"output": {"a": [1]}, "delay": 1},
    "std.external": {"size": 3, "url": "https://example.com/a.png"},
    "std.fail": {"error_data": "x"},
    "std.sleep": {"seconds": 2},
    "std.test_dict": {"size": 2, "key_prefix": "k", "val": 1},
    "std.http": {"url": "http://127.0.0.1/", "auth": "u:p", "headers": {"a": "b"}, "timeout": 3},
    "std.mistral_http": {"url": "http://127.0.0.1/", "json": {"a": 1}},
    "std.email": {"from_addr": "a@b", "to_addrs": "c@d, e@f", "smtp_server": "h:25"},
    "std.ssh": {"cmd": "ls", "host": ["h1", "h2"], "username": "u"},
    "std.ssh_proxied": {"cmd": "ls", "host": "h", "username": "u", "gateway_host": "g"},
    "std.javascript": {"script": "return 1", "context": {"a": 1}},
    "std.js": {"script": "return 1"},
    "std.amqp": {
        "url": "amqp://u:p@h//",
        "queue": "q",
        "body": {"a": [1]},
        "headers": {"h": 1},
        "timeout": 2,
    },
    "std.amqp_wait": {"url": "amqp://u:p@h//", "queue": "q", "correlation_id": "c", "timeout": 5},
}


def test_every_std_action_has_a_sample() -> None:
    assert set(SAMPLE_INPUTS) == set(registry.load_system_actions())


@pytest.mark.parametrize("name", sorted(SAMPLE_INPUTS))
def test_round_trip(name: str) -> None:
    action = registry.instantiate(registry.get_system_action(name), SAMPLE_INPUTS[name])
    serializer = serialization.get_polymorphic_serializer()
    copy = serializer.deserialize(serializer.serialize(action))
    assert type(copy).__name__ == type(action).__name__
    assert vars(copy) == vars(action)
    assert copy.is_sync() == action.is_sync()
