import pytest

from mistral.exceptions import InvalidSpecError
from mistral.lang.yaml_loader import format_path, load


def test_lines_of_keys_and_items():
    doc = load("a:\n  b:\n    - x\n    - y: 1\nc: 2\n")
    assert doc.data == {"a": {"b": ["x", {"y": 1}]}, "c": 2}
    assert doc.lines[("a", "b", 1, "y")] == 4
    assert doc.line(("c",)) == 5
    # An unknown path falls back to its nearest known ancestor.
    assert doc.line(("a", "b", "missing", "deeper")) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x 1\nb: *x\n", {"a": "&x 1", "b": "*x"}),
        ("a: &x [1, 2]\n", {"a": "&x [1, 2]"}),
        ("a: @user\n", {"a": "@user"}),
        ("a: `cmd`\n", {"a": "`cmd`"}),
        ("a: 1.5\nb: true\nc: null\n", {"a": 1.5, "b": True, "c": None}),
    ],
)
def test_scalars(text, expected):
    assert load(text).data == expected


def test_alias_bomb_is_harmless():
    text = 'a: &a ["x","x"]\nb: &b [*a,*a,*a]\nc: [*b,*b,*b]\n'
    assert load(text).data["c"] == ["*b", "*b", "*b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1,\n", "Invalid YAML at line 2, column 1"),
        ("a:\n- 1\n b: 2\n", "Invalid YAML at line 3, column 3"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
        # Found by schemathesis: the reader's refusal escaped as a 500.
        ("rL)\x17", "Invalid YAML: unacceptable character #x0017"),
    ],
)
def test_malformed(text, message):
    with pytest.raises(InvalidSpecError) as info:
        load(text)
    (problem,) = info.value.problems
    assert message in problem.message


@pytest.mark.parametrize(
    ("path", "text"),
    [((), ""), (("wf",), "wf"), (("wf", "tasks", "t", "on-success", 0), "wf.tasks.t.on-success[0]")],
)
def test_format_path(path, text):
    assert format_path(path) == text
