"""Good documents of every kind parse into the expected specs."""

import pytest

from mistral.exceptions import InvalidSpecError
from mistral.lang import Transition, WithItem, parse_actions, parse_workbook, parse_workflows
from mistral.utils.inputs import NO_DEFAULT, Param


@pytest.fixture
def full(fixture_text):
    (wf,) = parse_workflows(fixture_text("direct_all_keywords")).workflows
    return wf


def test_workflow_fields(full, fixture_text):
    assert full.name == full.short_name == "all_keywords"
    assert full.workbook_name is None
    assert full.type == "direct"
    assert full.description == "Exercises the whole task vocabulary"
    assert full.tags == ["demo", "full"]
    assert full.input == [Param("url"), Param("method", "GET"), Param("items", [1, 2, 3])]
    assert full.input_string == 'url, method="GET", items="[1, 2, 3]"'
    assert full.interface == {
        "input": ["url", {"method": "GET"}, {"items": [1, 2, 3]}],
        "output": ["result", "count"],
    }
    assert full.output == {"result": "<% $.result %>", "count": "{{ _.counter }}"}
    assert full.output_on_error == {"reason": "failed"}
    assert full.vars == {"counter": 0}
    assert list(full.tasks) == ["fetch", "fan_out", "log", "join_here", "handle_error"]
    # A single-workflow document keeps the user's text verbatim.
    assert full.definition == fixture_text("direct_all_keywords")
    assert full.to_dict()["type"] == "direct"


def test_task_defaults(full):
    defaults = full.task_defaults
    assert (defaults.retry.count, defaults.retry.delay) == (2, 1)
    assert defaults.on_error.next == [Transition("handle_error")]
    assert defaults.on_success is None


def test_action_task_keywords(full):
    fetch = full.tasks["fetch"]
    assert fetch.type == "action"
    assert fetch.action == "std.http"
    assert fetch.inline_params == {"url": "<% $.url %>", "method": "GET", "timeout": 10, "verify": False}
    assert fetch.input == {"headers": {"Accept": "application/json"}}
    assert fetch.merged_input["method"] == "GET"
    assert fetch.description == "Fetch a page" and fetch.tags == ["io"]
    assert fetch.publish == {"result": "<% task().result.content %>"}
    assert fetch.publish_on_error == {"error": "<% task().result %>"}
    assert fetch.on_success.next == [
        Transition("fan_out", condition="<% $.result != null %>"),
        Transition("succeed", is_command=True, params={"msg": "nothing to do"}),
    ]
    assert fetch.on_complete.next == [Transition("log")]
    assert fetch.on_error is None
    assert (fetch.wait_before, fetch.wait_after, fetch.timeout) == (1, "<% $.counter %>", 30)
    assert (fetch.pause_before, fetch.keep_result, fetch.target, fetch.safe_rerun) == (
        False,
        True,
        "executor-1",
        True,
    )


def test_with_items_retry_and_advanced_publish(full):
    fan_out = full.tasks["fan_out"]
    assert fan_out.with_items == [WithItem("x", "<% $.items %>"), WithItem("y", [10, 20, 30])]
    assert fan_out.concurrency == 2
    assert fan_out.retry.count == 3 and fan_out.retry.delay == 2 and fan_out.retry.break_on == "<% $.stop %>"
    assert fan_out.fail_on == "<% $.x > 100 %>"
    clause = fan_out.on_success
    assert clause.next == [Transition("join_here")]
    assert clause.publish.branch == {"done": True}
    assert clause.publish.global_ == {"total": "<% len($.items) %>"}
    assert clause.publish.atomic == {}


