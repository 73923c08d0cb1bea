"""The fast path gives exactly yaql's value wherever it answers, and answers the common shapes.

The differential test evaluates every expression over every context both ways:
where the fast path answers, yaql must give an equal value of the same types
(errors included: the fast path must then stay out of the way).
"""

import itertools
from typing import Any

import pytest

from mistral.expressions import ExpressionFunctions, yaql_expr, yaql_fast

VALUES: list[Any] = [
    0,
    1,
    -7,
    2.5,
    0.0,
    True,
    False,
    None,
    "",
    "str",
    "z",
    [],
    [1, 2],
    {},
    {"x": 1},
    [{"x": 1}, {"x": 2}],
    2**63,
    -(2**63),
    2**70,
    1e308,
    (1, 2),
    {1: "k"},
    {"x": {"y": [1]}},
]
NAMES = ["a", "b", "and", "or", "not", "in", "is", "mod", "true", "null", "_x", "__x", "A1"]

CONTEXTS: list[Any] = [
    {"a": a, "b": b} for a, b in itertools.product(VALUES, [1, 2.5, "str", None, True, {"c": 3}, [4]])
]
CONTEXTS += [
    {},
    {"a": {"b": {"c": 1}}},
    {"a": {"b": None}},
    {"a": [{"b": 1}]},
    {name: 5 for name in NAMES},
    {"x": {"id": 1, "name": "n1", "size": 3}, "a": "it's", "b": 'say "hi"'},
    {"a": 2**62, "b": 2**62},
    {"a": -(2**62), "b": 3},
    {"a": "x" * 40000, "b": "y" * 30000},
    {"a": 1e308, "b": -1e308},
    {"a": 10**5000, "b": 1},
    [1, 2],
    "text",
    None,
    7,
]

OPERANDS = [
    "$.a",
    "$.b",
    "$.a.b",
    "$.a.b.c",
    "$.missing",
    "1",
    "3",
    "01",
    "2.5",
    "'str'",
    '"z"',
    "''",
    "true",
    "false",
    "null",
    "task().result",
    "task().name",
    "task().missing",
]
OPERATORS = ["+", "-", "*", "=", "!=", "<", "<=", ">", ">="]

#: Several operators, parentheses, str(): precedence, associativity and each operand type.
COMPOUND = [
    *(f"str({operand})" for operand in OPERANDS),
    *(f"$.a {op1} $.b {op2} 2" for op1 in OPERATORS for op2 in OPERATORS),
    *(f"($.a {op1} 2) {op2} $.b" for op1 in OPERATORS for op2 in OPERATORS),
    *(f"2 {op1} ($.b {op2} $.a)" for op1 in OPERATORS for op2 in OPERATORS),
    "$.x.name + ':' + str($.x.size * 2)",
    "'k:' + str($.a * 2)",
    "str($.a) + str($.b)",
    "str($.a + $.b)",
    "str(str($.a))",
    "str($.a = $.b)",
    "str($.a * $.a)",
    "str($.a * $.a * $.a)",
    "$.a * $.a * $.a",
    "$.a * 9223372036854775807",
    "$.a + 9223372036854775808",
    "$.a + 99999999999999999999999999999999999",
    "2 * 3 - 4 * 5 + 6 < 7 = true",
    "$.a < $.b = $.b > $.a",
    "1 < 2 < 3",
    "$.a + $.b + $.a + $.b",
    "$.a + 'x' + $.b",
    "$.a+$.b*2",
    "($.a)",
    "((($.a + 1)))",
    "(" * 30 + "$.a" + ")" * 30,
    " + ".join(["$.a"] * 32),
    " + ".join(["$.a"] * 33),
    "1",
    "'s'",
    "null",
    "2.50",
    "007 + $.a",
    "str ($.a)",
    "str($.a, 1)",
    "str()",
    "str(",
    "str($.a",
    "()",
    "($.a",
    "$.a)",
    "$.a +",
    "+ $.a",
    "$.a = = 1",
    "$.a * -1",
    "$.a + +1",
    "-$.a + 1",
    "1.5.2 + $.a",
    "1. + $.a",
    "$.a + 1e3",
    "$.a $.b",
    "'a' 'b'",
    "`s` + $.a",
    "'a\\'b' + $.a",
    "'\\n' + $.a",
    "$.a.len() + 1",
    "$.a + $.b.c",
    "$.a + task().result",
    "task().result + task().name",
    "$.a + task()",
    "$.a -> 1",
    "$.a != null",
    "$.a + true",
    "$.a+1\t* 2",
    "$.a + 1\f",
    "not $.a = 1",
    "$.a = 1 and $.b = 1",
    "$.a in $.b",
    "$.a mod 2 + 1",
    "$.a / 2 + 1",
    "$.a + $",
    "$a + 1",
    "$.a[0] + 1",
    "len($.a) + 1",
    "$.a?.b + 1",
]

