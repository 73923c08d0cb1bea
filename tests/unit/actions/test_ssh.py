from __future__ import annotations

import shutil

import pytest
from mistral_lib.exceptions import ActionException

from mistral.actions import ssh
from mistral.actions.ssh import SSHAction, SSHProxiedAction
from tests.unit.actions import ssh_server
from tests.unit.actions.conftest import unused_port
from tests.unit.actions.ssh_server import FakeSSHServer


def test_runs_command_with_password(sshd: FakeSSHServer) -> None:
    action = SSHAction("echo hello", sshd.address, "alice", password=ssh_server.PASSWORD)
    assert action.run(None) == "hello\n"
    assert sshd.executed == [("alice", "echo hello")]


def test_runs_command_with_private_key_text(sshd: FakeSSHServer) -> None:
    action = SSHAction("echo hello", sshd.address, "bob", private_key=ssh_server.client_key_text())
    assert action.run(None) == "hello\n"
    assert sshd.executed == [("bob", "echo hello")]


def test_host_list_gives_a_result_per_host(sshd: FakeSSHServer) -> None:
    action = SSHAction("echo hello", [sshd.address, sshd.address], "alice", password=ssh_server.PASSWORD)
    assert action.run(None) == ["hello\n", "hello\n"]


def test_nonzero_exit_raises_with_stderr(sshd: FakeSSHServer) -> None:
    action = SSHAction("fail", sshd.address, "alice", password=ssh_server.PASSWORD)
    with pytest.raises(ActionException, match="exited with code 3: broken"):
        action.run(None)


def test_return_result_on_error(sshd: FakeSSHServer) -> None:
    action = SSHAction(
        "fail", sshd.address, "alice", password=ssh_server.PASSWORD, return_result_on_error=True
    )
    assert action.run(None) == {"stdout": "", "stderr": "broken\n", "exit_code": 3}


def test_wrong_password_is_a_connect_error(sshd: FakeSSHServer) -> None:
    action = SSHAction("echo hello", sshd.address, "alice", password="wrong")
    with pytest.raises(ActionException, match=f"Failed to connect over SSH to alice@{sshd.address}"):
        action.run(None)
    assert sshd.executed == []


def test_connection_refused_names_the_host() -> None:
    host = f"127.0.0.1:{unused_port()}"
    with pytest.raises(ActionException, match=f"Failed to connect over SSH to me@{host}"):
        SSHAction("true", host, "me", password="x").run(None)


@pytest.mark.parametrize("host", ["", [], ["ok", ""], [None]])
def test_bad_host_is_rejected(host: object) -> None:
    with pytest.raises(ValueError, match="host"):
        SSHAction("true", host, "me")


def test_bad_private_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="private_key"):
        SSHAction("true", "h", "me", private_key="not a key")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("h", ("h", 22)),
        ("h:2222", ("h", 2222)),
        ("[::1]:23", ("::1", 23)),
        ("[::1]", ("::1", 22)),
        ("::1", ("::1", 22)),
    ],
)
def test_host_port(host: str, expected: tuple[str, int]) -> None:
    assert ssh._host_port(host) == expected


def test_relative_key_file_is_taken_from_dot_ssh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/alice")
    assert ssh._key_path("id_rsa") == "/home/alice/.ssh/id_rsa"
    assert ssh._key_path("/etc/key") == "/etc/key"
    assert ssh._key_path(None) is None


def test_proxied_needs_a_gateway() -> None:
    with pytest.raises(ValueError, match="gateway_host or proxy_command"):
        SSHProxiedAction("true", "h", "me")


def test_proxied_through_gateway(sshd: FakeSSHServer) -> None:
    # The fake server is its own gateway: it forwards the channel back to itself.
    action = SSHProxiedAction(
        "echo hello", sshd.address, "alice", gateway_host=sshd.address, password=ssh_server.PASSWORD
    )
    assert action.run(None) == "hello\n"
    host, port = sshd.address.split(":")
    assert sshd.forwarded == [(host, int(port))]
    assert sshd.executed == [("alice", "echo hello")]


def test_proxied_gateway_refused_names_the_gateway() -> None:
    gateway = f"127.0.0.1:{unused_port()}"
    action = SSHProxiedAction("true", "10.0.0.1", "me", gateway_host=gateway, gateway_username="gw")
    with pytest.raises(ActionException, match=f"gw@{gateway}"):
        action.run(None)


@pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat for the proxy command")
def test_proxied_through_proxy_command(sshd: FakeSSHServer) -> None:
    action = SSHProxiedAction(
        "echo hello", sshd.address, "alice", proxy_command="socat - TCP:%h:%p", password=ssh_server.PASSWORD
    )
    assert action.run(None) == "hello\n"
