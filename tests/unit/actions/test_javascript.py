from __future__ import annotations

import builtins
import time
from collections.abc import Iterator

import pytest
from mistral_lib.exceptions import ActionException

from mistral.actions.javascript import JavaScriptAction
from mistral.config import CONF

try:
    import py_mini_racer  # noqa: F401

    HAVE_V8 = True
except ImportError:
    HAVE_V8 = False

v8 = pytest.mark.skipif(not HAVE_V8, reason="py_mini_racer (package mini-racer) is not installed")


@v8
def test_script_sees_context_as_dollar() -> None:
    action = JavaScriptAction("return $.items.map(x => x * $.factor)", context={"items": [1, 2], "factor": 3})
    assert action.run(None) == [3, 6]


@v8
def test_objects_come_back_as_dicts() -> None:
    assert JavaScriptAction("return {a: [1, 'b'], c: null}").run(None) == {"a": [1, "b"], "c": None}


@v8
def test_no_return_gives_none() -> None:
    assert JavaScriptAction("var x = 1;").run(None) is None


@v8
def test_script_error_raises_action_exception() -> None:
    with pytest.raises(ActionException, match="boom"):
        JavaScriptAction("throw new Error('boom')").run(None)


@v8
def test_syntax_error_raises_action_exception() -> None:
    with pytest.raises(ActionException, match="SyntaxError"):
        JavaScriptAction("return 1 +").run(None)


def test_missing_engine_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_v8(name: str, *args: object, **kwargs: object) -> object:
        if name == "py_mini_racer":
            raise ImportError("No module named 'py_mini_racer'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_v8)
    with pytest.raises(ActionException, match="py_mini_racer.*mini-racer"):
        JavaScriptAction("return 1").run(None)


@pytest.fixture
def small_limits() -> Iterator[None]:
    CONF.set_override("timeout", 1.0, group="action_javascript")
    CONF.set_override("max_memory_mb", 64, group="action_javascript")
    yield
    CONF.clear_override("timeout", group="action_javascript")
    CONF.clear_override("max_memory_mb", group="action_javascript")


@v8
def test_an_endless_loop_is_stopped_at_the_time_limit(small_limits: None) -> None:
    started = time.monotonic()
    with pytest.raises(ActionException, match=r"longer than the \[action_javascript\] timeout of 1\.0 s"):
        JavaScriptAction("while (true) {}").run(None)
    assert time.monotonic() - started < 10
    assert JavaScriptAction("return 2").run(None) == 2


@v8
def test_an_allocation_bomb_is_stopped_at_the_memory_limit(small_limits: None) -> None:
    # Time enough that only the memory limit can stop it, on a loaded machine too.
    CONF.set_override("timeout", 30.0, group="action_javascript")
    bomb = "var a = []; while (true) { a.push(new Array(100000).fill(1)); }"
    with pytest.raises(ActionException, match=r"more than the \[action_javascript\] max_memory_mb of 64 MiB"):
        JavaScriptAction(bomb).run(None)
    assert JavaScriptAction("return 3").run(None) == 3


@v8
def test_a_v8_fatal_out_of_memory_fails_the_action_not_the_process(small_limits: None) -> None:
    # V8 aborts its process on this one whatever the heap limit: it must not be ours.
    with pytest.raises(ActionException, match=r"\[action_javascript\] (max_memory_mb|timeout)"):
        JavaScriptAction("new Array(3e8).fill(1.5); return 1").run(None)
    assert JavaScriptAction("return 4").run(None) == 4
