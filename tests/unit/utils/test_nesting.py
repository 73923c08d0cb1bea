"""The nesting bound: checked without recursion, named in every refusal."""

from __future__ import annotations

import pytest

from mistral.exceptions import ExpressionError
from mistral.expressions import evaluator
from mistral.utils import nesting

LIMIT = nesting.MAX_DEPTH


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("value", [None, 1, "x", {}, [], {"a": [1, {"b": 2}]}, _nested(LIMIT)])
def test_shallow_data_passes(value: object) -> None:
    nesting.check_depth(value)


@pytest.mark.parametrize("value", [_nested(LIMIT + 1), {"a": _nested(LIMIT)}, _nested(100_000)])
def test_deep_data_is_refused(value: object) -> None:
    with pytest.raises(nesting.TooDeepError, match=f"nested deeper than {LIMIT} levels"):
        nesting.check_depth(value)


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "[" * (LIMIT + 1) + "]" * (LIMIT + 1)])
def test_loads_json_refuses_deep_text(text: str) -> None:
    with pytest.raises(ValueError, match=f"nested deeper than {LIMIT} levels"):
        nesting.loads_json(text)


def test_json_parse_names_the_limit() -> None:
    assert evaluator.evaluate("<% json_parse($.t) %>", {"t": "[[1]]"}) == [[1]]
    with pytest.raises(ExpressionError, match="json_parse\\(\\): the JSON is nested deeper than"):
        evaluator.evaluate("<% json_parse($.t) %>", {"t": "[" * 100_000 + "]" * 100_000})


@pytest.mark.parametrize("text", ['{"a": "' + "[" * 1000 + '"}', b'{"a": "' + b"{" * 1000 + b'"}'])
def test_brackets_inside_strings_do_not_make_text_deep(text: str | bytes) -> None:
    assert len(nesting.loads_json(text)["a"]) == 1000


@pytest.mark.parametrize(
    "deep", ["[" * (LIMIT + 1) + "]" * (LIMIT + 1), '{"a":' * (LIMIT + 1) + "1" + "}" * (LIMIT + 1)]
)
def test_loads_json_refuses_deep_bytes_and_objects(deep: str) -> None:
    for text in (deep, deep.encode()):
        with pytest.raises(ValueError, match=f"nested deeper than {LIMIT} levels"):
            nesting.loads_json(text)


def test_text_exactly_at_the_limit_is_read() -> None:
    assert nesting.loads_json("[" * LIMIT + "]" * LIMIT) == _nested(LIMIT)
