from __future__ import annotations

import time

import pytest
from mistral_lib.actions import Result
from mistral_lib.exceptions import ActionException

from mistral.actions import std


def test_noop_returns_none_and_is_sync() -> None:
    action = std.NoOpAction()
    assert action.run(None) is None
    assert action.is_sync() is True


def test_async_noop_is_not_sync() -> None:
    action = std.AsyncNoOpAction()
    assert action.run(None) is None
    assert action.is_sync() is False


@pytest.mark.parametrize("output", ["hi", {"a": [1, 2]}, None, 0])
def test_echo_returns_output(output: object) -> None:
    assert std.EchoAction(output).run(None) == output


def test_echo_waits_for_delay() -> None:
    start = time.monotonic()
    assert std.EchoAction("x", delay=0.2).run(None) == "x"
    assert time.monotonic() - start >= 0.2


def test_echo_negative_delay_is_no_delay() -> None:
    assert std.EchoAction("x", delay=-5).delay == 0.0


def test_fail_with_error_data_returns_error_result() -> None:
    result = std.FailAction(error_data={"code": 42}).run(None)
    assert isinstance(result, Result)
    assert result.is_error()
    assert result.error == {"code": 42}


def test_fail_without_error_data_raises() -> None:
    with pytest.raises(ActionException, match="std.fail"):
        std.FailAction().run(None)


def test_sleep_sleeps() -> None:
    start = time.monotonic()
    assert std.SleepAction(seconds=0.1).run(None) is None
    assert time.monotonic() - start >= 0.1


def test_sleep_rejects_non_number() -> None:
    with pytest.raises(ValueError):
        std.SleepAction(seconds="soon")


def test_test_dict() -> None:
    assert std.TestDictAction(size=3, key_prefix="k", val="v").run(None) == {"k0": "v", "k1": "v", "k2": "v"}
    assert std.TestDictAction().run(None) == {}


def test_test_dict_rejects_negative_size() -> None:
    with pytest.raises(ValueError, match="size"):
        std.TestDictAction(size=-1)
