"""Actions from ``mistral.generators`` entry points: fake generators, and mistral-extra's real ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import pytest
from mistral_lib import actions

from mistral import exceptions
from mistral.actions import generated_child, generators, registry
from mistral.config import CONF
from mistral.utils.inputs import NO_DEFAULT, Param

GROUP = "legacy_action_provider"
HERE = __name__
CALLS: list[str] = []


class ServerAction(actions.Action):
    """Base of the fake generated actions: keeps its input, as mistral-extra's do."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def run(self, context: Any) -> Any:
        return {"called": type(self).__name__, "with": self.kwargs}


class FakeGenerator:
    @classmethod
    def create_actions(cls) -> list[dict[str, Any]]:
        CALLS.append("create_actions")
        return [
            {
                "name": "fake.servers_list",
                "class": type("servers.list", (ServerAction,), {}),
                "description": "List servers.\n\n:param detailed: with details",
                "arg_list": 'detailed=true, action_region="", **kwargs',
            },
            {
                "name": "fake.servers_get",
                "class": type("servers.get", (ServerAction,), {}),
                "description": "Get a server.",
                "arg_list": "server",
            },
            {"name": "fake.not_an_action", "class": dict, "description": "", "arg_list": ""},
            # A client method without parameters or docstring: Mistral falls back on the class.
            {
                "name": "fake.limits",
                "class": type("limits", (ServerAction,), {}),
                "description": "",
                "arg_list": "",
            },
        ]


class BrokenGenerator:
    @classmethod
    def create_actions(cls) -> list[dict[str, Any]]:
        raise ImportError("No module named 'fakeclient'")


def all_generators() -> Iterator[type]:
    CALLS.append("factory")
    yield FakeGenerator
    yield BrokenGenerator


def broken_factory() -> Iterator[type]:
    raise RuntimeError("factory exploded")


def _ep(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=generators.ENTRY_POINT_GROUP)


@pytest.fixture
def fake_generators(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    eps = [_ep("fake", f"{HERE}:all_generators"), _ep("broken", f"{HERE}:broken_factory")]
    monkeypatch.setattr(generators, "_entry_points", lambda: eps)
    # The child process would not see the fake entry points; test_described_in_a_child_... covers its path.
    monkeypatch.setattr(registry, "DESCRIBE_GENERATED_IN_CHILD", False)
    CONF.set_override("load_action_generators", True, group=GROUP)
    CALLS.clear()
    generators.reset()
    registry.reset_cache()
    yield
    CONF.clear_override("load_action_generators", group=GROUP)
    generators.reset()
    registry.reset_cache()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("server", [Param("server")]),
        ("a, b=1, **kwargs", [Param("a"), Param("b", 1), Param("kwargs", var_keyword=True)]),
        ('action_region=""', [Param("action_region", "")]),
        (
            'c="x, y", d=[1, 2], e={"k": null}',
            [Param("c", "x, y"), Param("d", [1, 2]), Param("e", {"k": None})],
        ),
        ("name=null, flag=false", [Param("name", None), Param("flag", False)]),
        ("f=not json, g", [Param("f", "not json"), Param("g", NO_DEFAULT)]),
    ],
)
def test_parse_spec(text: str, expected: list[Param]) -> None:
    assert generators.parse_spec(text) == expected


def test_parse_spec_refuses_a_nameless_entry() -> None:
    with pytest.raises(ValueError, match="Unnamed parameter"):
        generators.parse_spec("a, =1")


@pytest.mark.usefixtures("fake_generators")
def test_generated_actions_are_system_actions_with_their_input_strings() -> None:
    loaded = registry.load_system_actions()
    listed = loaded["fake.servers_list"]
    assert listed.input_string == 'detailed=true, action_region="", **kwargs'
    assert listed.description == "List servers.\n\n:param detailed: with details"
    assert listed.is_sync
    assert loaded["fake.servers_get"].params == [Param("server")]
    # The class is checked like any plugin's; a broken generator or factory is skipped, the rest load.
    assert "fake.not_an_action" not in loaded
    assert "std.echo" in loaded


@pytest.mark.usefixtures("fake_generators")
def test_what_a_generator_leaves_empty_comes_from_the_class() -> None:
    limits = registry.get_system_action("fake.limits")
    assert limits is not None
    assert limits.input_string == "**kwargs"
    assert limits.description == "Base of the fake generated actions: keeps its input, as mistral-extra's do."


@pytest.mark.usefixtures("fake_generators")
def test_generated_action_input_is_checked_and_runs() -> None:
    descriptor = registry.get_system_action("fake.servers_get")
    assert descriptor is not None
    with pytest.raises(Exception, match=r"missing=\['server'\]"):
        registry.instantiate(descriptor, {})
    with pytest.raises(Exception, match=r"unexpected=\['colour'\]"):
        registry.instantiate(descriptor, {"server": "s1", "colour": "red"})
    action = registry.instantiate(descriptor, {"server": "s1"})
    assert action.run(None) == {"called": "servers.get", "with": {"server": "s1"}}


