"""What the server's processes leave out of memory, and how."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from mistral.utils import lean_imports


def test_a_name_is_unimportable_inside_the_block_and_importable_after_it() -> None:
    name = "json.tool"
    sys.modules.pop(name, None)
    with lean_imports.without(name), pytest.raises(ImportError):
        __import__(name)
    assert name not in sys.modules
    __import__(name)
    assert name in sys.modules


def test_a_name_already_imported_stays_as_it_is() -> None:
    module = sys.modules["json"]
    with lean_imports.without("json"):
        assert __import__("json") is module
    assert sys.modules["json"] is module


#: The commands of the server's processes: every role of mistral-server, the API's reader process.
ENTRY_POINTS = ("mistral.cmd.launch", "mistral.cmd.api_reader")
#: Loaded only because installed, by libraries that do without them (see lean_imports); and the
#: RabbitMQ libraries, which only a process on that transport, or running std.amqp, needs.
LEFT_OUT = ("OpenSSL", "cryptography", "pygments", "kombu", "amqp")


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_a_server_process_loads_none_of_the_extras(entry_point: str) -> None:
    # NOTE: a fresh interpreter: this one has imported whatever the other tests needed.
    code = textwrap.dedent(
        f"""
        import sys
        import {entry_point}
        import mistral.api.app, mistral.engine.engine, mistral.executor.executor
        from mistral import config
        from mistral.actions import registry
        config.parse_args([])
        config.CONF.set_override("load_action_generators", False, "legacy_action_provider")
        registry.load_system_actions()  # as every process does at start: std.amqp among them
        print(",".join(name for name in {LEFT_OUT!r} if name in sys.modules))
        """
    )
    loaded = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_messaging_options_are_registered_as_oslo_messaging_lists_them() -> None:
    from oslo_messaging import opts

    from mistral import config

    for group, options in opts.list_opts():
        if group not in (None, "oslo_messaging_notifications"):
            continue
        for opt in options:
            assert opt.dest in (config.CONF if group is None else config.CONF[group])
