"""RPC from the API's reader process to the services of the engine's process, over a socket pair.

NOTE (issue 14): the in-process transport reaches a server only from inside its own
process, so the reader process forwarded every request that needs the engine to the API
of the engine's process, whose interpreter then parsed, routed, checked and rendered it:
42% of the engine process's CPU per ``POST /v2/executions`` (1.1 of 2.7 ms, py-spy with
``--gil`` under bursts of 50 starts on a slow machine), and each of those milliseconds is
a millisecond every queued start waits for. With a bridge the reader process handles
such a request through the same API code as any API process and sends only the RPC
message; the engine's process runs the call as its own API threads did
(``mistral.rpc.direct``) and answers the outcome's wire form.

One socket pair made by the engine's process before it starts the reader carries every
message, each a frame: a 4-byte big-endian length and a JSON object. A call's frame has an
``id`` its answer repeats, so the reader's threads share the socket; a cast gets no answer.
No name on the filesystem or in the abstract namespace: only the child that inherited the
descriptor can send, as a caller it trusts to pass its own callers' security context on.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import struct
import threading
import traceback
from collections.abc import Callable
from concurrent import futures
from typing import Any

import oslo_messaging
from oslo_serialization import jsonutils

from mistral import config

LOG = logging.getLogger(__name__)

#: The environment variable that gives the reader process its end of the pair (a descriptor number).
FD_ENV = "MISTRAL_API_BRIDGE_FD"

#: Seconds ``BridgeServer.stop`` gives its reader thread to end once the socket is shut (at once, normally).
STOP_WAIT = 1.0

_LENGTH = struct.Struct(">I")
#: Largest frame either side accepts: far above any start's input ([api] max_request_body_kb).
MAX_FRAME = 256 * 1024 * 1024

#: sends ``(topic, server, method, ctxt, kwargs, timeout)`` as a call and answers its wire form
CallSender = Callable[[str, "str | None", str, dict[str, Any], dict[str, Any], "float | None"], Any]
#: sends ``(topic, server, method, ctxt, kwargs)`` as a cast
CastSender = Callable[[str, "str | None", str, dict[str, Any], dict[str, Any]], None]


class BridgeClosed(oslo_messaging.MessagingException):
    """The other side of the bridge is gone (the engine's process stopped or the socket broke)."""


def _write(sock: socket.socket, lock: threading.Lock, message: dict[str, Any]) -> None:
    data = json.dumps(message, default=jsonutils.to_primitive).encode()
    with lock:
        sock.sendall(_LENGTH.pack(len(data)) + data)


def _read(stream: Any) -> dict[str, Any] | None:
    """The next frame from the buffered reader ``stream``; None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"a bridge frame of {size} bytes is over the limit of {MAX_FRAME}")
    body = stream.read(size)
    if len(body) < size:
        return None
    return json.loads(body)


class BridgeClient:
    """The reader process's end: sends calls and casts, and hands each answer to its waiting thread."""

    def __init__(self, sock: socket.socket, on_close: Callable[[], object] | None = None) -> None:
        """``on_close``: called once the bridge is closed (the other side gone or the socket broken)."""
        self._sock = sock
        self._on_close = on_close
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._waiting: dict[int, futures.Future[Any]] = {}
        self._closed = False
        self._receiver = threading.Thread(target=self._receive, name="rpc-bridge-answers", daemon=True)
        self._receiver.start()

    def call(
        self,
        topic: str,
        server: str | None,
        method: str,
        ctxt: dict[str, Any],
        kwargs: dict[str, Any],
        timeout: float | None = None,
    ) -> Any:
        """The call's answer as the transport gives it (a wire outcome); its failures raised as there."""
        answer: futures.Future[Any] = futures.Future()
        with self._lock:
            if self._closed:
                raise BridgeClosed("the engine's process is not reachable")
            call_id = next(self._ids)
            self._waiting[call_id] = answer
        try:
            self._send(
                {
                    "id": call_id,
                    "topic": topic,
                    "server": server,
                    "method": method,
                    "ctxt": ctxt,
                    "kwargs": kwargs,
                    "timeout": timeout,
                }
            )
            wait = timeout or config.CONF.rpc_response_timeout
            try:
                return answer.result(wait)
            except futures.TimeoutError:
                raise oslo_messaging.MessagingTimeout(
                    f"No answer from the engine's process to {topic}.{method} in {wait} s"
                ) from None
        finally:
            with self._lock:
                self._waiting.pop(call_id, None)

    def cast(
        self, topic: str, server: str | None, method: str, ctxt: dict[str, Any], kwargs: dict[str, Any]
    ) -> None:
        self._send({"topic": topic, "server": server, "method": method, "ctxt": ctxt, "kwargs": kwargs})

    def _send(self, frame: dict[str, Any]) -> None:
        try:
            _write(self._sock, self._send_lock, frame)
        except OSError as error:
            raise BridgeClosed(f"the engine's process is not reachable: {error}") from error

    def _receive(self) -> None:
        stream = self._sock.makefile("rb")
        try:
            while (message := _read(stream)) is not None:
                with self._lock:
                    answer = self._waiting.get(message.get("id", 0))
                if answer is None:
                    continue  # its caller gave up waiting
                if "error" in message:
                    answer.set_exception(_error_of(message["error"]))
                else:
                    answer.set_result(message.get("answer"))
        except (OSError, ValueError) as error:
            LOG.error("The bridge to the engine's process broke: %s", error)
        finally:
            with self._lock:
                self._closed = True
                waiting, self._waiting = self._waiting, {}
            for answer in waiting.values():
                answer.set_exception(BridgeClosed("the engine's process closed the bridge"))
            if self._on_close is not None:
                self._on_close()


def _error_of(error: list[str]) -> Exception:
    kind, message, trace = error
    if kind == "MessagingTimeout":
        return oslo_messaging.MessagingTimeout(message)
    return oslo_messaging.RemoteError(kind, message, trace)


class BridgeServer:
    """The engine process's end: runs each message as its API threads would, ``workers`` at once."""

    def __init__(self, sock: socket.socket, call: CallSender, cast: CastSender, workers: int) -> None:
        self._sock = sock
        self._call, self._cast = call, cast
        self._send_lock = threading.Lock()
        self._pool = futures.ThreadPoolExecutor(workers, thread_name_prefix="rpc-bridge")
        self._reader = threading.Thread(target=self._serve, name="rpc-bridge", daemon=True)

    def start(self) -> None:
        self._reader.start()

    def stop(self, timeout: float = STOP_WAIT) -> None:
        """Take no more messages; wait up to ``timeout`` seconds for the reader thread to see the end."""
        _shut(self._sock)
        self._reader.join(timeout)
        self._pool.shutdown(wait=False)
        self._sock.close()

    def _serve(self) -> None:
        stream = self._sock.makefile("rb")
        try:
            while (message := _read(stream)) is not None:
                self._pool.submit(self._run, message)
        except (OSError, ValueError) as error:
            LOG.error("The bridge from the API's reader process broke: %s", error)
        except RuntimeError:
            pass  # the pool was shut down: this process is stopping
        finally:
            # NOTE: the reader process learns at once that no answer will come.
            _shut(self._sock)

    def _run(self, message: dict[str, Any]) -> None:
        args = (
            message["topic"],
            message.get("server"),
            message["method"],
            message["ctxt"],
            message["kwargs"],
        )
        call_id = message.get("id")
        if call_id is None:
            try:
                self._cast(*args)
            except Exception:  # noqa: BLE001 - a cast has nobody to answer, as over the transport
                LOG.exception("Bridged cast %s.%s failed", message["topic"], message["method"])
            return
        try:
            reply: dict[str, Any] = {"id": call_id, "answer": self._call(*args, message.get("timeout"))}
        except oslo_messaging.MessagingTimeout as error:
            reply = {"id": call_id, "error": ["MessagingTimeout", str(error), ""]}
        except oslo_messaging.RemoteError as error:
            reply = {"id": call_id, "error": [error.exc_type, error.value, error.traceback or ""]}
        except Exception as error:  # noqa: BLE001 - the caller sees what a remote server's failure shows
            trace = "".join(traceback.format_exception(error))
            reply = {"id": call_id, "error": [type(error).__name__, str(error), trace]}
        try:
            _write(self._sock, self._send_lock, reply)
        except OSError as error:
            LOG.warning(
                "The answer to bridged call %s.%s was lost: %s", message["topic"], message["method"], error
            )


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # shut or closed already


_client: BridgeClient | None = None


def install_client(sock: socket.socket, on_close: Callable[[], object] | None = None) -> None:
    """Send this process's RPC through ``sock`` from now on (the reader process, once, at its start)."""
    global _client
    _client = BridgeClient(sock, on_close)


def client() -> BridgeClient | None:
    """The bridge this process's RPC goes through, if it has one."""
    return _client
