from __future__ import annotations

import logging
from importlib import metadata

import pytest
from mistral_lib import actions

from mistral import exceptions
from mistral.actions import registry, std
from mistral.config import CONF
from mistral.utils.inputs import Param

GROUP = "legacy_action_provider"

STD_INPUTS = {
    "std.noop": "",
    "std.async_noop": "",
    "std.echo": "output, delay=0",
    "std.external": "**input",
    "std.fail": "error_data=null",
    "std.sleep": "seconds=1",
    "std.test_dict": 'size=0, key_prefix="", val=""',
    "std.http": 'url, method="GET", params=null, body=null, json=null, headers=null, cookies=null, '
    "auth=null, timeout=null, allow_redirects=null, proxies=null, verify=null",
    "std.mistral_http": 'url, method="GET", params=null, body=null, json=null, headers=null, cookies=null, '
    "auth=null, timeout=null, allow_redirects=null, proxies=null, verify=null",
    "std.email": "from_addr, to_addrs, smtp_server, reply_to=null, cc_addrs=null, bcc_addrs=null, "
    "smtp_password=null, subject=null, body=null, html_body=null",
    "std.ssh": 'cmd, host, username, password="", private_key_filename=null, private_key=null, '
    "return_result_on_error=false",
    "std.ssh_proxied": "cmd, host, username, private_key_filename=null, gateway_host=null, "
    "gateway_username=null, password=null, proxy_command=null, private_key=null",
    "std.javascript": "script, context=null",
    "std.js": "script, context=null",
    "std.amqp": 'url, queue=null, exchange="", routing_key=null, body=null, headers=null, '
    'correlation_id=null, reply_to=null, content_type="application/json", exchange_type="direct", '
    "declare=true, durable=true, persistent=true, timeout=null",
    "std.amqp_wait": "url, queue, correlation_id, timeout=60, declare=true, durable=true, poll_interval=0.2, "
    "connect_timeout=null",
}


class GreetAction(actions.Action):
    """Greet someone by name."""

    def __init__(self, name: str, greeting: str = "Hello", **extra: object) -> None:
        self.name, self.greeting = name, greeting

    def run(self, context: object) -> str:
        return f"{self.greeting}, {self.name}"


class NotAnAction:
    """Has a run method but is no Action subclass."""

    def run(self, context: object) -> None:
        return None


class NoRunAction(actions.Action):
    """Forgets to implement run."""


class StatefulSyncAction(actions.Action):
    """Its is_sync depends on its input."""

    def __init__(self, wait: bool = False) -> None:
        self.wait = wait

    def is_sync(self) -> bool:
        return not self.wait

    def run(self, context: object) -> None:
        return None


def _ep(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=registry.ENTRY_POINT_GROUP)


HERE = __name__


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> list[metadata.EntryPoint]:
    """The installed entry points plus a few third-party ones, good and broken; append to add more."""
    eps = list(registry._entry_points()) + [
        _ep("acme.greet", f"{HERE}:GreetAction"),
        _ep("acme.missing_module", "acme_plugins_that_do_not_exist.mod:Thing"),
        _ep("acme.not_action", f"{HERE}:NotAnAction"),
        _ep("acme.no_run", f"{HERE}:NoRunAction"),
        _ep("acme.missing_attr", f"{HERE}:NoSuchClass"),
        _ep("acme.stateful", f"{HERE}:StatefulSyncAction"),
    ]
    monkeypatch.setattr(registry, "_entry_points", lambda: eps)
    return eps


def test_all_std_actions_load_with_their_inputs() -> None:
    loaded = registry.load_system_actions()
    assert {name: d.input_string for name, d in loaded.items() if name.startswith("std.")} == STD_INPUTS


def test_std_descriptor_fields() -> None:
    echo = registry.get_system_action("std.echo")
    assert echo is not None
    assert echo.action_class is std.EchoAction
    assert echo.params == [Param("output"), Param("delay", 0)]
    assert echo.description == "Return the given output after an optional delay in seconds."
    assert echo.is_sync is True


@pytest.mark.parametrize("name", ["std.async_noop", "std.mistral_http", "std.amqp_wait"])
def test_async_actions_are_not_sync(name: str) -> None:
    assert registry.get_system_action(name).is_sync is False


def test_every_std_action_has_a_description() -> None:
    for name, descriptor in registry.load_system_actions().items():
        assert descriptor.description, name
        assert "\n" not in descriptor.description


def test_unknown_action_is_none() -> None:
    assert registry.get_system_action("std.nope") is None


