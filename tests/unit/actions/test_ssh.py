from __future__ import annotations

import os
import pathlib
import shutil
from collections.abc import Iterator

import paramiko
import pytest
from mistral_lib.exceptions import ActionException

from mistral.actions import ssh
from mistral.actions.ssh import SSHAction, SSHProxiedAction
from mistral.config import CONF
from tests.unit.actions import ssh_server
from tests.unit.actions.conftest import unused_port
from tests.unit.actions.ssh_server import FakeSSHServer

OPTIONS = ("known_hosts_file", "accept_unknown_hosts", "private_key_dir", "allow_proxy_command")


@pytest.fixture(autouse=True)
def _clean_options() -> Iterator[None]:
    yield
    for name in OPTIONS:
        CONF.clear_override(name, group="action_ssh")


def _known_hosts(path: pathlib.Path, address: str, key: paramiko.PKey) -> pathlib.Path:
    host, port = address.split(":")
    path.write_text(f"[{host}]:{port} {key.get_name()} {key.get_base64()}\n")
    return path


@pytest.fixture
def sshd(sshd: FakeSSHServer, tmp_path: pathlib.Path) -> FakeSSHServer:
    """The fake server, its host key in [action_ssh] known_hosts_file."""
    path = _known_hosts(tmp_path / "known_hosts", sshd.address, ssh_server.host_key())
    CONF.set_override("known_hosts_file", str(path), group="action_ssh")
    return sshd


@pytest.fixture
def untrusted_sshd() -> Iterator[FakeSSHServer]:
    """A fake server whose host key nobody listed."""
    server = FakeSSHServer()
    yield server
    server.close()


@pytest.fixture
def key_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """[action_ssh] private_key_dir holding the fake server's client key as id_test."""
    directory = tmp_path / "keys"
    directory.mkdir()
    (directory / "id_test").write_text(ssh_server.client_key_text())
    CONF.set_override("private_key_dir", str(directory), group="action_ssh")
    return directory


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


def test_unknown_host_is_refused_naming_host_and_option(untrusted_sshd: FakeSSHServer) -> None:
    action = SSHAction("echo hello", untrusted_sshd.address, "alice", password=ssh_server.PASSWORD)
    host, port = untrusted_sshd.address.split(":")
    with pytest.raises(ActionException, match=r"host key of \[127\.0\.0\.1\]:\d+ is not known") as exc:
        action.run(None)
    assert f"[{host}]:{port}" in str(exc.value)
    assert "[action_ssh] known_hosts_file" in str(exc.value)
    assert "[action_ssh] accept_unknown_hosts" in str(exc.value)
    assert untrusted_sshd.executed == []


def test_unknown_host_accepted_when_allowed(untrusted_sshd: FakeSSHServer) -> None:
    CONF.set_override("accept_unknown_hosts", True, group="action_ssh")
    action = SSHAction("echo hello", untrusted_sshd.address, "alice", password=ssh_server.PASSWORD)
    assert action.run(None) == "hello\n"


def test_a_changed_host_key_is_refused_even_when_unknown_hosts_are_accepted(
    untrusted_sshd: FakeSSHServer, tmp_path: pathlib.Path
) -> None:
    path = _known_hosts(tmp_path / "known_hosts", untrusted_sshd.address, paramiko.RSAKey.generate(1024))
    CONF.set_override("known_hosts_file", str(path), group="action_ssh")
    CONF.set_override("accept_unknown_hosts", True, group="action_ssh")
    action = SSHAction("echo hello", untrusted_sshd.address, "alice", password=ssh_server.PASSWORD)
    with pytest.raises(ActionException, match="does not match the one in \\[action_ssh\\] known_hosts_file"):
        action.run(None)
    assert untrusted_sshd.executed == []
    # The operator's file is left as it was.
    assert len(path.read_text().splitlines()) == 1


