"""Each class of bad input is reported with its path, message and line."""

import re

import pytest

from mistral.exceptions import InvalidSpecError
from mistral.lang import parse_actions, parse_workbook, parse_workflows


def problems_of(parse, text: str, **kwargs) -> list[str]:
    with pytest.raises(InvalidSpecError) as info:
        parse(text, **kwargs)
    return [str(p) for p in info.value.problems]


def v2(text: str) -> str:
    """``text`` with ``version: '2.0'`` added last (so the expected line numbers stay) unless it has one."""
    return text if re.search(r"^version:", text, re.M) else text + "version: '2.0'\n"


def wf(tasks: str, head: str = "") -> str:
    """A one-workflow document named ``wf`` whose ``tasks:`` body is ``tasks``."""
    return f"wf:\n{head}  tasks:\n{tasks}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            wf("    a:\n      on-sucess: a\n"),
            "wf.tasks.a.on-sucess: unknown keyword 'on-sucess' (line 4)",
            id="unknown-task-keyword",
        ),
        pytest.param(
            "wf:\n  taks: {}\n", "wf.taks: unknown keyword 'taks' (line 2)", id="unknown-wf-keyword"
        ),
        pytest.param(
            "wf:\n  type: direct\n", "wf: missing required keyword 'tasks' (line 1)", id="missing-tasks"
        ),
        pytest.param("wf:\n  tasks: {}\n", "wf.tasks: must not be empty (line 2)", id="empty-tasks"),
        pytest.param(
            "wf:\n  type: sideways\n  tasks: {a: {}}\n",
            "wf.type: expected one of 'direct', 'reverse', got 'sideways' (line 2)",
            id="bad-type",
        ),
        pytest.param(
            wf("    a:\n      retry:\n        count: abc\n        delay: 1\n"),
            "wf.tasks.a.retry.count: expected a non-negative integer or an expression, got 'abc' (line 5)",
            id="retry-count-type",
        ),
        pytest.param(
            wf("    a:\n      retry: {count: 1}\n"),
            "wf.tasks.a.retry: missing required keyword 'delay' (line 4)",
            id="retry-missing-delay",
        ),
        pytest.param(
            wf("    a:\n      retry: count=2 delay=x\n"),
            "wf.tasks.a.retry: retry delay must be a number or an expression, got 'x' (line 4)",
            id="retry-line-type",
        ),
        pytest.param(
            wf("    a:\n      retry: count=2 delay=1 foo=3\n"),
            "wf.tasks.a.retry: unknown retry parameter 'foo' (line 4)",
            id="retry-line-key",
        ),
        pytest.param(
            wf("    a:\n      retry: {count: 3, delay: 1, backoff: 0.5}\n"),
            "wf.tasks.a.retry.backoff: must be at least 1, got 0.5 (line 4)",
            id="retry-backoff-below-one",
        ),
        pytest.param(
            wf("    a:\n      retry: {count: 3, delay: 1, max-delay: -2}\n"),
            "wf.tasks.a.retry.max-delay: must be at least 0, got -2 (line 4)",
            id="retry-max-delay-negative",
        ),
        pytest.param(
            wf("    a:\n      retry: {count: 3, delay: 1, jitter: often}\n"),
            "wf.tasks.a.retry.jitter: expected a boolean or an expression, got 'often' (line 4)",
            id="retry-jitter-type",
        ),
        pytest.param(
            wf("    a:\n      retry: count=3 delay=1 backoff=0\n"),
            "wf.tasks.a.retry: retry backoff must be a number of at least 1 or an expression, got 0 (line 4)",
            id="retry-line-backoff",
        ),
        pytest.param(
            wf("    a:\n      retry: count=3 delay=1 jitter=often\n"),
            "wf.tasks.a.retry: retry jitter must be a boolean or an expression, got 'often' (line 4)",
            id="retry-line-jitter",
        ),
        pytest.param(
            wf("    a:\n      on-success: b\n    b:\n      join: many\n"),
            "wf.tasks.b.join: expected 'all', 'one', a positive integer or a {tags: [...]} mapping, "
            "got 'many' (line 6)",
            id="join-type",
        ),
        pytest.param(
            wf("    a:\n      on-success: b\n    b:\n      join: 2\n"),
            "wf.tasks.b.join: join 2 is greater than the number of inbound tasks (1) (line 6)",
            id="join-count",
        ),
        pytest.param(
            wf("    a:\n      on-success: [b, nope]\n    b: {}\n"),
            "wf.tasks.a.on-success[1]: task 'nope' does not exist (line 4)",
            id="missing-target",
        ),
        pytest.param(
            wf("    a:\n      on-error:\n        - nope: <% true %>\n"),
            "wf.tasks.a.on-error[0]: task 'nope' does not exist (line 5)",
            id="missing-conditional-target",
        ),
        pytest.param(
            wf("    a:\n      on-complete:\n        next: [nope]\n"),
            "wf.tasks.a.on-complete.next[0]: task 'nope' does not exist (line 5)",
            id="missing-advanced-target",
        ),
        pytest.param(
            wf("    a:\n      on-success:\n        publish: {branch: {}, local: {}}\n"),
            "wf.tasks.a.on-success.publish.local: unknown keyword 'local' (line 5)",
            id="bad-advanced-publish",
        ),
        pytest.param(
            wf("    a:\n      on-success: [3]\n"),
            "wf.tasks.a.on-success[0]: expected a task name, an engine command or a {task: condition} "
            "mapping, got 3 (line 4)",
            id="bad-transition-item",
        ),
        pytest.param(
            wf('    a:\n      on-success: fail msg="unterminated\n'),
            "wf.tasks.a.on-success: invalid engine command",
            id="bad-engine-command",
        ),
        pytest.param(
            wf("    a:\n      on-success: b\n    b:\n      on-success: a\n"),
            "wf.tasks: no start task: every task has an inbound transition (line 2)",
            id="no-start-task",
        ),
        pytest.param(
            wf("    a:\n      action: std.noop\n      workflow: x\n"),
            "wf.tasks.a: a task can't have both 'action' and 'workflow' (line 3)",
            id="action-and-workflow",
        ),
        pytest.param(
            wf("    a:\n      action: std.echo output\n"),
            "wf.tasks.a.action: invalid inline parameters: expected key=value, got 'output' (line 4)",
            id="bad-inline-params",
        ),
        pytest.param(
            wf("    a:\n      with-items: x of <% $.y %>\n"),
            "wf.tasks.a.with-items: invalid with-items: expected 'name in <collection>'",
            id="bad-with-items",
        ),
        pytest.param(
            wf("    a:\n      with-items: x in $.y\n"),
            "wf.tasks.a.with-items: invalid with-items: the collection must be an expression or a [list]",
            id="with-items-not-expression",
        ),
        pytest.param(
            wf("    a:\n      requires: [b]\n    b: {}\n"),
            "wf.tasks.a.requires: unknown keyword 'requires' (only reverse workflows have 'requires') "
            "(line 4)",
            id="requires-in-direct",
        ),
        pytest.param(
            wf("    a:\n      on-success: b\n    b: {}\n", "  type: reverse\n"),
            "wf.tasks.a.on-success: unknown keyword 'on-success' (only direct workflows have "
            "'on-success') (line 5)",
            id="on-success-in-reverse",
        ),
        pytest.param(
            wf("    a:\n      requires: [b, nope]\n    b: {}\n", "  type: reverse\n"),
            "wf.tasks.a.requires[1]: task 'nope' does not exist (line 5)",
            id="reverse-missing-require",
        ),
        pytest.param(
            wf("    a:\n      timeout: -1\n"),
            "wf.tasks.a.timeout: must be at least 0, got -1 (line 4)",
            id="negative-timeout",
        ),
        pytest.param(
            wf("    a:\n      keep-result: maybe\n"),
            "wf.tasks.a.keep-result: expected a boolean or an expression, got 'maybe' (line 4)",
            id="keep-result-type",
        ),
        pytest.param(
            wf("    a:\n      input: [1]\n"),
            "wf.tasks.a.input: expected a mapping or an expression, got a list (line 4)",
            id="input-type",
        ),
        pytest.param(
            wf("    a: 7\n"), "wf.tasks.a: a task must be a mapping, got int (line 3)", id="task-not-mapping"
        ),
        pytest.param(
            wf("    " + "t" * 256 + ": {}\n"), "task name is longer than 255 characters", id="long-name"
        ),
        pytest.param(
            "wf:\n  input: [a, {b: 1, c: 2}]\n  tasks: {a: {}}\n",
            "wf.input[1]: expected a single key, got 2 keys (line 2)",
            id="input-entry-two-keys",
        ),
        pytest.param(
            "wf:\n  input: [a, a]\n  tasks: {a: {}}\n",
            "wf.input[1]: duplicate input 'a' (line 2)",
            id="duplicate-input",
        ),
        pytest.param(
            "0b8e5c2f-1d1c-4b8a-9a57-2b3c4d5e6f70:\n  tasks: {a: {}}\n",
            "must not look like a UUID",
            id="uuid-name",
        ),
        pytest.param(
            wf("    a:\n      action: std.echo output=<% $.x + %>\n"),
            "wf.tasks.a.action: Invalid YAQL expression '<% $.x + %>': Parse error",
            id="bad-yaql-in-action",
        ),
        pytest.param(
            wf("    a:\n      publish:\n        y: '{{ _.y + }}'\n"),
            "wf.tasks.a.publish.y: Invalid Jinja expression '{{ _.y + }}'",
            id="bad-jinja-in-publish",
        ),
        pytest.param(
            "wf:\n  output: <% $. %>\n  tasks: {a: {}}\n",
            "wf.output: Invalid YAQL expression",
            id="bad-yaql-in-output",
        ),
        pytest.param(
            wf("    a: {}\n", "  task-defaults:\n    on-error: nope\n"),
            "wf.task-defaults.on-error: task 'nope' does not exist (line 3)",
            id="defaults-missing-target",
        ),
        pytest.param(
            wf("    a: {}\n", "  task-defaults:\n    publish: {}\n"),
            "wf.task-defaults.publish: unknown keyword 'publish' (line 3)",
            id="defaults-unknown",
        ),
    ],
)
def test_bad_workflow(text, expected):
    problems = problems_of(parse_workflows, v2(text))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("wf: [\n", "Invalid YAML at line 2, column 1", id="malformed-yaml"),
        pytest.param(
            "a: b: c\n",
            "Invalid YAML at line 1, column 5: mapping values are not allowed here",
            id="bad-mapping",
        ),
        pytest.param("- a\n- b\n", "the document must be a YAML mapping (line 1)", id="not-mapping"),
        pytest.param("", "the document must be a YAML mapping", id="empty"),
        pytest.param(
            "version: '1.0'\nwf: {tasks: {a: {}}}\n",
            "version: Unsupported DSL version: '1.0' (expected '2.0') (line 1)",
            id="old-version",
        ),
        pytest.param("version: '2.0'\n", "the document defines no workflow", id="no-workflows"),
        pytest.param(
            "wf: {tasks: {a: {}}}\n", "'version' is a required property (add version: '2.0')", id="no-version"
        ),
        pytest.param("wf: 3\n", "wf: a workflow must be a mapping, got int (line 1)", id="wf-not-mapping"),
        pytest.param(
            "a: !!python/object:os.system x\n",
            "Invalid YAML at line 1, column 4: could not determine a constructor",
            id="python-tag",
        ),
    ],
)
@pytest.mark.parametrize("validate", [True, False])
def test_fatal_problems_ignore_validate_flag(text, expected, validate):
    problems = problems_of(parse_workflows, text, validate=validate)
    assert any(expected in p for p in problems), problems


