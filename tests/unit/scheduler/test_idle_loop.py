"""The background loop looks less often while nothing is due, and wakes for the jobs of its own process."""

from __future__ import annotations

import threading
import time

import pytest

from mistral.scheduler import jobs
from mistral.scheduler.scheduler import Scheduler

pytestmark = pytest.mark.usefixtures("db")


class CountingScheduler(Scheduler):
    def __init__(self) -> None:
        super().__init__()
        self.looks = 0

    def run_once(self) -> int:
        self.looks += 1
        return super().run_once()


def test_an_idle_loop_looks_less_and_less_often(set_conf) -> None:
    set_conf("fixed_delay", 0.01)
    set_conf("idle_delay", 0.16)
    sched = CountingScheduler()
    sched.start()
    try:
        time.sleep(1.0)
    finally:
        sched.stop(timeout=10)
    # NOTE: every 10 ms would be ~100 looks; doubling to 160 ms gives ~10
    assert 4 <= sched.looks <= 20, sched.looks


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_a_job_of_this_process_runs_when_due_not_after_the_idle_pause(register, set_conf, delay) -> None:
    set_conf("fixed_delay", 0.01)
    set_conf("idle_delay", 30)
    ran = threading.Event()
    register("t.idle_wake", lambda: ran.set())
    sched = CountingScheduler()
    sched.start()
    try:
        time.sleep(1.3)  # NOTE: the pause has doubled from 10 ms to about 1.3 s by now
        scheduled = time.monotonic()
        jobs.schedule("t.idle_wake", delay=delay)
        assert ran.wait(10)
        took = time.monotonic() - scheduled
    finally:
        sched.stop(timeout=10)
    assert delay <= took < delay + 0.5, took


def test_stop_ends_a_long_idle_pause_at_once(set_conf) -> None:
    set_conf("fixed_delay", 0.01)
    set_conf("idle_delay", 30)
    sched = Scheduler()
    sched.start()
    time.sleep(0.3)
    started = time.monotonic()
    sched.stop(timeout=10)
    assert time.monotonic() - started < 2.0