EXPRESSIONS = [
    *OPERANDS,
    *(f"$.{name}" for name in NAMES),
    "$",
    "task()",
    "$.a+1",
    "$.a -1",
    "1-$.a",
    "$.a + 1 * 2",
    "$.a - 1 - 1",
    "$.a = -1",
    "$.a =~ 'x'",
    "$.a => 1",
    "$.a <> 1",
    "$. a",
    "$.a / 2",
    "$.a mod 2",
    "$.a and $.b",
    "$.a + 1e3",
    "'a+b' = $.a",
    *COMPOUND,
    *(
        f"{left} {op} {right}"
        for left in OPERANDS
        for op in OPERATORS
        for right in ("$.a", "$.b", "1", "'s'")
    ),
]


def _functions(result: Any) -> ExpressionFunctions:
    def task(name: str | None = None) -> Any:
        if name is not None:
            raise LookupError(name)
        return {"name": "t1", "id": "task-1", "result": result, "published": {}, "state": "SUCCESS"}

    return ExpressionFunctions(task=task)


def _yaql(text: str, data: Any, functions: ExpressionFunctions | None) -> tuple[str, Any]:
    try:
        return "value", yaql_expr.evaluate_with_yaql(text, data, functions)
    except Exception as error:  # noqa: BLE001 - the outcome compared
        return "error", type(error).__name__


def _typed(value: Any) -> Any:
    """The value with every type spelled out: 1 == 1.0 == True must not hide a difference."""
    if isinstance(value, dict):
        return ("dict", sorted((repr(k), _typed(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_typed(v) for v in value])
    if type(value) is int:
        return ("int", value)  # NOTE: repr() refuses integers past 4300 digits
    return (type(value).__name__, repr(value))


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_fast_path_agrees_with_yaql(text: str) -> None:
    answered = 0
    for data in CONTEXTS:
        for functions in (None, _functions(data.get("a") if isinstance(data, dict) else data)):
            fast = yaql_fast.evaluate(text, data, functions)
            if fast is yaql_fast.MISS:
                continue
            answered += 1
            outcome = _yaql(text, data, functions)
            assert outcome[0] == "value", (text, data, fast, outcome)
            assert _typed(fast) == _typed(outcome[1]), (text, data, fast, outcome)
    assert answered or text not in _MUST_ANSWER


def test_a_value_taken_from_the_context_is_a_copy() -> None:
    data = {"a": {"b": [1, {"c": 2}]}}
    value = yaql_fast.evaluate("$.a", data, None)
    assert value == {"b": [1, {"c": 2}]}
    value["b"][1]["c"] = 3
    assert data == {"a": {"b": [1, {"c": 2}]}}


#: The shapes the fast path exists for: each must be answered for a context that suits it.
_MUST_ANSWER = {
    "$.a",
    "$.a + 1",
    "$.a * 3",
    "$.a = 1",
    "$.a < 's'",
    "task().result",
    "$.a.b",
    "$.a != 1",
    *(f"str({operand})" for operand in OPERANDS if "missing" not in operand),
    # NOTE: every pair of operators but a comparison's bool compared by order, which is yaql's error
    *(f"$.a {op1} $.b {op2} 2" for op1 in OPERATORS for op2 in OPERATORS if op1 in "+-*" or op2 in "=!="),
    "$.x.name + ':' + str($.x.size * 2)",
    "str($.a) + str($.b)",
    "2 * 3 - 4 * 5 + 6 < 7 = true",
    "(" * 30 + "$.a" + ")" * 30,
    " + ".join(["$.a"] * 32),
}


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ("$.v + 1", {"v": 41}, 42),
        ("$.x * 3", {"x": 2.5}, 7.5),
        ("$.a.b", {"a": {"b": "deep"}}, "deep"),
        ("$.n < 10", {"n": 3}, True),
        ("$.s = 'on'", {"s": "on"}, True),
        ("$.s != null", {"s": None}, False),
        ("task().result", {}, {"r": [1]}),
        ("$.nums", {"nums": [1, 2, 3]}, [1, 2, 3]),
        ("$.x.name + ':' + str($.x.size * 2)", {"x": {"id": 1, "name": "n1", "size": 3}}, "n1:6"),
        ("$.a + $.b * 2 - 1", {"a": 1, "b": 3}, 6),
        ("($.a + $.b) * 2", {"a": 1, "b": 3}, 8),
        ("$.a - $.b - 1", {"a": 1, "b": 3}, -3),
        ("$.a + 1 > $.b = true", {"a": 3, "b": 3}, True),
        ("'v' + str($.a)", {"a": None}, "vnull"),
        ("str($.a) + str($.b)", {"a": True, "b": 2.5}, "true2.5"),
        ("task().name + ':' + str($.a)", {"a": 1}, "t1:1"),
    ],
)
def test_common_shapes_take_the_fast_path(text: str, data: Any, expected: Any) -> None:
    assert yaql_fast.evaluate(text, data, _functions({"r": [1]})) == expected


