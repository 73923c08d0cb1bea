"""yaql gets a large context value converted once per sharing scope, not once per evaluation."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from yaql.language import utils as yaql_utils

from mistral import expressions
from mistral.expressions import yaql_fast


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many values (nested ones included) yaql's input conversion visited."""
    visits = [0]
    original = yaql_utils.convert_input_data
    # NOTE: what is counted is yaql's own conversion, which the fast path for ``$.x * 3`` skips.
    monkeypatch.setattr(yaql_fast, "evaluate", lambda *_args: yaql_fast.MISS)

    def counting(obj: Any, rec: Any = None) -> Any:
        visits[0] += 1
        return original(obj, rec)

    monkeypatch.setattr(yaql_utils, "convert_input_data", counting)
    return visits


def _per_item(items: int, *, shared: bool, visits: list[int]) -> int:
    """Values converted for ``items`` evaluations of one item each over a context holding them all."""
    nums = list(range(items))
    before = visits[0]
    with expressions.sharing_conversions() if shared else contextlib.nullcontext():
        for i in range(items):
            assert expressions.evaluate("<% $.x * 3 %>", {"nums": nums, "x": i}) == 3 * i
    return visits[0] - before


def test_without_sharing_each_evaluation_converts_the_whole_list(converted: list[int]) -> None:
    assert _per_item(200, shared=False, visits=converted) > 200 * 200


def test_sharing_converts_the_list_once_so_the_work_per_item_is_constant(converted: list[int]) -> None:
    small, large = (
        _per_item(100, shared=True, visits=converted),
        _per_item(400, shared=True, visits=converted),
    )
    # NOTE: linear: four times the items, four times the work (quadratic would be sixteen).
    assert large <= 4 * small + 10


def test_a_value_replaced_inside_the_scope_is_seen_anew() -> None:
    with expressions.sharing_conversions():
        first = list(range(100))
        assert expressions.evaluate("<% $.l.len() %>", {"l": first}) == 100
        second = list(range(50))
        assert expressions.evaluate("<% $.l.len() %>", {"l": second}) == 50
        assert expressions.evaluate("<% $.l.sum() %>", {"l": first}) == sum(range(100))
