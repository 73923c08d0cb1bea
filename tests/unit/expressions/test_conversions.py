"""yaql gets a large context value converted once per sharing scope, not once per evaluation."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Mapping
from typing import Any

import pytest
from yaql.language import utils as yaql_utils

from mistral import expressions
from mistral.expressions import conversions, yaql_fast


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every value our conversion was asked to convert, nested ones included (by identity)."""
    seen: list[Any] = []
    original = conversions._convert
    # NOTE: what is counted is the conversion for yaql, which the fast path for ``$.x * 3`` skips.
    monkeypatch.setattr(yaql_fast, "evaluate", lambda *_args: yaql_fast.MISS)

    def recording(value: Any) -> Any:
        seen.append(value)
        return original(value)

    monkeypatch.setattr(conversions, "_convert", recording)
    return seen


def _list_conversions(items: int, *, shared: bool, seen: list[Any]) -> int:
    """How often the list was converted in ``items`` evaluations (one item each) over a context holding it."""
    nums = list(range(items))
    with expressions.sharing_conversions() if shared else contextlib.nullcontext():
        for i in range(items):
            assert expressions.evaluate("<% $.x * 3 %>", {"nums": nums, "x": i}) == 3 * i
    return sum(1 for value in seen if value is nums)


def test_without_sharing_each_evaluation_converts_the_whole_list(converted: list[Any]) -> None:
    assert _list_conversions(200, shared=False, seen=converted) == 200


def test_sharing_converts_the_list_once_so_the_work_per_item_is_constant(converted: list[Any]) -> None:
    assert _list_conversions(100, shared=True, seen=converted) == 1
    assert _list_conversions(400, shared=True, seen=converted) == 1


JSON_VALUES = [
    None, True, 0, -1.5, "text", [], {}, [[]], [1, "a", None, 2.5, False],
    {"k": [1, {"n": (2, 3)}], "e": {}}, [{"id": i, "name": f"n{i}"} for i in range(40)], (1, ("x",)),
]  # fmt: skip
OTHER_VALUES = [b"ab", {1, 2}, [b"x", {3}], datetime.date(2020, 1, 2), {1: "a"}]


def _shape(value: Any) -> Any:
    """The value with the type of every container and leaf, to compare conversions exactly."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return (type(value), [_shape(v) for v in value])
    if isinstance(value, Mapping):
        return (type(value), {k: _shape(v) for k, v in value.items()})
    return (type(value), value)


@pytest.mark.parametrize("value", JSON_VALUES + OTHER_VALUES, ids=repr)
def test_our_conversion_gives_what_yaql_gives(value: Any) -> None:
    assert _shape(conversions._convert(value)) == _shape(yaql_utils.convert_input_data(value))


def test_a_value_replaced_inside_the_scope_is_seen_anew() -> None:
    with expressions.sharing_conversions():
        first = list(range(100))
        assert expressions.evaluate("<% $.l.len() %>", {"l": first}) == 100
        second = list(range(50))
        assert expressions.evaluate("<% $.l.len() %>", {"l": second}) == 50
        assert expressions.evaluate("<% $.l.sum() %>", {"l": first}) == sum(range(100))