def test_multi_error_document_reports_everything(fixture_text):
    problems = problems_of(parse_workflows, fixture_text("many_errors"))
    assert problems == [
        "broken.tasks.task1.on-sucess: unknown keyword 'on-sucess' (line 8)",
        "broken.tasks.task1.on-success[0]: task 'nope' does not exist (line 10)",
        "broken.tasks.task2.join: expected 'all', 'one', a positive integer or a {tags: [...]} mapping, "
        "got 'many' (line 14)",
        "broken.tasks.task2.retry.count: expected a non-negative integer or an expression, got 'abc' "
        "(line 16)",
        "broken.tasks.task2: a task can't have both 'action' and 'workflow' (line 11)",
        "broken.tasks.task3.action: Invalid YAQL expression '<% $.x + %>': Parse error: unexpected end of "
        "statement (line 19)",
        "broken.tasks.task3.publish.y: Invalid Jinja expression '{{ _.y + }}': unexpected 'end of print "
        "statement' (line 21)",
        "broken.tasks.task3.with-items: invalid with-items: expected 'name in <collection>', "
        "got 'x of <% $.xs %>' (line 22)",
    ]


def test_many_errors_parses_without_validation(fixture_text):
    (wf,) = parse_workflows(fixture_text("many_errors"), validate=False).workflows
    assert wf.tasks["task1"].on_success.next[0].name == "nope"


