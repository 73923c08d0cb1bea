"""The taker: offers that arrive while a take is on its way share the next one; untaken ones never run."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from typing import Any

from mistral.executor.routing import EngineChoice, ResultRouter
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


def _offer(taker: Taker, *ids: str, engine: str | None = None) -> None:
    taker.offer({}, [ActionRequest(i, "std.noop", reply_to=engine) for i in ids])


def test_offers_made_during_a_take_share_the_next_one() -> None:
    calls: list[list[str]] = []
    first_call = threading.Event()
    release = threading.Event()

    def take(ids: list[str], executor: str, engine: str | None) -> list[str]:
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

    def take(ids: list[str], executor: str, engine: str | None) -> list[str]:
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
    taker = Taker(executor, "exec-a", lambda ids, host, engine: ids)  # type: ignore[arg-type]
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


class Engines:
    """Grants every take; records ``(engine, ids)`` per call, and the engines in ``silent`` never answer."""

    def __init__(self, *silent: str) -> None:
        self.silent = set(silent)
        self.calls: list[tuple[str | None, list[str]]] = []

    def __call__(self, ids: list[str], executor: str, engine: str | None) -> list[str]:
        self.calls.append((engine, list(ids)))
        if engine in self.silent:
            raise TimeoutError(f"{engine} did not answer")
        return ids


def _take_all(engines: Engines, offers: list[tuple[str, str | None]]) -> list[str]:
    executor = FakeExecutor()
    executor.expected = len(offers)
    taker = Taker(executor, "exec-a", engines, EngineChoice())  # type: ignore[arg-type]
    for action_ex_id, engine in offers:  # offered before the taker runs: one batch
        _offer(taker, action_ex_id, engine=engine)
    taker.start()
    assert executor.ran_all.wait(5)
    taker.stop()
    return sorted(executor.ran)


def test_each_action_is_taken_from_the_engine_that_sent_it() -> None:
    engines = Engines()
    ran = _take_all(engines, [("a1", "e1"), ("b1", "e2"), ("a2", "e1"), ("x", None)])
    assert ran == ["a1", "a2", "b1", "x"]
    assert sorted(engines.calls, key=str) == sorted(
        [("e1", ["a1", "a2"]), ("e2", ["b1"]), (None, ["x"])], key=str
    )


def test_a_silent_engine_s_actions_are_taken_from_any_engine_and_it_is_passed_over() -> None:
    engines = Engines("e1")
    executor = FakeExecutor()
    executor.expected = 2
    taker = Taker(executor, "exec-a", engines, EngineChoice())  # type: ignore[arg-type]
    taker.start()
    _offer(taker, "a1", engine="e1")
    while len(executor.ran) < 1:
        time.sleep(0.01)
    _offer(taker, "a2", engine="e1")
    assert executor.ran_all.wait(5)
    taker.stop()
    assert engines.calls == [("e1", ["a1"]), (None, ["a1"]), (None, ["a2"])]
    assert executor.ran == ["a1", "a2"]


def test_an_engine_silent_to_a_take_is_passed_over_for_results_too() -> None:
    choice = EngineChoice()
    executor = FakeExecutor()
    executor.expected = 1
    taker = Taker(executor, "exec-a", Engines("e1"), choice)  # type: ignore[arg-type]
    taker.start()
    _offer(taker, "a1", engine="e1")
    assert executor.ran_all.wait(5)  # taken from any engine once e1 was silent
    taker.stop()
    results: list[str | None] = []
    router = ResultRouter(lambda batch, engine: results.append(engine), choice)
    router([{"action_ex_id": "a1", "reply_to": "e1"}])
    assert results == [None]