def test_third_party_plugin_is_loaded(plugins: list) -> None:
    greet = registry.get_system_action("acme.greet")
    assert greet is not None
    assert greet.input_string == 'name, greeting="Hello", **extra'
    assert greet.description == "Greet someone by name."
    assert registry.instantiate(greet, {"name": "Ann"}).run(None) == "Hello, Ann"


def test_broken_plugins_are_logged_and_skipped(plugins: list, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger=registry.__name__):
        loaded = registry.load_system_actions()
    # The good ones, built-in and third-party, are all there.
    assert set(STD_INPUTS) | {"acme.greet", "acme.stateful"} == set(loaded)
    errors = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert "Failed to load action 'acme.missing_module = acme_plugins_that_do_not_exist.mod:Thing'" in errors
    assert "ModuleNotFoundError" in errors
    assert f"Failed to load action 'acme.not_action = {HERE}:NotAnAction'" in errors
    assert "is not a subclass of mistral_lib.actions.Action" in errors
    assert f"Failed to load action 'acme.no_run = {HERE}:NoRunAction'" in errors
    assert f"Failed to load action 'acme.missing_attr = {HERE}:NoSuchClass'" in errors
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 4


def test_is_sync_depending_on_input_is_reported_sync(plugins: list) -> None:
    assert registry.get_system_action("acme.stateful").is_sync is True


def test_duplicate_entry_point_keeps_the_first(plugins: list, caplog: pytest.LogCaptureFixture) -> None:
    plugins.append(_ep("acme.greet", f"{HERE}:GreetAction"))
    plugins.append(_ep("std.echo", f"{HERE}:GreetAction"))
    with caplog.at_level(logging.WARNING, logger=registry.__name__):
        loaded = registry.load_system_actions()
    assert loaded["std.echo"].action_class is std.EchoAction
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["Action std.echo is registered twice, keeping mistral.actions.std:EchoAction"]


@pytest.mark.parametrize("option", ["only_builtin_actions", "load_action_plugins"])
def test_builtin_only(plugins: list, caplog: pytest.LogCaptureFixture, option: str) -> None:
    CONF.set_override(option, option == "only_builtin_actions", group=GROUP)
    with caplog.at_level(logging.ERROR, logger=registry.__name__):
        loaded = registry.load_system_actions()
    assert set(loaded) == set(STD_INPUTS)
    # Filtered before import: the broken plugins were never even tried.
    assert not caplog.records


def test_allowlist_and_denylist(plugins: list) -> None:
    CONF.set_override("allowlist", ["std.e*", "acme.*"], group=GROUP)
    CONF.set_override("denylist", ["std.email", "std.external", "acme.[!g]*"], group=GROUP)
    assert set(registry.load_system_actions()) == {"std.echo", "acme.greet"}


def test_empty_allowlist_allows_nothing(plugins: list) -> None:
    CONF.set_override("allowlist", [], group=GROUP)
    assert registry.load_system_actions() == {}


def test_discovery_is_cached_until_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = registry._entry_points
    monkeypatch.setattr(registry, "_entry_points", lambda: calls.append(1) or real())
    registry.load_system_actions()
    registry.get_system_action("std.echo")
    assert len(calls) == 1
    CONF.set_override("denylist", ["std.echo"], group=GROUP)
    assert registry.get_system_action("std.echo") is not None
    registry.reset_cache()
    assert registry.get_system_action("std.echo") is None
    assert len(calls) == 2


def test_instantiate_builds_the_action() -> None:
    action = registry.instantiate(registry.get_system_action("std.echo"), {"output": "hi", "delay": 0})
    assert isinstance(action, std.EchoAction)
    assert action.run(None) == "hi"


def test_instantiate_reports_missing_and_unexpected() -> None:
    echo = registry.get_system_action("std.echo")
    with pytest.raises(exceptions.InvalidActionError) as info:
        registry.instantiate(echo, {"foo": 1, "delay": 2})
    assert (
        str(info.value)
        == "Invalid input [name=std.echo, class=EchoAction, missing=['output'], unexpected=['foo']]"
    )


def test_instantiate_with_kwargs_accepts_anything(plugins: list) -> None:
    action = registry.instantiate(registry.get_system_action("acme.greet"), {"name": "Bo", "mood": "good"})
    assert action.run(None) == "Hello, Bo"


def test_instantiate_reports_rejected_values() -> None:
    http = registry.get_system_action("std.http")
    with pytest.raises(
        exceptions.InvalidActionError, match=r"name=std.http, class=HTTPAction\]: Only one of"
    ):
        registry.instantiate(http, {"url": "http://127.0.0.1/", "body": "x", "json": {}})


def test_describe_rejects_non_classes() -> None:
    with pytest.raises(exceptions.ActionLoadError, match="'my.fn'"):
        registry.describe("my.fn", len)
