"""The paramiko side of std.ssh and std.ssh_proxied, imported only when an SSH action is built or run."""

from __future__ import annotations

import contextlib
import io
import threading
from typing import Any

import paramiko
from mistral_lib.exceptions import ActionException

from mistral.actions import ssh_trust
from mistral.actions.ssh_trust import key_file

__all__ = ["execute", "key_file", "open_client", "private_key", "proxy_command"]

# An unreachable host must not hold an executor worker for the OS default (minutes).
CONNECT_TIMEOUT = 30
_KEY_CLASSES = (paramiko.RSAKey, paramiko.ECDSAKey, paramiko.Ed25519Key)


def proxy_command(command: str) -> paramiko.ProxyCommand:
    return paramiko.ProxyCommand(command)


def open_client(
    address: tuple[str, int],
    host: str,
    username: str,
    *,
    password: str | None,
    pkey: paramiko.PKey | None,
    key_filename: str | None,
    stack: contextlib.ExitStack,
    sock: Any = None,
) -> paramiko.SSHClient:
    hostname, port = address
    client = paramiko.SSHClient()
    stack.callback(client.close)
    ssh_trust.apply_host_policy(client)
    try:
        client.connect(
            hostname,
            port=port,
            username=username,
            password=password,
            pkey=pkey,
            key_filename=key_filename,
            timeout=CONNECT_TIMEOUT,
            sock=sock,
            # NOTE: never the service's own keys (~/.ssh) or its agent: the host is the user's choice.
            look_for_keys=False,
            allow_agent=False,
        )
    except paramiko.BadHostKeyException as exc:
        raise ActionException(
            f"The host key of {host} does not match the one in [action_ssh] known_hosts_file: {exc}"
        ) from exc
    except (OSError, paramiko.SSHException) as exc:
        raise ActionException(f"Failed to connect over SSH to {username}@{host}: {exc}") from exc
    return client


def execute(client: paramiko.SSHClient, cmd: str) -> tuple[int, str, str]:
    """Run ``cmd`` and return (exit code, stdout, stderr)."""
    try:
        stdin, stdout, stderr = client.exec_command(cmd)
        stdin.close()
        # Drain stderr alongside stdout: a full stderr window would stall the command.
        err: list[bytes] = []
        reader = threading.Thread(target=lambda: err.append(stderr.read()), daemon=True)
        reader.start()
        out = stdout.read()
        reader.join()
        exit_code = stdout.channel.recv_exit_status()
    except (OSError, paramiko.SSHException) as exc:
        raise ActionException(f"SSH command failed: {exc}") from exc
    return exit_code, _text(out), _text(b"".join(err))


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def private_key(text: str | None) -> paramiko.PKey | None:
    """A private key given as PEM/OpenSSH text, whatever its type."""
    if not text:
        return None
    for key_class in _KEY_CLASSES:
        try:
            return key_class.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise ValueError("private_key is not an RSA, ECDSA or Ed25519 private key")
