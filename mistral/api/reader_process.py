"""Start, watch and stop the API's reader process (see mistral.api.reader) from the engine's process.

NOTE on the design (issue 14): API threads and the engine in one interpreter share one
GIL, so 50 clients polling GET /v2/executions/{id} took most of the engine's CPU (a
1000-task fan-out ran 3.5x slower, a 50-task chain 5x). Reads need nothing but the
database, so a second process answers them. Starts of executions it handles too, and
sends their RPC over a socket pair to this process (mistral.rpc.bridge); everything else
still reaches the engine through the API of the engine's process.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from mistral import config
from mistral.api import server as api_server
from mistral.rpc import bridge, clients
from mistral.utils import cpus

LOG = logging.getLogger(__name__)

#: Environment variables the child reads: the backend API's "host:port" and the ready pipe's fd.
BACKEND_ENV = "MISTRAL_API_BACKEND"
READY_FD_ENV = "MISTRAL_API_READY_FD"

#: Seconds a starting reader process is given to listen (it imports the whole API first).
START_TIMEOUT = 60.0
#: Seconds before the first restart of a reader process that died, doubled up to MAX_BACKOFF.
FIRST_BACKOFF, MAX_BACKOFF = 1.0, 30.0
#: A reader process that ran this long resets the backoff: its end was not a crash loop.
STABLE_AFTER = 60.0


def wanted(names: Sequence[str]) -> bool:
    """Whether the API of a process running ``names`` should answer its reads in a reader process."""
    if not config.CONF.api.reader_process or "api" not in names:
        return False
    if not {"engine", "executor"} & set(names):
        return False  # the API has its process to itself already
    url = config.database_url()
    return not (url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url)


class StartError(RuntimeError):
    """The reader process ended or stayed silent before it listened."""


class ReaderProcess:
    """A child ``python -m mistral.cmd.api_reader <argv>`` that forwards non-reads to ``backend``."""

    def __init__(self, argv: Sequence[str], backend: str, cpus: frozenset[int] = frozenset()) -> None:
        """``cpus``: the CPUs the child runs on (empty: those of this process)."""
        self.argv = list(argv)
        self.backend = backend
        self.cpus = cpus
        self.address: tuple[str, int] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._spawned_at = 0.0
        self._bridge: bridge.BridgeServer | None = None

    def start(self) -> tuple[str, int]:
        """Start the child and return the address it listens on; the watcher restarts it if it dies."""
        self.address = self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="api-reader-watch", daemon=True)
        self._watcher.start()
        return self.address

    def stop(self, timeout: float) -> None:
        """SIGTERM: the child stops listening and drains; after ``timeout`` seconds it is killed."""
        self._stopping.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                LOG.warning("API reader process %d did not stop in %.1f s, killing it", proc.pid, timeout)
                proc.kill()
                proc.wait()
        self._close_bridge()

    def _close_bridge(self) -> None:
        if self._bridge is not None:
            self._bridge.stop()
            self._bridge = None

    def _spawn(self) -> tuple[str, int]:
        self._close_bridge()  # a dead child's: its calls are over
        ready_r, ready_w = os.pipe()
        ours, theirs = socket.socketpair()
        self._spawned_at = time.monotonic()
        env = dict(os.environ, **{BACKEND_ENV: self.backend, READY_FD_ENV: str(ready_w)})
        env[bridge.FD_ENV] = str(theirs.fileno())
        try:
            # NOTE: stdin is a pipe nobody writes to: its end-of-file tells the child this process is gone.
            self._proc = proc = subprocess.Popen(
                [sys.executable, "-m", "mistral.cmd.api_reader", *self.argv],
                stdin=subprocess.PIPE,
                env=env,
                pass_fds=(ready_w, theirs.fileno()),
            )
        except BaseException:
            ours.close()
            raise
        finally:
            os.close(ready_w)
            theirs.close()
        # NOTE: a thread for each of the reader's threads, so that no start queues here behind
        # another: with [api] api_workers (4), 50 starts at once had a POST p50 of 150-156 ms;
        # with 16, 125-130 ms (slow machine), the starts' share of the interpreter being larger.
        self._bridge = bridge.BridgeServer(
            ours, clients.call_wire, clients.cast_wire, workers=api_server.threads_for(())
        )
        self._bridge.start()
        if self.cpus:
            # NOTE: before the child starts a thread: Python's start-up alone takes far longer.
            cpus.set_for_process(proc.pid, self.cpus)
        try:
            return self._wait_ready(ready_r)
        finally:
            os.close(ready_r)

    def _wait_ready(self, ready_r: int) -> tuple[str, int]:
        proc = self._proc
        assert proc is not None
        readable, _, _ = select.select([ready_r], [], [], START_TIMEOUT)
        line = os.read(ready_r, 1024).decode() if readable else ""
        if not line:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            raise StartError(f"the API reader process ended (exit code {proc.returncode}) before listening")
        host, port = line.split()
        return host, int(port)

    def _watch(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stopping.is_set():
            proc = self._proc
            assert proc is not None
            code = proc.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - self._spawned_at > STABLE_AFTER:
                backoff = FIRST_BACKOFF
            LOG.error(
                "API reader process %d ended (exit code %s); starting another in %.0f s",
                proc.pid,
                code,
                backoff,
            )
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, MAX_BACKOFF)
            try:
                self.address = self._spawn()
            except (OSError, StartError) as error:
                LOG.error("API reader process could not start again: %s", error)
                continue
            LOG.info("API reader process listening again on http://%s:%s/v2", *self.address)
            if self._stopping.is_set():
                self.stop(MAX_BACKOFF)  # stop() came while this one was starting
