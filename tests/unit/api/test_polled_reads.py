"""GET /v2/executions/{id} beside Pecan: the same answer as the controller's, and Pecan for the rest."""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from mistral import context
from mistral.api import policy, polled_reads
from mistral.api.controllers.v2 import execution_resources as res
from mistral.db import api as db_api
from mistral.db.queries.execution_views import SHOWN_COLUMNS
from mistral.exceptions import PolicyError
from tests.unit.api import rows


@pytest.fixture
def answered_beside_pecan(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per GET the layer looked at: True when it answered it itself."""
    seen: list[bool] = []
    original = polled_reads.PolledReads._execution

    def spy(self: polled_reads.PolledReads, environ: dict[str, Any]) -> bytes | None:
        body = original(self, environ)
        seen.append(body is not None)
        return body

    monkeypatch.setattr(polled_reads.PolledReads, "_execution", spy)
    return seen


def through_pecan(monkeypatch: pytest.MonkeyPatch, app: webtest.TestApp, path: str, **kw: Any) -> Any:
    with monkeypatch.context() as m:
        m.setattr(polled_reads.PolledReads, "_execution", lambda self, environ: None)
        return app.get(path, **kw)


def comparable_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() != "x-openstack-request-id"}


def test_the_answer_is_the_controllers_byte_for_byte(
    app: webtest.TestApp, answered_beside_pecan: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    wf_ex = rows.wf_ex(state="RUNNING", tags=["t"], description="d", state_info=None)
    fast = app.get(f"/v2/executions/{wf_ex.id}")
    assert answered_beside_pecan == [True]
    slow = through_pecan(monkeypatch, app, f"/v2/executions/{wf_ex.id}")
    assert (fast.status, fast.body) == (slow.status, slow.body)
    assert comparable_headers(fast) == comparable_headers(slow)
    assert fast.headers["X-Openstack-Request-Id"].startswith("req-")
    body = json.loads(fast.body)
    assert (body["id"], body["state"], json.loads(body["published_global"])) == (
        wf_ex.id,
        "RUNNING",
        {"g": 7},
    )


def test_unknown_id_is_pecans_404(app: webtest.TestApp, answered_beside_pecan: list[bool]) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    answer = app.get(f"/v2/executions/{missing}", status=404)
    assert answered_beside_pecan == [False]
    assert missing in answer.json["faultstring"]


@pytest.mark.parametrize(
    "suffix",
    ["?fields=state", "?bogus=1", "/tasks", "/"],
)
def test_other_reads_are_pecans(
    app: webtest.TestApp, answered_beside_pecan: list[bool], monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    wf_ex = rows.wf_ex()
    path = f"/v2/executions/{wf_ex.id}{suffix}"
    answer = app.get(path, expect_errors=True)
    assert not any(answered_beside_pecan)
    slow = through_pecan(monkeypatch, app, path, expect_errors=True)
    assert (answer.status, answer.body) == (slow.status, slow.body)


def test_writes_are_pecans(app: webtest.TestApp, answered_beside_pecan: list[bool]) -> None:
    wf_ex = rows.wf_ex()
    app.delete(f"/v2/executions/{wf_ex.id}", expect_errors=True)
    assert answered_beside_pecan == []


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        start_response("418 Teapot", [])
        return [b"pecan"]


@pytest.fixture
def auth_on(override_conf: Any) -> Iterator[None]:
    override_conf("pecan", "auth_enable", True)
    policy.reset()
    yield
    policy.reset()


def call(app: polled_reads.PolledReads, path: str, **headers: str) -> tuple[str, bytes]:
    environ = webtest.TestRequest.blank(path, headers=headers).environ
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body


def test_with_auth_the_caller_sees_only_its_projects_executions(db: str, auth_on: None) -> None:
    token = context.set_current(context.Context(project_id="proj-a", user_id="alice"))
    try:
        wf_ex = rows.wf_ex()
    finally:
        context.reset(token)
    pecan = Recorder()
    app = polled_reads.PolledReads(pecan)
    status, body = call(app, f"/v2/executions/{wf_ex.id}", **{"X-Project-Id": "proj-b", "X-Roles": "member"})
    assert (status, pecan.calls) == ("418 Teapot", 1)  # not found for proj-b: Pecan says so
    status, body = call(app, f"/v2/executions/{wf_ex.id}", **{"X-Project-Id": "proj-a", "X-Roles": "member"})
    assert (status, pecan.calls) == ("200 OK", 1)
    assert json.loads(body)["project_id"] == "proj-a"


def test_a_policy_refusal_is_pecans(db: str, auth_on: None, monkeypatch: pytest.MonkeyPatch) -> None:
    wf_ex = rows.wf_ex()
    rules: list[str] = []

    def refuse(rule: str, *args: Any, **kwargs: Any) -> None:
        rules.append(rule)
        raise PolicyError(rule)

    monkeypatch.setattr(policy, "enforce", refuse)
    pecan = Recorder()
    status, _ = call(polled_reads.PolledReads(pecan), f"/v2/executions/{wf_ex.id}")
    assert (status, pecan.calls, rules) == ("418 Teapot", 1, ["executions:get"])
    assert context.current().project_id == context.Context().project_id  # the caller's context is gone


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"state": "RUNNING", "output": None, "state_info": None, "tags": None, "description": None},
        {"state": "ERROR", "state_info": "Failed: ünïcode ✓", "tags": ["a", "b"], "output": {}},
        {"input": {"nested": {"list": [1, 2.5, None, True], "text": "é"}}, "params": {}},
        {"context": {}, "task_execution_id": "t" * 36, "root_execution_id": "r" * 36},
        {"context": {"__published_global": {"x": [1, {"y": None}]}, "other": 1}},
        {"context": {"note": "__published_global", "quoted": '"__published_global"'}},
        {"input": {"nums": list(range(1000)), "text": '\u2028 \\u0000 "{"'}},
    ],
)
@pytest.mark.parametrize("published_global", [True, False])
def test_the_plain_renderer_renders_as_wsme_does(db: str, values: dict, published_global: bool) -> None:
    wf_ex = rows.wf_ex(**values)
    model = db_api.load_workflow_execution(wf_ex.id)
    wsme = res.render_execution_wsme(model, None, include_output=True, published_global=published_global)
    for row in (db_api.load_workflow_execution_shown(wf_ex.id), model):
        rendered = res.render_execution_plain(row, published_global=published_global)
        assert rendered is not None
        assert json.dumps(rendered) == json.dumps(wsme)
    # A list's rendering (no fields asked for: an empty list), without the output unless asked.
    for include_output in (True, False):
        listed = res.render_execution(model, [], include_output=include_output)
        as_wsme = res.render_execution_wsme(
            model, None, include_output=include_output, published_global=False
        )
        assert json.dumps(listed) == json.dumps(as_wsme)


def test_a_value_of_another_kind_is_left_to_wsme(db: str) -> None:
    wf_ex = rows.wf_ex()
    odds = (("output", [1, 2]), ("tags", [1]), ("description", 5), ("input", '{"a": 1}'),
            ("output", db_api.StoredJson("[1, 2]")))  # fmt: skip
    for name, odd in odds:
        row = types.SimpleNamespace(**{**{n: getattr(wf_ex, n) for n in SHOWN_COLUMNS}, name: odd})
        assert res.render_execution_plain(row, published_global=True) is None, name


def test_a_value_the_plain_renderer_leaves_to_wsme_is_answered_by_pecan(
    app: webtest.TestApp, answered_beside_pecan: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    wf_ex = rows.wf_ex(state="SUCCESS", output=[1, 2])
    answer = app.get(f"/v2/executions/{wf_ex.id}", status="*")
    assert answered_beside_pecan == [False]
    pecan = through_pecan(monkeypatch, app, f"/v2/executions/{wf_ex.id}", status="*")
    assert (answer.status, answer.body) == (pecan.status, pecan.body)
