"""Pause, resume and cancel reaching sub-workflows: written as jobs, so a crash loses none.

The job is written in the transaction that paused, resumed or stopped the
parent, so it exists exactly when that change does; any engine's scheduler
runs it moments later, and again after a crash until it has run once.
"""

from __future__ import annotations

from typing import Any

from mistral.scheduler import jobs

JOB = "engine.cascade"
OPERATIONS = ("pause", "resume", "cancel")


def schedule(operation: str, wf_ex_id: str, argument: Any = None) -> None:
    """Apply ``operation`` to the execution ``wf_ex_id`` once the current transaction commits."""
    if operation not in OPERATIONS:
        raise ValueError(f"Unknown cascade operation {operation!r}")
    jobs.schedule(JOB, func_args={"operation": operation, "wf_ex_id": wf_ex_id, "argument": argument})