def test_aliases_are_plain_text():
    text = "wf:\n  vars:\n    a: &anchor value\n    b: *anchor\n  tasks: {t: {}}\n"
    (wf,) = parse_workflows(v2(text)).workflows
    assert wf.vars == {"a": "&anchor value", "b": "*anchor"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("workflows: {}\n", "the workbook needs a 'name' (line 1)", id="no-name"),
        pytest.param(
            "name: wb\nworkflows: [a]\n",
            "workflows: 'workflows' must be a mapping of names to workflows (line 2)",
            id="workflows-list",
        ),
        pytest.param(
            "name: wb\nversion: '3.0'\n",
            "version: Unsupported DSL version: '3.0' (expected '2.0') (line 2)",
            id="version",
        ),
        pytest.param(
            "name: wb\nworkflows:\n  w:\n    version: '1.0'\n    tasks: {a: {}}\n",
            "workflows.w.version: Unsupported DSL version",
            id="inner-version",
        ),
        pytest.param(
            "name: wb\n", "'version' is a required property (add version: '2.0') (line 1)", id="no-version"
        ),
    ],
)
@pytest.mark.parametrize("validate", [True, False])
def test_bad_workbook_fatal(text, expected, validate):
    problems = problems_of(parse_workbook, text, validate=validate)
    assert any(expected in p for p in problems), problems


