"""ResultRouter: a result goes back to the engine that sent its action.

When that engine is silent, any engine gets it.
"""

from __future__ import annotations

from typing import Any

import pytest

from mistral.executor.routing import EngineChoice, ResultRouter


class Engines:
    """Records deliveries; the engines named in ``silent`` never confirm."""

    def __init__(self, *silent: str) -> None:
        self.silent = set(silent)
        self.calls: list[tuple[str | None, list[str]]] = []

    def __call__(self, results: list[dict[str, Any]], engine: str | None) -> None:
        self.calls.append((engine, [r["action_ex_id"] for r in results]))
        if engine in self.silent:
            raise TimeoutError(f"{engine} did not answer")


def result(action_ex_id: str, engine: str | None = None) -> dict[str, Any]:
    return {"action_ex_id": action_ex_id, "data": 1, **({"reply_to": engine} if engine else {})}


def test_each_result_goes_to_the_engine_that_sent_its_action() -> None:
    engines = Engines()
    ResultRouter(engines, EngineChoice())(
        [result("a1", "e1"), result("b1", "e2"), result("a2", "e1"), result("x")]
    )
    assert sorted(engines.calls, key=str) == sorted(
        [("e1", ["a1", "a2"]), ("e2", ["b1"]), (None, ["x"])], key=str
    )


def test_results_of_a_silent_engine_go_to_any_engine_and_it_is_passed_over_for_a_while() -> None:
    engines = Engines("e1")
    router = ResultRouter(engines, EngineChoice(silent_for=60))
    router([result("a1", "e1")])
    router([result("a2", "e1")])
    assert engines.calls == [("e1", ["a1"]), (None, ["a1"]), (None, ["a2"])]


def test_a_silent_engine_is_asked_again_after_a_while() -> None:
    engines = Engines("e1")
    router = ResultRouter(engines, EngineChoice(silent_for=0))
    router([result("a1", "e1")])
    engines.silent.clear()
    router([result("a2", "e1")])
    assert engines.calls == [("e1", ["a1"]), (None, ["a1"]), ("e1", ["a2"])]


def test_results_no_engine_confirmed_raise_so_the_batcher_keeps_them() -> None:
    engines = Engines("e1", None)  # type: ignore[arg-type]
    with pytest.raises(TimeoutError):
        ResultRouter(engines, EngineChoice())([result("a1", "e1")])
