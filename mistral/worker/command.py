"""A handler that runs a command per item: the input as JSON on stdin, the result as JSON on stdout.

The command sees the item in its environment too (``MISTRAL_WORK_ITEM_ID``,
``MISTRAL_ACTION_EXECUTION_ID``, ``MISTRAL_WORK_ITEM_ATTEMPT``, ``MISTRAL_TASK_NAME``). A
non-zero exit or output that is not JSON fails the action with the exit code and stderr's end.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Sequence
from typing import Any

from mistral.worker.client import WorkItem
from mistral.worker.worker import Abandoned, WorkFailed

#: Seconds between two looks at whether the worker asks to give the item up.
POLL = 0.2
#: Characters of stderr kept in an error.
STDERR_TAIL = 2000


class CommandHandler:
    def __init__(self, argv: Sequence[str]) -> None:
        if not argv:
            raise ValueError("a command to run is needed")
        self.argv = list(argv)

    def __call__(self, item: WorkItem, abandon: threading.Event) -> Any:
        env = {
            **os.environ,
            "MISTRAL_WORK_ITEM_ID": item.id,
            "MISTRAL_ACTION_EXECUTION_ID": item.action_execution_id,
            "MISTRAL_WORK_ITEM_ATTEMPT": str(item.attempt),
            "MISTRAL_TASK_NAME": item.task_name or "",
        }
        proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        given: str | None = json.dumps(item.input)
        while True:
            try:
                out, err = proc.communicate(given, timeout=POLL)
                break
            except subprocess.TimeoutExpired:
                given = None  # NOTE: sent with the first call; a second call may not send it again
                if abandon.is_set():
                    _end(proc)
                    raise Abandoned() from None
        if proc.returncode != 0:
            raise WorkFailed({"error": f"exit code {proc.returncode}", "exit_code": proc.returncode,
                              "stderr": err[-STDERR_TAIL:]})  # fmt: skip
        try:
            return json.loads(out) if out.strip() else None
        except ValueError as error:
            raise WorkFailed(
                {"error": f"the command's output is not JSON: {error}", "stdout": out[:STDERR_TAIL]}
            ) from None


def _end(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