def test_workbook_reports_all_sections():
    text = "name: wb\nworkflows:\n  w: {tasks: {}}\nactions:\n  a: {input: [x]}\nfoo: 1\n"
    assert problems_of(parse_workbook, v2(text)) == [
        "foo: unknown keyword 'foo' (line 6)",
        "workflows.w.tasks: must not be empty (line 3)",
        "actions.a: missing required keyword 'base' (line 5)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a:\n  input: [x]\n", "a: missing required keyword 'base' (line 1)", id="no-base"),
        pytest.param(
            "a:\n  base: std.echo\n  bass: 1\n", "a.bass: unknown keyword 'bass' (line 3)", id="unknown"
        ),
        pytest.param(
            "a:\n  base: std.echo output\n",
            "a.base: invalid inline parameters: expected key=value",
            id="inline",
        ),
        pytest.param(
            "a:\n  base: std.echo\n  base-input: [1]\n",
            "a.base-input: expected a mapping, got a list (line 3)",
            id="base-input",
        ),
        pytest.param(
            "a:\n  base: std.echo\n  output: <% $. %>\n", "a.output: Invalid YAQL expression", id="expression"
        ),
        pytest.param("version: '2.0'\n", "the document defines no action", id="empty"),
    ],
)
def test_bad_actions(text, expected):
    problems = problems_of(parse_actions, v2(text))
    assert any(expected in p for p in problems), problems
