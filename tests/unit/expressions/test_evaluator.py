import json
import re

import pytest
import yaml

from mistral.exceptions import ExpressionError
from mistral.expressions import (
    ExpressionFunctions,
    contains_expression,
    evaluate,
    has_expression,
    jinja_expr,
    validate,
    yaql_expr,
)

CONTEXT = {
    "a": 1,
    "name": "world",
    "nums": [1, 2, 3],
    "d": {"k": "v"},
    "__env": {"region": "north"},
    "__execution_globals": {"g": 42},
    "__execution": {"id": "ex-1"},
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # A lone expression keeps its type.
        ("<% $.a %>", 1),
        ("  <% $.nums %>  ", [1, 2, 3]),
        ("<% $.d %>", {"k": "v"}),
        ("<% $.nums.select($ * 2) %>", [2, 4, 6]),
        ("<% dict(x => 1) %>", {"x": 1}),
        ("{{ _.a }}", 1),
        ("{{ a + 1 }}", 2),
        ("{{ _.nums }}", [1, 2, 3]),
        ("{{ _.d }}", {"k": "v"}),
        # Otherwise the values are interpolated into the text.
        ("hello <% $.name %>!", "hello world!"),
        ("<% $.a %>-<% $.a + 1 %>", "1-2"),
        ("hello {{ _.name }}!", "hello world!"),
        ("{% for i in _.nums %}{{ i }}{% endfor %}", "123"),
        ("{{ _.a }}{{ _.a }}", "11"),
        # No expression, no change; containers are walked.
        ("plain text", "plain text"),
        (5, 5),
        (None, None),
        (["<% $.a %>", {"k": "{{ _.name }}", "<% $.name %>": 2}], [1, {"k": "world", "world": 2}]),
        (("<% $.a %>",), [1]),
    ],
)
def test_evaluate(value, expected):
    assert evaluate(value, CONTEXT) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("env()", {"region": "north"}),
        ("env().region", "north"),
        ("global(g)", 42),
        ("global('missing')", None),
        ("execution().id", "ex-1"),
        ("json_parse('{\"x\": [1]}')", {"x": [1]}),
        ("yaml_parse('x: 1')", {"x": 1}),
        ("json_dump($.d)", json.dumps({"k": "v"}, indent=4)),
        ("yaml_dump($.d)", "k: v\n"),
    ],
)
def test_functions_in_both_languages(expression, expected):
    assert evaluate(f"<% {expression} %>", CONTEXT) == expected
    jinja = expression.replace("$.", "_.").replace("global(g)", "global('g')")
    assert evaluate("{{ " + jinja + " }}", CONTEXT) == expected


@pytest.mark.parametrize(
    "template", ["{{ _.d | json_dump }}", "{{ _.d | yaml_dump }}", "{{ '[1]' | json_parse }}"]
)
def test_functions_as_jinja_filters(template):
    assert evaluate(template, CONTEXT) in (json.dumps({"k": "v"}, indent=4), "k: v\n", [1])


def test_uuid():
    pattern = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    assert pattern.match(evaluate("<% uuid() %>", {}))
    assert pattern.match(evaluate("{{ uuid() }}", {}))
    assert evaluate("<% uuid() %>", {}) != evaluate("<% uuid() %>", {})


def test_engine_hooks():
    calls = []

    def task(name=None):
        calls.append(name)
        return {"name": name or "current", "result": {"x": 7}}

    hooks = ExpressionFunctions(
        task=task,
        tasks=lambda *args: [{"name": "t1"}],
        execution=lambda: {"id": "from-hook"},
        executions=lambda *args: ["e"],
        global_var=lambda name: f"global-{name}",
    )
    assert evaluate("<% task().result.x %>", {}, hooks) == 7
    assert evaluate("<% task(t2).name %>", {}, hooks) == "t2"
    assert evaluate("{{ task('t3').name }}", {}, hooks) == "t3"
    assert evaluate("{{ 't4' | task }}", {}, hooks)["name"] == "t4"
    assert evaluate("<% tasks().len() %>", {}, hooks) == 1
    assert evaluate("{{ tasks() | length }}", {}, hooks) == 1
    assert evaluate("<% execution().id %>", CONTEXT, hooks) == "from-hook"
    assert evaluate("<% executions() %>", {}, hooks) == ["e"]
    assert evaluate("{{ global('x') }}", CONTEXT, hooks) == "global-x"
    assert calls == [None, "t2", "t3", "t4"]


