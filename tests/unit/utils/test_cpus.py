"""A process kept to one CPU: all its threads, those it starts later, and children set free again.

Each case runs in a child interpreter: CPU affinity is the whole process's, and the test
process must keep every CPU it has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

needs_two_cpus = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="CPU affinity with two CPUs or more (Linux)",
)

KEEP_TO_ONE = textwrap.dedent(
    """
    import json, os, sys, threading
    from mistral.utils import children, cpus

    def threads():
        return {tid: sorted(os.sched_getaffinity(int(tid))) for tid in os.listdir("/proc/self/task")}

    started = threading.Event()
    before = threading.Thread(target=started.wait, daemon=True)
    before.start()
    left = cpus.keep_to_one()
    after = []
    later = threading.Thread(target=lambda: after.append(sorted(os.sched_getaffinity(0))))
    later.start()
    later.join()
    child = children.run(
        [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"], capture_output=True
    )
    print(json.dumps({
        "left": sorted(left),
        "threads": threads(),
        "started_later": after[0],
        "child": json.loads(child.stdout),
    }))
    """
)


def _run(script: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_two_cpus
def test_every_thread_keeps_to_one_cpu_and_a_child_gets_every_cpu_back() -> None:
    everything = sorted(os.sched_getaffinity(0))
    seen = _run(KEEP_TO_ONE)
    affinities = list(seen["threads"].values())
    assert len(affinities) >= 2  # the main thread and the one started before
    one = affinities[0]
    assert len(one) == 1 and all(a == one for a in affinities)
    assert seen["started_later"] == one
    assert sorted(seen["left"] + one) == everything
    assert seen["child"] == everything


@needs_two_cpus
def test_with_one_cpu_allowed_nothing_changes() -> None:
    only = min(os.sched_getaffinity(0))
    seen = _run(f"import os; os.sched_setaffinity(0, {{{only}}})\n" + KEEP_TO_ONE)
    assert seen["left"] == []
    assert seen["child"] == [only]