@pytest.mark.usefixtures("fake_generators")
def test_generators_run_once_per_process_whatever_resets_the_registry() -> None:
    registry.load_system_actions()
    registry.reset_cache()
    registry.load_system_actions()
    registry.get_system_action("fake.servers_list")
    assert CALLS == ["factory", "create_actions"]


@pytest.mark.usefixtures("fake_generators")
@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("load_action_generators", False),
        ("load_action_plugins", False),
        ("only_builtin_actions", True),
        ("denylist", ["fake.*"]),
        ("allowlist", ["std.*"]),
    ],
)
def test_generated_actions_obey_the_provider_options(option: str, value: Any) -> None:
    CONF.set_override(option, value, group=GROUP)
    try:
        loaded = registry.load_system_actions()
    finally:
        CONF.clear_override(option, group=GROUP)
    assert "fake.servers_list" not in loaded
    assert "std.echo" in loaded


@pytest.mark.usefixtures("fake_generators")
def test_an_entry_point_action_wins_over_a_generated_one_of_the_same_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    eps = list(registry._entry_points()) + [
        metadata.EntryPoint("fake.servers_get", "mistral.actions.std:EchoAction", registry.ENTRY_POINT_GROUP)
    ]
    monkeypatch.setattr(registry, "_entry_points", lambda: eps)
    assert registry.load_system_actions()["fake.servers_get"].input_string == "output, delay=0"


@pytest.mark.usefixtures("fake_generators")
def test_described_in_a_child_they_load_their_class_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the child process writes, read back here: no class is built until an action is made.
    text = generated_child.to_json(registry.describe_all_generated())
    generators.reset()
    CALLS.clear()
    monkeypatch.setattr(registry, "DESCRIBE_GENERATED_IN_CHILD", True)
    monkeypatch.setattr(generated_child, "describe_in_child", lambda: generated_child.from_json(text))
    loaded = registry.load_system_actions()
    listed, got = loaded["fake.servers_list"], loaded["fake.servers_get"]
    assert listed.input_string == 'detailed=true, action_region="", **kwargs'
    assert listed.params[0] == Param("detailed", True)
    assert listed.description == "List servers.\n\n:param detailed: with details"
    assert loaded["fake.limits"].input_string == "**kwargs"
    assert "fake.not_an_action" not in loaded
    assert (got.action_class.__name__, got.action_class.__module__) == ("servers.get", HERE)
    assert CALLS == []
    with pytest.raises(Exception, match=r"missing=\['server'\]"):
        registry.instantiate(got, {})
    action = registry.instantiate(got, {"server": "s1"})
    assert isinstance(action, ServerAction)
    assert action.run(None) == {"called": "servers.get", "with": {"server": "s1"}}
    registry.instantiate(listed, {})
    # One generator's actions are built once, whichever of them is made.
    assert CALLS == ["factory", "create_actions"]
    # A generator that no longer makes an action it listed: a load error, not a crash.
    gone = dataclasses.replace(generated_child.from_json(text)[0], name="fake.gone")
    with pytest.raises(exceptions.ActionLoadError, match=r"fake\.gone.*no longer generates"):
        generated_child.stand_in(gone)()


# -- mistral-extra, a test dependency: its real generators -----------------------------------


@pytest.fixture(scope="module")
def extra_actions() -> Iterator[dict[str, registry.ActionDescriptor]]:
    CONF.set_override("load_action_generators", True, group=GROUP)
    registry.reset_cache()
    try:
        yield registry.load_system_actions()
    finally:
        CONF.clear_override("load_action_generators", group=GROUP)
        registry.reset_cache()


@pytest.mark.parametrize(
    ("name", "input_string"),
    [
        ("keystone.projects_list", "domain=null, user=null, parent=null, **kwargs"),
        ("keystone.users_get", "user"),
        ("glance.images_list", 'action_region="", **kwargs'),
        ("nova.servers_delete", 'server, action_region=""'),
    ],
)
def test_mistral_extra_actions_load_with_mistrals_input_strings(
    extra_actions: dict[str, registry.ActionDescriptor], name: str, input_string: str
) -> None:
    assert extra_actions[name].input_string == input_string
    assert extra_actions[name].description


def test_mistral_extra_covers_the_openstack_services(
    extra_actions: dict[str, registry.ActionDescriptor],
) -> None:
    services = {name.split(".")[0] for name in extra_actions if not name.startswith("std.")}
    assert {"nova", "glance", "keystone", "neutron", "cinder", "heat", "swift", "mistral"} <= services
    assert len(extra_actions) > 1000
    # Described by a child process; made here, an action is of the class its generator builds.
    action = registry.instantiate(extra_actions["nova.servers_delete"], {"server": "s1"})
    assert type(action).__name__ == "servers.delete"
    assert action.client_method_name == "servers.delete"
    # Its keystone utils read [keystone_authtoken] and [keystone] in this process.
    assert CONF.keystone_authtoken.www_authenticate_uri is None
    assert CONF.keystone.insecure is False
