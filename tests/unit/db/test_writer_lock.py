"""The SQLite writer slot of one process: urgent holders first, but never for ever."""

from __future__ import annotations

import threading
import time

from mistral.db import writer_lock
from mistral.db.writer_lock import WriterLock


def _queue(lock: WriterLock, urgent: bool, name: str, order: list[str]) -> threading.Thread:
    def take() -> None:
        with lock.held(urgent=urgent):
            order.append(name)

    thread = threading.Thread(target=take)
    thread.start()
    return thread


def _wait_for_waiters(lock: WriterLock, urgent: int, regular: int) -> None:
    deadline = time.monotonic() + 5
    while (lock._urgent_waiting, lock._regular_waiting) != (urgent, regular):
        assert time.monotonic() < deadline, "the threads did not queue"
        time.sleep(0.001)


def test_an_urgent_holder_goes_before_regular_ones_queued_earlier() -> None:
    lock, order = WriterLock(), []
    with lock.held():
        threads = [_queue(lock, False, "regular", order)]
        _wait_for_waiters(lock, 0, 1)
        threads.append(_queue(lock, True, "urgent", order))
        _wait_for_waiters(lock, 1, 1)
    for thread in threads:
        thread.join(5)
    assert order == ["urgent", "regular"]


def test_a_regular_holder_gets_its_turn_after_a_streak_of_urgent_ones() -> None:
    lock, order = WriterLock(), []
    many = writer_lock.URGENT_STREAK + 3
    with lock.held():
        threads = [_queue(lock, False, "regular", order)]
        _wait_for_waiters(lock, 0, 1)
        for i in range(many):
            threads.append(_queue(lock, True, f"urgent {i}", order))
        _wait_for_waiters(lock, many, 1)
    for thread in threads:
        thread.join(5)
    assert len(order) == many + 1
    assert order.index("regular") == writer_lock.URGENT_STREAK


def test_urgent_holders_go_on_without_limit_when_nobody_else_waits() -> None:
    lock, order = WriterLock(), []
    many = 2 * writer_lock.URGENT_STREAK
    with lock.held():
        threads = [_queue(lock, True, f"urgent {i}", order) for i in range(many)]
        _wait_for_waiters(lock, many, 0)
    for thread in threads:
        thread.join(5)
    assert len(order) == many


def test_the_holder_may_take_it_again() -> None:
    lock = WriterLock()
    with lock.held(), lock.held(urgent=True):
        assert lock._depth == 2
    assert lock._owner is None
