"""A tiny SSH server on 127.0.0.1 built on paramiko, for the std.ssh tests.

It knows a few fake commands instead of running a shell, accepts the
password ``secret`` or ``client_key()``, and forwards direct-tcpip channels
so it can also act as the gateway of std.ssh_proxied.
"""

from __future__ import annotations

import functools
import io
import socket
import threading
import time

import paramiko

PASSWORD = "secret"

# command -> (stdout, stderr, exit code)
COMMANDS = {
    "echo hello": ("hello\n", "", 0),
    "fail": ("", "broken\n", 3),
}


@functools.cache
def host_key() -> paramiko.RSAKey:
    return paramiko.RSAKey.generate(2048)


@functools.cache
def client_key() -> paramiko.RSAKey:
    return paramiko.RSAKey.generate(2048)


def client_key_text() -> str:
    out = io.StringIO()
    client_key().write_private_key(out)
    return out.getvalue()


class _Interface(paramiko.ServerInterface):
    def __init__(self) -> None:
        self.username = ""
        self.commands: dict[int, str] = {}
        self.forwards: dict[int, tuple[str, int]] = {}
        self.exec_requested = threading.Condition()

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        return self._auth(username, password == PASSWORD)

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return self._auth(username, key == client_key())

    def _auth(self, username: str, ok: bool) -> int:
        if ok:
            self.username = username
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return (
            paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )

    def check_channel_direct_tcpip_request(self, chanid: int, origin: tuple, destination: tuple) -> int:
        self.forwards[chanid] = (destination[0], int(destination[1]))
        return paramiko.OPEN_SUCCEEDED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        with self.exec_requested:
            self.commands[channel.get_id()] = command.decode()
            self.exec_requested.notify_all()
        return True


class FakeSSHServer:
    def __init__(self) -> None:
        #: (username, command) of every command run, in order.
        self.executed: list[tuple[str, str]] = []
        #: Destinations of the forwarded (gateway) channels.
        self.forwarded: list[tuple[str, int]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._transports: list[paramiko.Transport] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._listener.close()
        for transport in self._transports:
            transport.close()

    def _serve(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(sock,), daemon=True).start()

    def _session(self, sock: socket.socket) -> None:
        transport = paramiko.Transport(sock)
        self._transports.append(transport)
        transport.add_server_key(host_key())
        iface = _Interface()
        try:
            transport.start_server(server=iface)
        except (paramiko.SSHException, EOFError):
            return
        while transport.is_active():
            chan = transport.accept(timeout=0.5)
            if chan is not None:
                threading.Thread(target=self._channel, args=(chan, iface), daemon=True).start()

    def _channel(self, chan: paramiko.Channel, iface: _Interface) -> None:
        destination = iface.forwards.pop(chan.get_id(), None)
        if destination is not None:
            self.forwarded.append(destination)
            _relay(chan, destination)
            return
        with iface.exec_requested:
            iface.exec_requested.wait_for(lambda: chan.get_id() in iface.commands, timeout=5)
        command = iface.commands.pop(chan.get_id(), "")
        # The reply to the exec request is sent by the transport thread after
        # check_channel_exec_request returns; let it go out before any output.
        time.sleep(0.05)
        self.executed.append((iface.username, command))
        stdout, stderr, code = COMMANDS.get(command, ("", f"unknown command: {command}\n", 127))
        chan.sendall(stdout.encode())
        chan.sendall_stderr(stderr.encode())
        chan.send_exit_status(code)
        chan.close()


def _relay(chan: paramiko.Channel, destination: tuple[str, int]) -> None:
    with socket.create_connection(destination) as sock:
        back = threading.Thread(
            target=_pump, args=(sock.recv, chan.sendall, chan.shutdown_write), daemon=True
        )
        back.start()
        _pump(chan.recv, sock.sendall, lambda: sock.shutdown(socket.SHUT_WR))
        back.join(timeout=5)
    chan.close()


def _pump(recv, send, done) -> None:  # type: ignore[no-untyped-def]
    try:
        while data := recv(32768):
            send(data)
    except (OSError, EOFError):
        pass
    finally:
        try:
            done()
        except (OSError, EOFError):  # NOTE: paramiko says EOFError when the other side has already gone
            pass