def test_a_missing_known_hosts_file_is_an_action_error(sshd: FakeSSHServer, tmp_path: pathlib.Path) -> None:
    CONF.set_override("known_hosts_file", str(tmp_path / "nope"), group="action_ssh")
    action = SSHAction("echo hello", sshd.address, "alice", password=ssh_server.PASSWORD)
    with pytest.raises(ActionException, match="Cannot read \\[action_ssh\\] known_hosts_file"):
        action.run(None)


def test_the_service_users_own_keys_are_never_offered(
    sshd: FakeSSHServer, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(ssh_server.client_key_text())
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    with pytest.raises(ActionException, match="Failed to connect over SSH"):
        SSHAction("echo hello", sshd.address, "alice").run(None)
    assert sshd.executed == []


def test_key_file_inside_the_key_dir(sshd: FakeSSHServer, key_dir: pathlib.Path) -> None:
    assert SSHAction("echo hello", sshd.address, "bob", private_key_filename="id_test").run(None) == "hello\n"
    absolute = str(key_dir / "id_test")
    assert SSHAction("echo hello", sshd.address, "bob", private_key_filename=absolute).run(None) == "hello\n"
    assert sshd.executed == [("bob", "echo hello"), ("bob", "echo hello")]


def test_key_file_refused_without_a_key_dir(sshd: FakeSSHServer) -> None:
    action = SSHAction("echo hello", sshd.address, "bob", private_key_filename="id_test")
    with pytest.raises(ActionException, match="\\[action_ssh\\] private_key_dir is not set"):
        action.run(None)
    assert sshd.executed == []


@pytest.mark.parametrize("name", ["outside", "../outside", "sub/../../outside", "link", "."])
def test_key_file_outside_the_key_dir_is_refused(
    sshd: FakeSSHServer, key_dir: pathlib.Path, name: str
) -> None:
    outside = key_dir.parent / "outside"
    outside.write_text(ssh_server.client_key_text())
    os.symlink(outside, key_dir / "link")
    filename = str(outside) if name == "outside" else name
    action = SSHAction("echo hello", sshd.address, "bob", private_key_filename=filename)
    with pytest.raises(ActionException, match="outside \\[action_ssh\\] private_key_dir"):
        action.run(None)
    assert sshd.executed == []


def test_proxied_key_file_outside_the_key_dir_is_refused(sshd: FakeSSHServer, key_dir: pathlib.Path) -> None:
    action = SSHProxiedAction(
        "echo hello", sshd.address, "bob", gateway_host=sshd.address, private_key_filename="/etc/passwd"
    )
    with pytest.raises(ActionException, match="outside \\[action_ssh\\] private_key_dir"):
        action.run(None)
    assert sshd.forwarded == []


def test_proxied_gateway_must_be_known(untrusted_sshd: FakeSSHServer) -> None:
    action = SSHProxiedAction(
        "echo hello", "10.0.0.1", "alice", gateway_host=untrusted_sshd.address, password=ssh_server.PASSWORD
    )
    with pytest.raises(ActionException, match="is not known"):
        action.run(None)
    assert untrusted_sshd.forwarded == []


def test_proxy_command_is_refused_by_default(sshd: FakeSSHServer, tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "ran"
    action = SSHProxiedAction(
        "echo hello", sshd.address, "alice", proxy_command=f"touch {marker}", password=ssh_server.PASSWORD
    )
    with pytest.raises(ActionException, match="\\[action_ssh\\] allow_proxy_command = true"):
        action.run(None)
    assert not marker.exists()


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
def test_proxied_through_proxy_command_when_allowed(sshd: FakeSSHServer) -> None:
    CONF.set_override("allow_proxy_command", True, group="action_ssh")
    action = SSHProxiedAction(
        "echo hello", sshd.address, "alice", proxy_command="socat - TCP:%h:%p", password=ssh_server.PASSWORD
    )
    assert action.run(None) == "hello\n"
