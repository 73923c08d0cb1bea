"""What the execution endpoints ask of the engine, and that they answer with the re-read row."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import webtest

from mistral.api.controllers.v2 import execution_resources as res
from mistral.api.controllers.v2 import executions
from mistral.db import api as db_api
from mistral.exceptions import InputError, NotFoundError
from mistral.utils import nesting
from tests.unit.api.conftest import RecordingEngine
from tests.unit.api.rows import action_ex, task_ex, wf_ex


def _post(app: webtest.TestApp, path: str, body: dict[str, Any], status: int = 201) -> Any:
    return app.post_json(f"/v2{path}", body, status=status).json


def _put(app: webtest.TestApp, path: str, body: dict[str, Any], status: int = 200) -> Any:
    return app.put_json(f"/v2{path}", body, status=status).json


# -- POST /executions -------------------------------------------------------------------


def test_start_passes_name_namespace_input_description_and_resolved_env(
    app: webtest.TestApp, engine: RecordingEngine
) -> None:
    db_api.create_environment({"name": "prod", "variables": {"region": "north"}})
    started = wf_ex(workflow_name="wf", state="RUNNING")
    engine.answers["start_workflow"] = {"id": started.id}
    body = _post(
        app,
        "/executions",
        {
            "workflow_name": "wf",
            "workflow_namespace": "ns",
            "input": json.dumps({"a": 1}),
            "params": json.dumps({"env": "prod", "task_name": "t"}),
            "description": "first",
        },
    )
    assert engine.calls == [
        (
            "start_workflow",
            ("wf", "ns", None, {}, "first", {"env": {"region": "north"}, "task_name": "t"}),
            {"send_first_step": False, "wf_input_json": '{"a": 1}'},
        )
    ]
    assert body["id"] == started.id and body["state"] == "RUNNING"
    assert json.loads(body["output"]) == {"sum": 3}


def test_input_text_reaches_the_engine_undecoded(
    app: webtest.TestApp, engine: RecordingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine.answers["start_workflow"] = {"id": wf_ex(workflow_name="wf").id}
    decoded: list[Any] = []
    real_loads = nesting.loads_json
    monkeypatch.setattr(nesting, "loads_json", lambda text: decoded.append(text) or real_loads(text))
    text = json.dumps({"nums": list(range(1000))})
    _post(app, "/executions", {"workflow_name": "wf", "input": text})
    assert text not in decoded
    assert engine.calls[0][2]["wf_input_json"] == text


def test_input_merged_with_a_source_execution_is_read_by_the_api(
    app: webtest.TestApp, engine: RecordingEngine
) -> None:
    source = wf_ex(workflow_name="wf", input={"a": 1, "b": 2})
    engine.answers["start_workflow"] = {"id": wf_ex(workflow_name="wf").id}
    _post(app, "/executions", {"source_execution_id": source.id, "input": json.dumps({"b": 3})})
    assert engine.calls[0][1][3] == {"a": 1, "b": 3}
    assert engine.calls[0][2]["wf_input_json"] is None


def test_a_start_decodes_its_body_once_and_answers_as_the_wsme_rendering(
    app: webtest.TestApp, engine: RecordingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = wf_ex(workflow_name="wf", state="RUNNING", input={"records": [{"n": 1}, {"n": 2}]})
    engine.answers["start_workflow"] = {"id": started.id}
    decoded: list[Any] = []
    real_loads = nesting.loads_json
    monkeypatch.setattr(nesting, "loads_json", lambda text: decoded.append(text) or real_loads(text))
    body = _post(app, "/executions", {"workflow_name": "wf", "input": {"records": [{"n": 1}, {"n": 2}]}})
    assert len(decoded) == 1  # Pecan's argument lookup and the controller reuse the middleware's decode
    assert engine.calls[0][1][3] == {"records": [{"n": 1}, {"n": 2}]}
    wsme = res.render_execution(db_api.get_workflow_execution(started.id))
    assert json.dumps(body) == json.dumps(wsme)


@pytest.mark.parametrize("plain", [True, False])
def test_the_answer_is_the_execution_as_its_start_left_it(
    app: webtest.TestApp, engine: RecordingEngine, monkeypatch: pytest.MonkeyPatch, plain: bool
) -> None:
    # NOTE: the row is read after the start's commit: by then a small workflow may be done.
    done = wf_ex(workflow_name="wf", state="SUCCESS", output={"sum": 3})
    engine.answers["start_workflow"] = {"id": done.id, "state": "RUNNING", "state_info": None}
    if not plain:
        monkeypatch.setattr(res, "render_execution_plain", lambda *_, **__: None)
    body = _post(app, "/executions", {"workflow_name": "wf"})
    shown = (body["id"], body["state"], body["state_info"], body.get("output"))
    assert shown == (done.id, "RUNNING", None, None)
    assert body["input"] == json.dumps({"a": 1})
    assert app.get(f"/v2/executions/{done.id}").json["state"] == "SUCCESS"


def test_an_answer_read_in_the_state_the_start_left_is_the_row_as_read(
    app: webtest.TestApp, engine: RecordingEngine
) -> None:
    failed = wf_ex(workflow_name="wf", state="ERROR", state_info="bad input", output={"e": 1})
    engine.answers["start_workflow"] = {"id": failed.id, "state": "ERROR", "state_info": "bad input"}
    body = _post(app, "/executions", {"workflow_name": "wf"})
    assert (body["state"], body["state_info"], json.loads(body["output"])) == ("ERROR", "bad input", {"e": 1})


@pytest.mark.parametrize("pending", [True, False])
def test_a_pending_first_step_is_sent_once_the_answer_is_ready(
    app: webtest.TestApp, engine: RecordingEngine, monkeypatch: pytest.MonkeyPatch, pending: bool
) -> None:
    started = wf_ex(workflow_name="wf", state="RUNNING")
    engine.answers["start_workflow"] = {"id": started.id, **({"first_step_pending": True} if pending else {})}
    answer = executions._answer

    def answered(wf_ex_id: str) -> Any:
        engine.calls.append(("answered", (wf_ex_id,), {}))
        return answer(wf_ex_id)

    monkeypatch.setattr(executions, "_answer", answered)
    body = _post(app, "/executions", {"workflow_name": "wf"})
    assert body["id"] == started.id
    sent = [("run_first_steps", ([started.id],), {})] if pending else []
    assert [c[0] for c in engine.calls] == ["start_workflow", "answered", *[c[0] for c in sent]]
    assert engine.calls[2:] == sent


def test_a_first_step_that_could_not_be_sent_is_left_to_recovery(
    app: webtest.TestApp, engine: RecordingEngine
) -> None:
    started = wf_ex(workflow_name="wf", state="RUNNING")
    engine.answers["start_workflow"] = {"id": started.id, "first_step_pending": True}
    engine.answers["run_first_steps"] = ConnectionError("broker gone")
    assert _post(app, "/executions", {"workflow_name": "wf"})["id"] == started.id


def test_start_with_a_new_id_and_workflow_id(app: webtest.TestApp, engine: RecordingEngine) -> None:
    new_id, wf_id = str(uuid.uuid4()), str(uuid.uuid4())
    engine.answers["start_workflow"] = {"id": wf_ex().id}
    _post(app, "/executions", {"id": new_id, "workflow_id": wf_id, "params": {"env": {"x": 1}}})
    assert engine.calls[0][1] == (wf_id, "", new_id, {}, "", {"env": {"x": 1}})


def test_start_from_a_source_execution(app: webtest.TestApp, engine: RecordingEngine) -> None:
    source = wf_ex(
        workflow_name="wf",
        workflow_namespace="ns",
        input={"a": 1, "b": 2},
        params={"env": {"x": 1}, "task_execution_id": "t", "root_execution_id": "r", "notify": []},
    )
    engine.answers["start_workflow"] = {"id": wf_ex().id}
    _post(app, "/executions", {"source_execution_id": source.id, "input": {"b": 3}, "description": "again"})
    (name, args, _), *_ = engine.calls
    assert name == "start_workflow"
    assert args == (
        source.workflow_id,
        "ns",
        None,
        {"a": 1, "b": 3},
        f"again Based on the execution '{source.id}'",
        {"env": {"x": 1}, "notify": []},
    )


def test_known_id_does_not_call_the_engine(app: webtest.TestApp, engine: RecordingEngine) -> None:
    existing = wf_ex()
    assert _post(app, "/executions", {"id": existing.id, "workflow_name": "wf"})["id"] == existing.id
    assert engine.calls == []


@pytest.mark.parametrize(
    ("error", "status"), [(NotFoundError("Workflow", "wf"), 404), (InputError("bad"), 400)]
)
def test_engine_errors_keep_their_status(
    app: webtest.TestApp, engine: RecordingEngine, error: Exception, status: int
) -> None:
    engine.answers["start_workflow"] = error
    body = _post(app, "/executions", {"workflow_name": "wf"}, status=status)
    assert body["faultstring"] == str(error)


# -- PUT /executions/{id} -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "call"),
    [
        ({"state": "PAUSED"}, ("pause_workflow", ("ID",), {})),
        ({"state": "RUNNING"}, ("resume_workflow", ("ID",), {"env": None})),
        ({"state": "RUNNING", "params": {"env": {"a": 1}}}, ("resume_workflow", ("ID",), {"env": {"a": 1}})),
        ({"state": "ERROR", "state_info": "stop"}, ("stop_workflow", ("ID", "ERROR", "stop"), {})),
        ({"state": "CANCELLED"}, ("stop_workflow", ("ID", "CANCELLED", None), {})),
        ({"state": "SUCCESS"}, ("stop_workflow", ("ID", "SUCCESS", None), {})),
    ],
)
def test_state_changes_call_the_engine(
    app: webtest.TestApp, engine: RecordingEngine, body: dict[str, Any], call: tuple[Any, ...]
) -> None:
    ex = wf_ex(state="RUNNING", description="seen")
    answer = _put(app, f"/executions/{ex.id}", body)
    name, args, kwargs = call
    assert engine.calls == [(name, tuple(ex.id if a == "ID" else a for a in args), kwargs)]
    assert answer["id"] == ex.id and answer["description"] == "seen"


@pytest.mark.parametrize(
    ("resumed", "shown"), [("RUNNING", "RUNNING"), ("SUCCESS", "SUCCESS"), (None, "SUCCESS")]
)
def test_a_resume_is_answered_as_the_resume_left_it_even_when_it_has_finished(
    app: webtest.TestApp, engine: RecordingEngine, resumed: str | None, shown: str
) -> None:
    # NOTE: the row has moved on (the rest ran before the answer); an engine that names no state
    # (an older one) leaves the answer to the read.
    ex = wf_ex(state="SUCCESS", output={"done": True})
    engine.answers["resume_workflow"] = {"id": ex.id, **({"state": resumed} if resumed else {})}
    answer = _put(app, f"/executions/{ex.id}", {"state": "RUNNING"})
    assert answer["state"] == shown
    output = answer.get("output")
    assert (json.loads(output) if output else None) == ({"done": True} if shown == "SUCCESS" else None)


# -- PUT /tasks/{id} ------------------------------------------------------------------------


def test_rerun_passes_reset_and_env(app: webtest.TestApp, engine: RecordingEngine) -> None:
    task = task_ex(wf_ex(), "t", state="ERROR")
    answer = _put(
        app, f"/tasks/{task.id}", {"id": task.id, "state": "RUNNING", "reset": True, "env": '{"a": 1}'}
    )
    assert engine.calls == [("rerun_task", (task.id,), {"reset": True, "env": {"a": 1}})]
    assert answer["id"] == task.id and json.loads(answer["result"]) == [1, 2]


def test_a_rerun_is_answered_as_the_rerun_left_the_task_even_when_it_has_finished(
    app: webtest.TestApp, engine: RecordingEngine
) -> None:
    task = task_ex(wf_ex(), "t", state="ERROR")

    def rerun_whose_action_ends_at_once(task_ex_id: str, **_: Any) -> dict[str, Any]:
        with db_api.transaction():
            db_api.get_task_execution(task_ex_id).state = "SUCCESS"
        return {"id": task_ex_id, "state": "RUNNING"}

    engine.answers["rerun_task"] = rerun_whose_action_ends_at_once
    answer = _put(app, f"/tasks/{task.id}", {"id": task.id, "state": "RUNNING"})
    assert (answer["id"], answer["state"], answer.get("state_info")) == (task.id, "RUNNING", None)
    assert json.loads(answer["published"]) == {} and answer["name"] == "t"
    assert db_api.get_task_execution(task.id).state == "SUCCESS"


def test_rerun_without_reset_of_a_with_items_task(app: webtest.TestApp, engine: RecordingEngine) -> None:
    task = task_ex(wf_ex(), "t", state="ERROR", spec={"action": "std.echo", "with-items": "x in [1, 2]"})
    _put(app, f"/tasks/{task.id}", {"state": "RUNNING", "reset": False, "name": "t", "workflow_name": "wf"})
    assert engine.calls == [("rerun_task", (task.id,), {"reset": False, "env": None})]


def test_skip(app: webtest.TestApp, engine: RecordingEngine) -> None:
    task = task_ex(wf_ex(), "t", state="ERROR")
    _put(app, f"/tasks/{task.id}", {"state": "SKIPPED"})
    assert engine.calls == [("skip_task", (task.id,), {})]


# -- /action_executions ---------------------------------------------------------------------


def test_sync_run_without_saving_answers_the_engine_values(
    app: webtest.TestApp, engine: RecordingEngine
) -> None:
    engine.answers["start_action"] = {
        "id": None,
        "name": "std.echo",
        "state": "SUCCESS",
        "input": {"output": "hi"},
        "output": {"result": "hi"},
        "workflow_namespace": "ns",
        "description": "",
    }
    body = _post(
        app,
        "/action_executions",
        {
            "name": "std.echo",
            "input": '{"output": "hi"}',
            "workflow_namespace": "ns",
            "params": '{"run_sync": true}',
        },
    )
    assert engine.calls == [
        (
            "start_action",
            ("std.echo", {"output": "hi"}),
            {"description": "", "namespace": "ns", "params": {"run_sync": True}},
        )
    ]
    assert body["id"] is None and body["state"] == "SUCCESS"
    assert json.loads(body["output"]) == {"result": "hi"}


def test_saved_run_answers_the_stored_row(app: webtest.TestApp, engine: RecordingEngine) -> None:
    row = action_ex(None, state="RUNNING", output=None)
    engine.answers["start_action"] = {"id": row.id}
    body = _post(
        app,
        "/action_executions",
        {
            "name": "std.echo",
            "params": {"save_result": True, "timeout": 5, "target": "h"},
            "description": "d",
        },
    )
    assert engine.calls[0][2] == {
        "description": "d",
        "namespace": "",
        "params": {"save_result": True, "timeout": 5, "target": "h"},
    }
    assert body["id"] == row.id and body["state"] == "RUNNING"


def test_a_sent_run_is_answered_as_sent_even_when_it_has_finished(
    app: webtest.TestApp, engine: RecordingEngine
) -> None:
    # Mistral answers with the action as it created it; a quick one is often done before the answer.
    row = action_ex(None, state="SUCCESS", output={"result": "hi"}, description="d")
    engine.answers["start_action"] = {"id": row.id, "sent": True}
    body = _post(app, "/action_executions", {"name": "std.echo", "params": {"save_result": True}})
    assert (body["id"], body["state"], body["description"]) == (row.id, "RUNNING", "d")
    assert body.get("output") in (None, "null", "{}")
    assert app.get(f"/v2/action_executions/{row.id}").json["state"] == "SUCCESS"


@pytest.mark.parametrize(
    ("body", "call"),
    [
        ({"state": "SUCCESS", "output": {"x": 1}}, ("complete_action", ("ID", {"data": {"x": 1}}))),
        ({"state": "SUCCESS", "output": '{"x": 1}'}, ("complete_action", ("ID", {"data": {"x": 1}}))),
        # NOTE: Mistral 23 refuses a bare string as the output, ERROR or not (issue 10): an object.
        ({"state": "ERROR", "output": {"why": "x"}}, ("complete_action", ("ID", {"error": {"why": "x"}}))),
        ({"state": "ERROR", "output": {}}, ("complete_action", ("ID", {"error": "Unknown error"}))),
        ({"state": "ERROR"}, ("complete_action", ("ID", {"error": "Unknown error"}))),
        ({"state": "CANCELLED"}, ("update_action", ("ID", "CANCELLED"))),
        ({"state": "PAUSED"}, ("update_action", ("ID", "PAUSED"))),
        ({"state": "RUNNING"}, ("update_action", ("ID", "RUNNING"))),
    ],
)
def test_action_result_and_state(
    app: webtest.TestApp, engine: RecordingEngine, body: dict[str, Any], call: tuple[Any, ...]
) -> None:
    row = action_ex(task_ex(wf_ex(), "t"), state="RUNNING")
    answer = _put(app, f"/action_executions/{row.id}", body)
    name, args = call
    assert engine.calls == [(name, tuple(row.id if a == "ID" else a for a in args), {})]
    assert answer["id"] == row.id and answer["task_name"] == "t"
