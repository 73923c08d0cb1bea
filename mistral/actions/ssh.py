"""std.ssh and std.ssh_proxied: run a shell command on remote hosts with paramiko (see ssh_client)."""

from __future__ import annotations

import contextlib
import logging
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mistral_lib import actions
from mistral_lib.actions.context import ActionContext
from mistral_lib.exceptions import ActionException

from mistral.config import CONF

if TYPE_CHECKING:
    import paramiko

LOG = logging.getLogger(__name__)

SSH_PORT = 22


def _client() -> ModuleType:
    """The module that talks SSH.

    NOTE: imported on first use, not with this module: paramiko brings cryptography and
    PyNaCl, some 6 MB in every process that merely lists the actions (the API, the engine).
    """
    from mistral.actions import ssh_client

    return ssh_client


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
        _client().private_key(private_key)  # a malformed key is a bad input, reported before the run
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
            exit_code, stdout, stderr = _client().execute(client, self.cmd)
        if self.return_result_on_error:
            return {"stdout": stdout, "stderr": stderr, "exit_code": exit_code}
        if exit_code != 0:
            raise ActionException(f"SSH command on {host} exited with code {exit_code}: {stderr or stdout}")
        return stdout

    def _connect(self, host: str, stack: contextlib.ExitStack, sock: Any = None) -> paramiko.SSHClient:
        """An open client to ``host``, closed when ``stack`` closes."""
        ssh = _client()
        return ssh.open_client(
            _host_port(host),
            host,
            self.username,
            password=self.password or None,
            pkey=ssh.private_key(self.private_key),
            key_filename=ssh.key_file(self.private_key_filename),
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
            sock = stack.enter_context(contextlib.closing(_client().proxy_command(command)))
        else:
            ssh = _client()
            gateway = ssh.open_client(
                _host_port(self.gateway_host or ""),
                self.gateway_host,
                self.gateway_username or self.username,
                password=self.password or None,
                pkey=ssh.private_key(self.private_key),
                key_filename=ssh.key_file(self.private_key_filename),
                stack=stack,
            )
            transport = gateway.get_transport()
            sock = transport.open_channel("direct-tcpip", (hostname, port), ("127.0.0.1", 0))
            stack.callback(sock.close)
        return super()._connect(host, stack, sock=sock)


def _host_port(host: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6-address]:port``."""
    if host.startswith("["):
        address, _, rest = host[1:].partition("]")
        return address, int(rest[1:]) if rest.startswith(":") else SSH_PORT
    name, sep, port = host.rpartition(":")
    if sep and ":" not in name and port.isdigit():
        return name, int(port)
    return host, SSH_PORT
