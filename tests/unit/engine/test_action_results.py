"""One result, one outcome: the decision shared by a task's action and an action run through the API."""

from __future__ import annotations

from typing import Any

import pytest

from mistral.engine import action_results


def test_data_succeeds_and_marks_the_result_applied() -> None:
    out = action_results.outcome({"data": {"x": 1}}, [])
    assert (out.state, out.value) == ("SUCCESS", {"x": 1})
    assert out.columns == {"state": "SUCCESS", "output": {"result": {"x": 1}}, "result_applied": True}


def test_an_error_fails_with_its_text_as_state_info() -> None:
    out = action_results.outcome({"error": "boom", "data": 1}, [])
    assert (out.state, out.value, out.columns["state_info"]) == ("ERROR", "boom", "boom")


def test_an_error_that_is_not_text_is_shown_as_json() -> None:
    out = action_results.outcome({"error": {"code": 7}}, [])
    assert out.value == {"code": 7}
    assert out.columns["state_info"] == '{"code": 7}'


def test_a_none_error_is_no_error() -> None:
    assert action_results.outcome({"error": None, "data": 2}, []).state == "SUCCESS"


def test_cancel_wins_and_has_no_value() -> None:
    out = action_results.outcome({"cancel": True, "error": "x"}, [])
    assert (out.state, out.value) == ("CANCELLED", None)
    assert "state_info" not in out.columns


def test_the_executor_is_recorded_when_told() -> None:
    assert action_results.outcome({"data": 1, "executor": "host-1"}, []).columns["executor_host"] == "host-1"
    assert "executor_host" not in action_results.outcome({"data": 1}, []).columns


def test_output_transforms_apply_to_data_only() -> None:
    out = action_results.outcome({"data": {"x": 2}}, ["<% $.x %>"])
    assert (out.state, out.value) == ("SUCCESS", 2)
    assert action_results.outcome({"error": "e"}, ["<% $.x %>"]).value == "e"


def test_a_failing_transform_fails_the_action_with_a_message() -> None:
    out = action_results.outcome({"data": 1}, ["<% $.x.y %>"])
    assert out.state == "ERROR"
    assert out.value.startswith("Failed to evaluate the action output:")
    assert out.columns["state_info"] == out.value


@pytest.mark.parametrize("result", [{"data": "x" * 3000}, {"error": "x" * 3000}])
def test_an_oversized_value_is_dropped_for_a_message(result: dict[str, Any], override_conf: Any) -> None:
    override_conf("engine", "execution_field_size_limit_kb", 1)
    out = action_results.outcome(result, [])
    assert out.state == "ERROR"
    assert out.value.startswith("Field size limit exceeded [field=action result")
    assert out.columns["output"] == {"result": out.value}


@pytest.mark.parametrize(
    ("value", "oversized"),
    [
        (7, False),
        (True, False),
        (1.5e300, False),
        ("é" * 80, False),  # 480 bytes once escaped: the bound, 962, is over the limit, the size is not
        ("x" * 1023, True),  # 1025 bytes with its quotes
        ("\U0001f600" * 100, True),  # 1202 bytes: two escapes per character
        (10**1100, True),
        (-(10**1022), False),  # 1024 bytes with its sign: the bound is over the limit, the size is not
        (-(10**1023), True),
        ([1] * 400, True),
        ({"output": 14970, "list": [None, 1.5, True]}, False),
        ({"k": ["x" * 1010]}, False),  # 1021 bytes
        ({"k": ["x" * 1020]}, True),  # 1031 bytes
        ({"é": ["é" * 80, {"é": "é"}]}, False),  # the bound is over the limit, the size is not
        ([{"a": 1}] * 200, True),  # 2000 bytes, more values than are measured without encoding
        ([{"a": 1}] * 20, False),
        ([[[[[[["x" * 1030]]]]]]], True),
        ({1: "x" * 1000}, False),  # {"1": "x..."}: 1009 bytes
        ({1: "x" * 1020}, True),
    ],
)
def test_a_value_is_measured_as_its_json(value: Any, oversized: bool, override_conf: Any) -> None:
    override_conf("engine", "execution_field_size_limit_kb", 1)
    assert (action_results.outcome({"data": value}, []).state == "ERROR") is oversized