def test_sub_workflow_join_and_commands(full):
    join = full.tasks["join_here"]
    assert (join.type, join.workflow, join.action, join.inline_params, join.join) == (
        "workflow",
        "sub_flow",
        None,
        {"param": 1},
        "all",
    )
    log = full.tasks["log"]
    assert log.on_skip.next == [Transition("join_here")] and log.publish_on_skip == {"skipped": True}
    handler = full.tasks["handle_error"]
    assert handler.action == "std.noop" and handler.type == "action"
    assert handler.on_complete.next == [Transition("fail", is_command=True, params={"msg": "handled"})]
    assert handler.on_error.next == [Transition("noop", is_command=True)]


def test_reverse_workflow(fixture_text):
    (wf,) = parse_workflows(fixture_text("reverse")).workflows
    assert wf.type == "reverse"
    assert wf.task_defaults.requires == ["setup"]
    assert wf.tasks["compile"].requires == ["setup"]
    assert wf.tasks["package"].requires == ["setup", "compile"]
    assert wf.tasks["setup"].inline_params == {"output": "ready"}


def test_multi_workflow_definitions_keep_comments(fixture_text):
    spec = parse_workflows(fixture_text("multi_workflow"))
    assert spec.version == "2.0"
    first, second = spec.workflows
    assert first.definition == (
        "version: '2.0'\n\n# The first workflow.\n"
        "first:\n  input: [a]\n  tasks:\n    only:\n      action: std.echo output=<% $.a %>   # echo it\n"
    )
    assert second.definition.startswith("version: '2.0'\n\n# The second workflow.\nsecond:\n")
    # Each extracted definition is a valid document on its own.
    assert parse_workflows(second.definition).workflows[0].tasks["one"].workflow == "first"


def test_workbook(fixture_text):
    wb = parse_workbook(fixture_text("workbook"))
    assert (wb.name, wb.description, wb.tags, wb.version) == ("my_wb", "A workbook", ["wb"], "2.0")
    assert [(w.name, w.short_name, w.workbook_name) for w in wb.workflows] == [
        ("my_wb.main", "main", "my_wb"),
        ("my_wb.helper", "helper", "my_wb"),
    ]
    main, helper = wb.workflows
    assert main.tasks["greet"].on_success.next == [Transition("sub")]
    assert main.definition.startswith("version: '2.0'\n\nmain:\n  input:\n")
    assert parse_workflows(helper.definition).workflows[0].type == "reverse"
    (action,) = wb.actions
    assert (action.name, action.short_name, action.base) == ("my_wb.greeting", "greeting", "std.echo")
    assert action.base_params == {"output": "Hello <% $.name %>"}
    assert action.base_input == {"delay": 0, "output": "Hello <% $.name %>"}
    assert action.input_string == 'name, punctuation="!"'
    assert parse_actions(action.definition)[0].name == "greeting"


def test_actions(fixture_text):
    greet, wait_ssh = parse_actions(fixture_text("actions"))
    assert greet.name == "greet" and greet.workbook_name is None
    assert greet.base == "std.echo" and greet.base_input == {"output": "Hello, <% $.name %>"}
    assert greet.input == [Param("name")] and greet.input[0].default is NO_DEFAULT
    assert (greet.description, greet.tags, greet.output) == ("Says hello", ["demo"], "<% $.upper() %>")
    assert wait_ssh.base == "std.ssh"
    assert wait_ssh.base_input == {"cmd": "ls -l", "password": ""}
    assert wait_ssh.input_string == "host, username"
    assert wait_ssh.definition.startswith("version: '2.0'\n\nwait_ssh:\n  base: std.ssh")


@pytest.mark.parametrize(
    ("version", "expected"),
    [("version: '2.0'\n", "2.0"), ("version: 2.0\n", "2.0")],
)
def test_version_forms(version, expected):
    assert parse_workflows(version + "wf:\n  tasks:\n    a: {}\n").version == expected


