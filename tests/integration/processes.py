"""Real ``mistral-server`` processes for the integration tests: start, watch, stop, show their logs."""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from typing import Any

BIN = pathlib.Path(sys.executable).parent
MISTRAL_SERVER = str(BIN / "mistral-server")
MISTRAL_DB_MANAGE = str(BIN / "mistral-db-manage")
MISTRAL_CLI = str(BIN / "mistral")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tcp_reachable(host: str, port: int, timeout: float = 3.0) -> None:
    """Raise OSError when nothing listens on ``host:port``."""
    with socket.create_connection((host, port), timeout=timeout):
        pass


def write_config(path: pathlib.Path, sections: dict[str, dict[str, Any]]) -> pathlib.Path:
    lines = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in options.items())
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def migrate(config: pathlib.Path) -> None:
    """``mistral-db-manage upgrade head`` on the database ``config`` names."""
    result = subprocess.run(
        [MISTRAL_DB_MANAGE, "--config-file", str(config), "upgrade", "head"],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
    )
    assert result.returncode == 0, f"mistral-db-manage upgrade head failed:\n{result.stderr}{result.stdout}"


def clean_env() -> dict[str, str]:
    """This environment without OpenStack credentials (the CLI must use --os-mistral-url only)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OS_")}


class Process:
    """One ``mistral-server`` process writing to its own log file."""

    def __init__(self, name: str, argv: list[str], log: pathlib.Path, cwd: pathlib.Path) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self.cwd = cwd
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            out.write(f"\n===== starting {' '.join(self.argv)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd,
                env=clean_env(),
                start_new_session=True,
            )

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def check_alive(self) -> None:
        if self.popen is not None and self.popen.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}")

    def logged(self, text: str) -> bool:
        return self.log.exists() and text in self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the process dies without any goodbye (a crashed host)."""
        if self.alive:
            assert self.popen is not None
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def terminate(self) -> None:
        if self.alive:
            assert self.popen is not None
            self.popen.send_signal(signal.SIGTERM)

    def reap(self, deadline: float) -> None:
        """Wait for the end of a terminated process until ``deadline``, then SIGKILL it."""
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            self.popen.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return f"--- {self.name}: no log\n"
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.name} ({self.log}):\n" + "\n".join(text) + "\n"


def stop_all(processes: Iterable[Process], timeout: float = 10.0) -> None:
    """SIGTERM every process at once, wait up to ``timeout`` seconds, SIGKILL what is left."""
    processes = list(processes)
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        process.reap(deadline)
