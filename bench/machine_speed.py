"""How fast this machine's CPU runs Python, before and after a deployment's run: the yardstick of its figures.

NOTE (issue 14): the targets are for a quiet machine, and this one's speed moves from day to
day. The same tree gave with_items_input_10000 1.6 s on one day and 2.4 s on another, while
the pure-Python loop timed here took 0.37 s on the fastest day seen and 0.65 s on a slow one.
The notes quoted that loop by hand; recorded with every run, a figure can be read against it.
The loop runs in a process of its own, so no thread of the benchmark shares its interpreter.
"""

from __future__ import annotations

import subprocess
import sys

#: What is timed: the loop the issue notes quote.
LOOP = "sum(i * i for i in range(10**7))"
#: Times the loop runs; the fastest counts (the slower ones met another process on the CPU).
REPEATS = 3
#: Seconds the whole measurement may take before it is given up (a machine far too busy to judge).
TIMEOUT_S = 120.0

_PROGRAM = f"""
import time
best = None
for _ in range({REPEATS}):
    start = time.perf_counter()
    {LOOP}
    took = time.perf_counter() - start
    best = took if best is None else min(best, took)
print(best)
"""


def python_loop_s(python: str = sys.executable) -> float | None:
    """Seconds of the fastest of ``REPEATS`` runs of ``LOOP`` in a new ``python``; None if it failed."""
    try:
        done = subprocess.run(
            [python, "-c", _PROGRAM], capture_output=True, text=True, timeout=TIMEOUT_S, check=True
        )
        return round(float(done.stdout.strip()), 3)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def summary(before: float | None, after: float | None) -> str:
    """One line for the report: the loop's time before and after the run."""

    def shown(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds:.3f} s"

    return (
        f"machine speed: {LOOP} (fastest of {REPEATS}, a process of its own) "
        f"{shown(before)} before the run, {shown(after)} after; lower is faster"
    )
