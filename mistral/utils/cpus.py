"""Which CPUs a process's threads run on: the embedded server keeps its engine's process to one.

NOTE (issue 14): the threads of one interpreter take turns on its lock, so the engine's
process never runs Python on two CPUs at once, yet the kernel spreads its threads over
every CPU. Each hand-over between them (an API thread's start to the engine, the engine's
action to an executor thread, a result back) then wakes a thread on another CPU. On the
2-CPU virtual machine this project is measured on, a round trip between two threads cost
68 us of CPU spread over two CPUs and 13 us on one, and 50 concurrent 5-task executions on
the embedded server took 0.60 s with the engine's process on one CPU against 0.77 s spread.
The API's reader process, which answers the polls, gets the other CPUs; a child process that
runs an action gets every CPU the server started with (``release``).
"""

from __future__ import annotations

import logging
import os

LOG = logging.getLogger(__name__)

#: The CPUs this process could use before ``keep_to_one``; None while it has not kept to one.
_started_with: frozenset[int] | None = None


def keep_to_one() -> frozenset[int]:
    """Run every thread of this process, and every thread it starts, on the CPU it runs on now.

    Answers the CPUs it leaves to others: empty where nothing was changed (one CPU, or a
    platform without CPU affinity).
    """
    global _started_with
    if not hasattr(os, "sched_setaffinity"):
        return frozenset()
    cpus = frozenset(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return frozenset()
    here = _current_cpu()
    if here not in cpus:
        here = min(cpus)
    set_for_process(os.getpid(), frozenset({here}))
    _started_with = cpus
    LOG.info(
        "The threads of this process run on CPU %d; CPUs %s are left to others", here, _listed(cpus - {here})
    )
    return cpus - {here}


def set_for_process(pid: int, cpus: frozenset[int]) -> None:
    """Let every thread of process ``pid`` run on ``cpus`` only (threads it starts later inherit it)."""
    for tid in _threads_of(pid):
        try:
            os.sched_setaffinity(tid, cpus)
        except ProcessLookupError:
            pass  # the thread ended meanwhile


def release(pid: int) -> None:
    """Let a child process just started (``pid``) use every CPU this process started with."""
    if _started_with is not None:
        try:
            set_for_process(pid, _started_with)
        except OSError as error:  # the child may already be gone; it keeps the CPU it inherited
            LOG.debug("CPUs of child process %d left as they were: %s", pid, error)


def _threads_of(pid: int) -> list[int]:
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:
        return [pid]


def _current_cpu() -> int:
    # NOTE: field 39 of /proc/self/stat, counted after the command name, which may hold spaces.
    with open("/proc/self/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[36])


def _listed(cpus: frozenset[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))