@pytest.mark.parametrize(
    "expression", ["<% task() %>", "{{ task() }}", "<% tasks() %>", "<% executions() %>"]
)
def test_missing_hook_is_an_expression_error(expression):
    with pytest.raises(ExpressionError, match=r"is not available in this context"):
        evaluate(expression, {})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("<% $.a + %>", "Invalid YAQL expression"),
        # Like Mistral, a missing key is an error, not null.
        ("<% $.missing %>", "Can not evaluate YAQL expression [expression=<% $.missing %>, error='missing'"),
        ("<% $.a.b %>", "Can not evaluate YAQL expression [expression=<% $.a.b %>"),
        ("<% 1 / 0 %>", "Can not evaluate YAQL expression"),
        ("{{ _.a + }}", "Can not evaluate Jinja expression"),
        ("{{ 1 / 0 }}", "Can not evaluate Jinja expression"),
        ("{{ _.a.__class__.__mro__ }}", "Can not evaluate Jinja expression"),
        ("<% $.a %> {{ _.a }}", "can't contain both YAQL and Jinja"),
        ({"<% $.nums %>": 1}, "unhashable"),
    ],
)
def test_evaluate_errors(value, message):
    with pytest.raises(ExpressionError) as info:
        evaluate(value, CONTEXT)
    assert message in str(info.value)


def test_validate_reports_every_bad_expression():
    value = {
        "ok": "<% $.a %> and <% $.b %>",
        "bad": ["<% $.a + %>", "{{ _.a + }}", "{% if %}", "x <% ) %> y"],
        "<% ( %>": "key",
        "plain": 3,
    }
    problems = validate(value)
    assert problems == [
        "Invalid YAQL expression '<% $.a + %>': Parse error: unexpected end of statement",
        "Invalid Jinja expression '{{ _.a + }}': unexpected 'end of print statement'",
        "Invalid Jinja expression '{% if %}': Expected an expression, got 'end of statement block'",
        "Invalid YAQL expression '<% ) %>': Parse error: unexpected ')' at position 0 of expression ')'",
        "Invalid YAQL expression '<% ( %>': Parse error: unexpected end of statement",
    ]


@pytest.mark.parametrize(
    "value", ["<% $.a %>", "{{ _.a }}", "x {% if 1 %}y{% endif %}", ["no"], "", "plain", None]
)
def test_validate_accepts_good_values(value):
    assert validate(value) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<% $ %>", True),
        ("a {{ b }}", True),
        ("{% if x %}{% endif %}", True),
        ("50%", False),
        ("{x}", False),
        (3, False),
    ],
)
def test_has_expression(value, expected):
    assert has_expression(value) is expected


def test_compiled_expressions_are_cached():
    yaql_expr._compile.cache_clear()
    jinja_expr.compile_expression.cache_clear()
    for _ in range(3):
        evaluate("<% $.nums.len() + 100 %>", CONTEXT)  # NOTE: not a shape yaql_fast takes
        evaluate("{{ _.a + 100 }}", CONTEXT)
    assert yaql_expr._compile.cache_info().hits >= 2
    assert jinja_expr.compile_expression.cache_info().hits >= 2


def test_yaml_dump_round_trip():
    text = evaluate("<% yaml_dump($.d) %>", CONTEXT)
    assert yaml.safe_load(text) == {"k": "v"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": [1, {"b": "plain"}], "c": ("x",)}, False),
        ({"a": [1, {"b": "<% $.x %>"}]}, True),
        ({"{{ _.k }}": 1}, True),
        ([("deep", ["<% 1 %>"])], True),
        (3, False),
    ],
)
def test_contains_expression_looks_at_every_string_keys_included(value, expected):
    assert contains_expression(value) is expected


def test_a_long_string_is_read_each_time_and_evaluates_like_a_short_one():
    padding = "x" * 600
    long_text = f"{padding}<% $.n * 2 %>"
    assert evaluate(long_text, {"n": 21}) == f"{padding}42"
    assert evaluate(long_text, {"n": 1}) == f"{padding}2"
    assert evaluate("<% $.n * 2 %>", {"n": 21}) == 42
    with pytest.raises(ExpressionError, match="both YAQL and Jinja"):
        evaluate(f"<% $.n %>{padding}{{{{ _.n }}}}", {"n": 1})
