"""std.ssh and std.ssh_proxied: run a shell command on remote hosts with paramiko."""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from typing import Any

import paramiko
from mistral_lib import actions
from mistral_lib.actions.context import ActionContext
from mistral_lib.exceptions import ActionException

from mistral.actions import ssh_trust
from mistral.config import CONF

LOG = logging.getLogger(__name__)

# An unreachable host must not hold an executor worker for the OS default (minutes).
CONNECT_TIMEOUT = 30
SSH_PORT = 22
_KEY_CLASSES = (paramiko.RSAKey, paramiko.ECDSAKey, paramiko.Ed25519Key)


class SSHAction(actions.Action):
    """Run a shell command over SSH on one host or a list of hosts."""

    def __init__(
        self,
        cmd: str,
        host: str | list[str],
        username: str,
        password: str = "",
        private_key_filename: str | None = None,
        private_key: str | None = None,
        return_result_on_error: bool = False,
    ) -> None:
        if not host or not (isinstance(host, str) or all(isinstance(h, str) and h for h in host)):
            raise ValueError("host must be a host name or a non-empty list of host names")
        _private_key(private_key)  # a malformed key is a bad input, reported before the run
        self.cmd = cmd
        self.host = host if isinstance(host, str) else list(host)
        self.username = username
        self.password = password
        self.private_key_filename = private_key_filename
        self.private_key = private_key
        self.return_result_on_error = bool(return_result_on_error)

    def run(self, context: ActionContext) -> Any:
        hosts = [self.host] if isinstance(self.host, str) else self.host
        results = [self._run_on(host) for host in hosts]
        return results[0] if isinstance(self.host, str) else results

    def _run_on(self, host: str) -> Any:
        with contextlib.ExitStack() as stack:
            client = self._connect(host, stack)
            LOG.debug("Running an SSH command on %s@%s", self.username, host)
            exit_code, stdout, stderr = _execute(client, self.cmd)
        if self.return_result_on_error:
            return {"stdout": stdout, "stderr": stderr, "exit_code": exit_code}
        if exit_code != 0:
            raise ActionException(f"SSH command on {host} exited with code {exit_code}: {stderr or stdout}")
        return stdout

    def _connect(self, host: str, stack: contextlib.ExitStack, sock: Any = None) -> paramiko.SSHClient:
        """An open client to ``host``, closed when ``stack`` closes."""
        return _open_client(
            host,
            self.username,
            password=self.password or None,
            pkey=_private_key(self.private_key),
            key_filename=ssh_trust.key_file(self.private_key_filename),
            stack=stack,
            sock=sock,
        )


class SSHProxiedAction(SSHAction):
    """Run a shell command over SSH through a gateway host or a proxy command."""

    def __init__(
        self,
        cmd: str,
        host: str | list[str],
        username: str,
        private_key_filename: str | None = None,
        gateway_host: str | None = None,
        gateway_username: str | None = None,
        password: str | None = None,
        proxy_command: str | None = None,
        private_key: str | None = None,
    ) -> None:
        # NOTE: Mistral lists gateway_host after a defaulted parameter, so it
        # cannot be required by the signature; it is required here instead.
        if not gateway_host and not proxy_command:
            raise ValueError("gateway_host or proxy_command is required")
        super().__init__(
            cmd,
            host,
            username,
            password=password or "",
            private_key_filename=private_key_filename,
            private_key=private_key,
        )
        self.gateway_host = gateway_host
        self.gateway_username = gateway_username
        self.proxy_command = proxy_command

    def _connect(self, host: str, stack: contextlib.ExitStack, sock: Any = None) -> paramiko.SSHClient:
        hostname, port = _host_port(host)
        if self.proxy_command:
            if not CONF.action_ssh.allow_proxy_command:
                raise ActionException(
                    "proxy_command is refused: it would run as a local process of the executor; "
                    "set [action_ssh] allow_proxy_command = true to allow it"
                )
            # OpenSSH's ProxyCommand tokens, so existing ssh_config lines work as they are.
            command = self.proxy_command.replace("%h", hostname).replace("%p", str(port))
            command = command.replace("%r", self.username)
            sock = stack.enter_context(contextlib.closing(paramiko.ProxyCommand(command)))
        else:
            gateway = _open_client(
                self.gateway_host,
                self.gateway_username or self.username,
                password=self.password or None,
                pkey=_private_key(self.private_key),
                key_filename=ssh_trust.key_file(self.private_key_filename),
                stack=stack,
            )
            transport = gateway.get_transport()
            sock = transport.open_channel("direct-tcpip", (hostname, port), ("127.0.0.1", 0))
            stack.callback(sock.close)
        return super()._connect(host, stack, sock=sock)


def _open_client(
    host: str,
    username: str,
    *,
    password: str | None,
    pkey: paramiko.PKey | None,
    key_filename: str | None,
    stack: contextlib.ExitStack,
    sock: Any = None,
) -> paramiko.SSHClient:
    hostname, port = _host_port(host)
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


def _execute(client: paramiko.SSHClient, cmd: str) -> tuple[int, str, str]:
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


def _host_port(host: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6-address]:port``."""
    if host.startswith("["):
        address, _, rest = host[1:].partition("]")
        return address, int(rest[1:]) if rest.startswith(":") else SSH_PORT
    name, sep, port = host.rpartition(":")
    if sep and ":" not in name and port.isdigit():
        return name, int(port)
    return host, SSH_PORT


def _private_key(text: str | None) -> paramiko.PKey | None:
    """A private key given as PEM/OpenSSH text, whatever its type."""
    if not text:
        return None
    for key_class in _KEY_CLASSES:
        try:
            return key_class.from_private_key(io.StringIO(text))
        except paramiko.SSHException:
            continue
    raise ValueError("private_key is not an RSA, ECDSA or Ed25519 private key")
