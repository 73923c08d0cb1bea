"""Running untrusted work in a child Python process that answers one JSON document on stdout.

Shared by std.javascript and dynamic actions: the child (``python -m <module>``) reads its
request on stdin, applies its own limits and prints its answer; the parent kills a child
that outlives the time limit by more than ``STARTUP_GRACE``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from mistral.utils import children

#: Seconds a child gets beyond its time limit to start and answer before it is killed.
STARTUP_GRACE = 5.0


def run(
    module: str, request: str, time_limit: float, *, env: Mapping[str, str] | None = None
) -> tuple[dict[str, Any] | None, subprocess.CompletedProcess[str]]:
    """The child's JSON answer (None when it gave none) and the finished process.

    Raises ``subprocess.TimeoutExpired`` when the child was killed for running too long.
    """
    done = children.run(
        [sys.executable, "-m", module],
        input=request,
        capture_output=True,
        timeout=time_limit + STARTUP_GRACE,
        env=env,
    )
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        return None, done
    return (answer if isinstance(answer, dict) else None), done


def exit_cause(returncode: int) -> str:
    """How a child ended, in words: its exit code or the signal's name."""
    if returncode >= 0:
        return f"code {returncode}"
    try:
        return f"signal {signal.Signals(-returncode).name}"
    except ValueError:
        return f"signal {-returncode}"
