"""The taker: offers that arrive while a take is on its way share the next one; untaken ones never run."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from typing import Any

from mistral.executor.taker import Taker
from mistral.rpc.payloads import ActionRequest


class FakeExecutor:
    def __init__(self) -> None:
        self.ran: list[str] = []
        self.ran_all = threading.Event()
        self.expected = 0

    def run_actions(self, requests: list[dict[str, Any]]) -> None:
        self.ran += [r["action_ex_id"] for r in requests]
        if len(self.ran) >= self.expected:
            self.ran_all.set()


def _offer(taker: Taker, *ids: str) -> None:
    taker.offer({}, [ActionRequest(i, "std.noop") for i in ids])


def test_offers_made_during_a_take_share_the_next_one() -> None:
    calls: list[list[str]] = []
    first_call = threading.Event()
    release = threading.Event()

    def take(ids: list[str], executor: str) -> list[str]:
        calls.append(list(ids))
        first_call.set()
        release.wait(5)
        return ids

    executor = FakeExecutor()
    executor.expected = 4
    taker = Taker(executor, "exec-a", take)  # type: ignore[arg-type]
    taker.start()
    _offer(taker, "a")
    assert first_call.wait(5)
    _offer(taker, "b", "c")
    _offer(taker, "d", "b")  # b again: a duplicate delivery
    release.set()
    assert executor.ran_all.wait(5)
    taker.stop()
    assert calls == [["a"], ["b", "c", "d"]]
    assert sorted(executor.ran) == ["a", "b", "c", "d"]


def test_nothing_runs_when_the_take_fails_or_is_refused() -> None:
    answers: list[Any] = [RuntimeError("no engine"), ["y"]]
    done = threading.Event()

    def take(ids: list[str], executor: str) -> list[str]:
        answer = answers.pop(0)
        if not answers:
            done.set()
        if isinstance(answer, Exception):
            raise answer
        return answer

    executor = FakeExecutor()
    taker = Taker(executor, "exec-a", take)  # type: ignore[arg-type]
    taker.start()
    _offer(taker, "x")
    while len(answers) == 2:  # the first take is on its way
        threading.Event().wait(0.01)
    _offer(taker, "y", "z")
    assert done.wait(5)
    taker.stop()  # joins the thread: the second take has been handled
    assert executor.ran == ["y"]


def test_a_batch_that_ran_is_not_kept_while_the_taker_waits() -> None:
    # NOTE: a with-items of thousands hands over batches of up to MAX_TAKE requests with their input;
    # the last one must not stay referenced by the idle taker until the next offer comes.
    executor = FakeExecutor()
    executor.expected = 2
    taker = Taker(executor, "exec-a", lambda ids, host: ids)  # type: ignore[arg-type]
    taker.start()
    requests = [ActionRequest("a", "std.noop"), ActionRequest("b", "std.noop")]
    refs = [weakref.ref(r) for r in requests]
    taker.offer({}, requests)
    del requests
    assert executor.ran_all.wait(5)
    deadline = time.monotonic() + 5
    while any(ref() is not None for ref in refs) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    alive = [ref() for ref in refs if ref() is not None]
    taker.stop()
    assert alive == []