@pytest.mark.parametrize("parse", [parse_workflows, parse_actions, parse_workbook])
@pytest.mark.parametrize("validate", [True, False])
def test_a_document_without_version_is_refused(parse, validate):
    # NOTE: Mistral 23 answers 400 "Invalid DSL: 'version' is a required property", validated or not.
    with pytest.raises(InvalidSpecError, match="'version' is a required property"):
        parse("name: wb\nw: {tasks: {a: {}}}\n", validate=validate)


def test_task_without_action_is_noop_and_name_like_command_is_task():
    text = "version: '2.0'\nwf:\n  tasks:\n    start:\n      on-success: [fail]\n    fail: {}\n"
    (wf,) = parse_workflows(text).workflows
    assert wf.tasks["start"].action == "std.noop"
    assert wf.tasks["start"].on_success.next == [Transition("fail")]


def test_action_and_workflow_may_be_expressions():
    text = (
        "version: '2.0'\nwf:\n  tasks:\n    a:\n      action: <% $.name %>\n"
        "    b:\n      workflow: '{{ _.wf }}'\n"
    )
    (wf,) = parse_workflows(text).workflows
    assert wf.tasks["a"].action == "<% $.name %>" and wf.tasks["a"].inline_params == {}
    assert wf.tasks["b"].workflow == "{{ _.wf }}"


def test_specs_are_frozen(full):
    with pytest.raises(AttributeError):
        full.name = "other"


def test_validate_false_skips_semantic_checks():
    text = "version: '2.0'\nwf:\n  tasks:\n    a:\n      on-success: nope\n      bogus: 1\n"
    (wf,) = parse_workflows(text, validate=False).workflows
    assert wf.tasks["a"].on_success.next == [Transition("nope")]


def test_flow_style_document_definitions_fall_back_to_a_dump():
    spec = parse_workflows("{version: '2.0', a: {tasks: {t: {}}}, b: {input: [x], tasks: {u: {}}}}")
    a, b = spec.workflows
    assert a.definition.startswith("version: '2.0'\n\na:\n")
    assert parse_workflows(b.definition).workflows[0].input_string == "x"


@pytest.mark.parametrize(
    "retry",
    [
        "{count: 3, delay: 1, backoff: 2.0, max-delay: 30, jitter: true}",
        "count=3 delay=1 backoff=2.0 max-delay=30 jitter=true",
    ],
)
def test_retry_backoff_keys(retry):
    (spec,) = parse_workflows(f"version: '2.0'\nwf:\n  tasks:\n    t:\n      retry: {retry}\n").workflows
    p = spec.tasks["t"].retry
    assert (p.count, p.delay, p.backoff, p.max_delay, p.jitter) == (3, 1, 2.0, 30, True)


def test_retry_without_backoff_keys_leaves_them_off():
    text = "version: '2.0'\nwf:\n  tasks:\n    t:\n      retry: count=1 delay=1\n"
    (spec,) = parse_workflows(text).workflows
    policy = spec.tasks["t"].retry
    assert (policy.backoff, policy.max_delay, policy.jitter) == (None, None, None)


def test_queue_is_a_task_keyword_of_both_workflow_types_and_of_task_defaults():
    text = """
version: '2.0'
direct:
  task-defaults:
    queue: shared
  tasks:
    own:
      action: std.external
      queue: gpu-<% $.pool %>
      tags: [gpu]
    inherits:
      action: std.echo output=1
reverse:
  type: reverse
  tasks:
    target:
      action: std.external
      queue: reports
"""
    direct, reverse = parse_workflows(text).workflows
    assert (direct.task_defaults.queue, direct.tasks["own"].queue, direct.tasks["inherits"].queue) == (
        "shared",
        "gpu-<% $.pool %>",
        None,
    )
    assert reverse.tasks["target"].queue == "reports"


@pytest.mark.parametrize("value", ["''", "[a]", "3"])
def test_a_queue_must_be_a_non_empty_string(value):
    text = f"version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.external\n      queue: {value}\n"
    with pytest.raises(InvalidSpecError, match="queue"):
        parse_workflows(text)
