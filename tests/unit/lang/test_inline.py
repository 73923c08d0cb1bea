import pytest

from mistral.lang.inline import (
    InlineSyntaxError,
    parse_command,
    parse_engine_command,
    parse_params,
    parse_with_items,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("std.noop", ("std.noop", {})),
        ("  std.echo   output=hi  ", ("std.echo", {"output": "hi"})),
        (
            'std.http url="http://x/?a=b c" method=GET',
            ("std.http", {"url": "http://x/?a=b c", "method": "GET"}),
        ),
        ("std.echo output='it\\'s'", ("std.echo", {"output": "it's"})),
        ("a n=1 f=1.5 e=1e3 neg=-2", ("a", {"n": 1, "f": 1.5, "e": 1000.0, "neg": -2})),
        ("a t=true F=False z=null", ("a", {"t": True, "F": False, "z": None})),
        ("a v=<% $.x + 1 %> w={{ _.y }}", ("a", {"v": "<% $.x + 1 %>", "w": "{{ _.y }}"})),
        ('a l=[1, "two", [3]] d={"k": 1}', ("a", {"l": [1, "two", [3]], "d": {"k": 1}})),
        ("a l=[x, y]", ("a", {"l": ["x", "y"]})),
        ("a empty=''", ("a", {"empty": ""})),
        ("<% $.action_name %>", ("<% $.action_name %>", {})),
    ],
)
def test_parse_command(text, expected):
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("std.echo output", "expected key=value, got 'output'"),
        ('std.echo output="x', "unterminated quoted string"),
        ("std.echo output=<% $.x", "unterminated expression"),
        ("std.echo l=[1, 2", "unbalanced brackets"),
        ('std.echo a="x"b=1', "expected a space after the value of 'a'"),
    ],
)
def test_parse_command_errors(text, error):
    with pytest.raises(InlineSyntaxError, match=error):
        parse_command(text)


def test_parse_params_retry_line():
    assert parse_params("count=10 delay=5 break-on=<% $.x > 1 %>") == {
        "count": 10,
        "delay": 5,
        "break-on": "<% $.x > 1 %>",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fail", ("fail", {})),
        ("succeed", ("succeed", {})),
        ("pause", ("pause", {})),
        ("noop", ("noop", {})),
        ('fail msg="went wrong"', ("fail", {"msg": "went wrong"})),
        ("fail msg=<% $.why %>", ("fail", {"msg": "<% $.why %>"})),
        ('fail(msg="went wrong")', ("fail", {"msg": "went wrong"})),
        ("succeed(msg=done, code=1)", ("succeed", {"msg": "done", "code": 1})),
        ("failure", None),
        ("task2", None),
    ],
)
def test_parse_engine_command(text, expected):
    assert parse_engine_command(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x in <% $.xs %>", ("x", "<% $.xs %>")),
        ("item in {{ _.items }}", ("item", "{{ _.items }}")),
        ("i in [1, 2, 3]", ("i", [1, 2, 3])),
        ('s in ["a", "b"]', ("s", ["a", "b"])),
    ],
)
def test_parse_with_items(text, expected):
    assert parse_with_items(text) == expected


@pytest.mark.parametrize(
    "text", ["x of <% $.xs %>", "in <% $.xs %>", "x in $.xs", "x in [1, 2] extra", "1x in [1]"]
)
def test_parse_with_items_errors(text):
    with pytest.raises(InlineSyntaxError):
        parse_with_items(text)