@pytest.mark.parametrize(
    ("text", "data"),
    [
        ("$.missing", {"a": 1}),  # yaql raises on a missing key
        ("$.a + 1", {"a": None}),
        ("$.a + 1", {"a": True}),  # a bool is not a number to yaql's arithmetic
        ("$.a * 3", {"a": "ab"}),
        ("$.a.b", {"a": [{"b": 1}]}),  # yaql maps over a list
        ("$.a * 3", {"a": 2**70}),  # big integers: yaql, under the limits
        ("$.a", {"a": {1, 2}}),  # not JSON data
        ("$.a.select($ * 2)", {"a": [1]}),
        ("task().result", {}),  # no task function: yaql's error
        ("str($.a)", {"a": [1]}),  # yaql's str() of its tuple: "(1,)"
        ("str($.a)", {"a": {"k": 1}}),
        ("str($.a)", {"a": 10**5000}),  # yaql's error: past Python's 4300 digits
        ("$.a + 'x'", {"a": 1}),
        ("$.a + $.a", {"a": "x" * 40000}),  # long concatenations: yaql, under the limits
        ("$.a * $.a * $.a", {"a": 2**40}),
        ("1 < 2 < 3", {}),  # a bool compared with a number: yaql's error
        ("$.a = -1", {"a": 1}),  # unary minus is yaql's
        ("str ($.a)", {"a": 1}),  # yaql's parse error
        ("$.a.len() + 1", {"a": "ab"}),
        (" + ".join(["$.a"] * 33), {"a": 1}),  # too long for this path
    ],
)
def test_anything_else_goes_to_yaql(text: str, data: Any) -> None:
    assert yaql_fast.evaluate(text, data, None) is yaql_fast.MISS


def test_evaluate_uses_the_fast_path_and_falls_back_to_yaql() -> None:
    assert yaql_expr.evaluate(" $.v + 1 ", {"v": 1}, None) == 2
    assert yaql_expr.evaluate("$.v.select($ + 1)", {"v": [1]}, None) == [2]
    with pytest.raises(Exception, match="missing"):
        yaql_expr.evaluate("$.missing", {"v": 1}, None)


def test_an_expression_is_parsed_once() -> None:
    text = "$.a * 7 + $.b - 1"
    assert yaql_fast.evaluate(text, {"a": 1, "b": 2}, None) == 8
    hits = yaql_fast._compile.cache_info().hits
    assert yaql_fast.evaluate(text, {"a": 2, "b": 2}, None) == 15
    assert yaql_fast._compile.cache_info().hits == hits + 1


def test_data_nested_deeper_than_the_stack_goes_to_yaql() -> None:
    deep: Any = 1
    for _ in range(5000):
        deep = {"a": deep}
    assert yaql_fast.evaluate("$.a", {"a": deep}, None) is yaql_fast.MISS
