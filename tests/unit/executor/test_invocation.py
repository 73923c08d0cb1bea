"""Running one action and mapping its outcome, without threads."""

from __future__ import annotations

import enum
import json
import threading
from typing import Any

import pytest
from mistral_lib import utils

from mistral import config
from mistral.executor import app_context, invocation
from tests.unit.executor.support import request

SECURITY = {"project_id": "p1", "user_name": "alice", "auth_token": "t0k", "roles": ["admin"]}


def run(action_name: str, action_input: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any] | None:
    return invocation.invoke(request("a1", action_name, action_input, **extra), SECURITY)


def test_echo_returns_data() -> None:
    assert run("std.echo", {"output": {"x": [1, 2]}}) == {"action_ex_id": "a1", "data": {"x": [1, 2]}}


def test_fail_without_data_reports_exception_type_and_message() -> None:
    assert run("std.fail") == {"action_ex_id": "a1", "error": "ActionException: std.fail failed on purpose"}


def test_fail_with_error_data_reports_it() -> None:
    assert run("std.fail", {"error_data": {"code": 7}}) == {"action_ex_id": "a1", "error": {"code": 7}}


def test_unknown_action_is_named() -> None:
    result = run("std.no_such_action")
    assert set(result) == {"action_ex_id", "error"}
    assert "std.no_such_action" in result["error"]


def test_missing_input_is_named() -> None:
    result = run("std.echo", {})
    assert "missing=['output']" in result["error"]


def test_unexpected_input_is_named() -> None:
    result = run("std.echo", {"output": 1, "colour": "red"})
    assert "unexpected=['colour']" in result["error"]


def test_plugin_exception_becomes_type_and_message() -> None:
    assert run("test.boom") == {"action_ex_id": "a1", "error": "ValueError: boom"}


def test_async_action_reports_nothing() -> None:
    assert run("std.async_noop") is None


def test_async_action_returning_error_still_reports_it() -> None:
    result = run("test.result", {"error": "could not start", "is_async": True})
    assert result == {"action_ex_id": "a1", "error": "could not start"}


def test_result_cancel() -> None:
    assert run("test.result", {"cancel": True}) == {"action_ex_id": "a1", "cancel": True}


def test_result_data_is_unwrapped() -> None:
    assert run("test.result", {"data": [1]}) == {"action_ex_id": "a1", "data": [1]}


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("object", lambda data: isinstance(data, str) and "object" in data),
        ("nested", lambda data: data["items"] == [1, 2] and data["raw"] == "abc" and data["tuple"] == [1, 2]),
        ("circular", lambda data: isinstance(data, str)),
    ],
)
def test_odd_results_are_made_json_safe(kind: str, check: Any) -> None:
    result = run("test.odd", {"kind": kind})
    assert json.loads(json.dumps(result)) == result
    assert check(result["data"])


def test_odd_error_is_made_json_safe() -> None:
    result = run("test.result", {"error": {"when": object()}})
    assert json.loads(json.dumps(result)) == result


def test_redelivered_unsafe_request_is_failed_without_running() -> None:
    result = run("test.boom", redelivered=True, safe_rerun=False)
    assert "redelivered" in result["error"]
    assert "ValueError" not in result["error"]


def test_redelivered_safe_request_runs() -> None:
    assert run("std.echo", {"output": 1}, redelivered=True, safe_rerun=True)["data"] == 1


def test_action_context_carries_security_and_execution() -> None:
    execution = {"workflow_execution_id": "wf1", "task_execution_id": "t1", "action_execution_id": "a1"}
    execution |= {"workflow_name": "wf", "with_items_index": None, "unknown_field": 1}
    data = run("test.context", context=execution)["data"]
    assert data["security"]["project_id"] == "p1"
    assert data["security"]["user_name"] == "alice"
    assert data["security"]["redelivered"] is False
    assert data["execution"]["workflow_execution_id"] == "wf1"
    assert data["execution"]["task_execution_id"] == "t1"
    assert data["execution"]["workflow_name"] == "wf"
    # None means "not given", so mistral-lib's default applies.
    assert data["execution"]["with_items_index"] == 0
    assert "unknown_field" not in data["execution"]


def test_deprecated_task_id_fills_task_execution_id() -> None:
    data = run("test.context", context={"task_id": "t9"})["data"]
    assert data["execution"]["task_execution_id"] == "t9"


def test_describe_exception_without_message() -> None:
    assert invocation.describe_exception(KeyError()) == "KeyError"


CATALOG = {"methods": ["password"], "catalog": [{"type": "identity", "endpoints": []}]}


def test_the_requests_credentials_reach_the_action_over_the_rpc_context() -> None:
    security = {**SECURITY, "trust_id": "tr1", "is_trust_scoped": True, "user_id": "u1"}
    credentials = {"auth_token": "starter-token", "service_catalog": CATALOG, "region_name": "R1"}
    req = request("a1", "test.context", credentials=credentials)
    data = invocation.invoke(req, security)["data"]["security"]
    assert data["auth_token"] == "starter-token"
    assert (data["service_catalog"], data["region_name"]) == (CATALOG, "R1")
    assert (data["trust_id"], data["is_trust_scoped"]) == ("tr1", True)
    # No request credentials: the RPC context's token, as before.
    assert run("test.context")["data"]["security"]["auth_token"] == "t0k"


def test_keystone_settings_fill_auth_uri_cacert_and_insecure(override_conf: Any) -> None:
    config.register_keystone_opts()
    override_conf("keystone_authtoken", "www_authenticate_uri", "http://keystone.test:5000/v3")
    override_conf("keystone_authtoken", "cafile", "/etc/ssl/ca.pem")
    data = run("test.context")["data"]["security"]
    assert (data["auth_uri"], data["auth_cacert"], data["insecure"]) == (
        "http://keystone.test:5000/v3",
        "/etc/ssl/ca.pem",
        False,
    )


def test_the_app_context_is_held_only_while_the_action_runs() -> None:
    seen = invocation.invoke(request("a1", "test.app_context"), {**SECURITY, "user_id": "u1"})["data"]
    assert seen == {"auth_token": "t0k", "project_id": "p1", "user_id": "u1", "user_name": "alice"}
    assert utils.get_thread_local(app_context.THREAD_LOCAL_NAME) is None


class _Resource:
    """Like an OpenStack client's resource: plain attributes, and a manager nobody can encode."""

    def __init__(self) -> None:
        self.id, self.name, self.manager = "p1", "project one", threading.Lock()


def test_a_client_resource_becomes_its_attributes() -> None:
    data = invocation.json_safe([_Resource()])
    assert data[0]["id"] == "p1" and data[0]["name"] == "project one"
    assert json.loads(json.dumps(data)) == data


def test_plain_values_are_answered_as_they_are() -> None:
    for value in ("x", 3, 2.5, float("inf"), True, None):
        assert invocation.json_safe(value) is value
    answer = invocation.json_safe(
        enum.IntEnum("Level", "LOW HIGH").HIGH
    )  # a subclass still goes through JSON
    assert answer == 2 and type(answer) is int
