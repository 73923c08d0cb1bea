from __future__ import annotations

import builtins

import pytest
from mistral_lib.exceptions import ActionException

from mistral.actions.javascript import JavaScriptAction

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
