"""The taker: offers that arrive while a take is on its way share the next one; untaken ones never run."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from typing import Any

import pytest

from mistral.executor import taker as taker_module
from mistral.executor.routing import EngineChoice, ResultRouter
from mistral.executor.taker import Taker
from mistral.rpc.payloads import ActionRequest


class FakeExecutor:
    def __init__(self) -> None:
        self.ran: list[str] = []
        self.ran_all = threading.Event()
        self.expected = 0
        self.given_back: list[str] = []

    def run_actions(self, requests: list[dict[str, Any]]) -> None:
        self.ran += [r["action_ex_id"] for r in requests]
        if len(self.ran) >= self.expected:
            self.ran_all.set()

    def never_started(self, action_ex_ids: list[str]) -> None:
        self.given_back += action_ex_ids


class _Request(dict):
    """A request off the wire that a weak reference can follow (a plain dict cannot)."""


def _offer(taker: Taker, *ids: str, engine: str | None = None) -> None:
    taker.offer({}, [ActionRequest(i, "std.noop", reply_to=engine).to_dict() for i in ids])


def test_offers_made_during_a_take_share_the_next_one() -> None:
    calls: list[list[str]] = []
    first_call = threading.Event()
    release = threading.Event()

    def take(ids: list[str], executor: str, engine: str | None, again: list[str]) -> list[str]:
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

    def take(ids: list[str], executor: str, engine: str | None, again: list[str]) -> list[str]:
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
    taker = Taker(executor, "exec-a", lambda ids, host, engine, again: ids)  # type: ignore[arg-type]
    taker.start()
    requests = [_Request(ActionRequest(i, "std.noop").to_dict()) for i in ("a", "b")]
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
        self.asked_again: list[list[str]] = []

    def __call__(self, ids: list[str], executor: str, engine: str | None, again: list[str]) -> list[str]:
        self.calls.append((engine, list(ids)))
        self.asked_again.append(list(again))
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
    assert engines.asked_again == [[], ["a1"], []]  # e1 may have recorded the take it never answered
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


class LateEngine:
    """Records takes as the database would; ``lost`` answers are dropped after the take was recorded."""

    def __init__(self, lost: int = 0, recorded: bool = True) -> None:
        self.taken: dict[str, str] = {}  # action id -> executor
        self.reported: set[str] = set()
        self.lost, self.recorded = lost, recorded
        self.calls: list[tuple[list[str], list[str]]] = []

    def __call__(self, ids: list[str], executor: str, engine: str | None, again: list[str]) -> list[str]:
        self.calls.append((list(ids), list(again)))
        granted = [
            i
            for i in ids
            if i not in self.taken or (i in again and self.taken[i] == executor and i not in self.reported)
        ]
        if self.recorded or not self.lost:
            self.taken.update((i, executor) for i in granted)
        if self.lost:
            self.lost -= 1
            raise TimeoutError("no answer in time")
        return granted


@pytest.fixture
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(taker_module, "RETRY_DELAY_S", 0.05)


def _wait_for(check: Any, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(check())


@pytest.mark.usefixtures("quick_retry")
def test_a_take_recorded_but_never_answered_is_asked_again_and_runs_once() -> None:
    engine = LateEngine(lost=2)  # the first take and its first retry are recorded, their answers lost
    executor = FakeExecutor()
    executor.expected = 1
    taker = Taker(executor, "exec-a", engine)  # type: ignore[arg-type]
    taker.start()
    _offer(taker, "a")
    assert executor.ran_all.wait(5)
    time.sleep(0.2)  # time for a wrong extra retry
    _offer(taker, "a")  # a late copy of the same request
    assert _wait_for(lambda: len(engine.calls) == 4)
    taker.stop()
    assert executor.ran == ["a"]
    assert engine.calls == [(["a"], []), (["a"], ["a"]), (["a"], ["a"]), (["a"], [])]
    assert executor.given_back == []


@pytest.mark.usefixtures("quick_retry")
def test_a_take_asked_again_that_another_executor_made_is_refused_and_dropped() -> None:
    engine = LateEngine(lost=1, recorded=False)
    executor = FakeExecutor()
    taker = Taker(executor, "exec-a", engine)  # type: ignore[arg-type]
    taker.start()
    _offer(taker, "a")
    assert _wait_for(lambda: len(engine.calls) == 1)
    engine.taken["a"] = "exec-b"  # sent again by the engine's recovery and taken elsewhere meanwhile
    assert _wait_for(lambda: len(engine.calls) == 2)
    time.sleep(0.3)
    taker.stop()
    assert executor.ran == []
    assert engine.calls == [(["a"], []), (["a"], ["a"])]
    assert executor.given_back == []


def test_takes_without_an_answer_at_stop_are_given_back() -> None:
    engine = LateEngine(lost=99)
    executor = FakeExecutor()
    taker = Taker(executor, "exec-a", engine)  # type: ignore[arg-type]
    taker.start()
    _offer(taker, "a", "b")
    assert _wait_for(lambda: len(engine.calls) == 1)
    taker.stop()
    assert executor.ran == []
    assert sorted(executor.given_back) == ["a", "b"]
