from __future__ import annotations

import pytest
from mistral_lib.actions import Result
from mistral_lib.actions.context import ActionContext, ExecutionContext, SecurityContext
from mistral_lib.exceptions import ActionException

from mistral.actions.http import HTTPAction, MistralHTTPAction
from tests.unit.actions.conftest import unused_port

RESULT_KEYS = {"content", "status", "headers", "url", "history", "encoding", "reason", "cookies", "elapsed"}


def test_get_returns_json_content_and_details(http_url: str) -> None:
    result = HTTPAction(f"{http_url}/things?a=1").run(None)
    assert set(result) == RESULT_KEYS
    assert result["status"] == 200
    assert result["reason"] == "OK"
    assert result["content"]["method"] == "GET"
    assert result["content"]["path"] == "/things?a=1"
    assert result["headers"]["Content-Type"] == "application/json"
    assert result["cookies"] == {"flavor": "oat"}
    assert result["url"] == f"{http_url}/things?a=1"
    assert result["history"] == []
    assert isinstance(result["elapsed"], float)


def test_text_content_stays_text(http_url: str) -> None:
    assert HTTPAction(f"{http_url}/?text=1").run(None)["content"] == "plain text"


def test_params_headers_and_auth_are_sent(http_url: str) -> None:
    action = HTTPAction(
        f"{http_url}/p", params={"q": "x y"}, headers={"X-Count": 3, "X-Name": "n"}, auth="user:pa:ss"
    )
    content = action.run(None)["content"]
    assert content["path"] == "/p?q=x+y"
    assert content["headers"]["X-Count"] == "3"
    assert content["headers"]["X-Name"] == "n"
    # base64("user:pa:ss"): only the first colon separates the user.
    assert content["headers"]["Authorization"] == "Basic dXNlcjpwYTpzcw=="


def test_post_json(http_url: str) -> None:
    content = HTTPAction(http_url, method="post", json={"a": 1}).run(None)["content"]
    assert content["method"] == "POST"
    assert content["body"] == '{"a": 1}'
    assert content["headers"]["Content-Type"] == "application/json"


@pytest.mark.parametrize(("body", "sent"), [("raw text", "raw text"), ({"k": "v"}, '{"k": "v"}')])
def test_put_body(http_url: str, body: object, sent: str) -> None:
    assert HTTPAction(http_url, method="PUT", body=body).run(None)["content"]["body"] == sent


@pytest.mark.parametrize("status", [400, 404, 500, 307])
def test_error_status_gives_error_result(http_url: str, status: int) -> None:
    result = HTTPAction(f"{http_url}/?status={status}").run(None)
    assert isinstance(result, Result)
    assert result.is_error()
    assert result.error["status"] == status
    assert set(result.error) == RESULT_KEYS


@pytest.mark.parametrize("status", [201, 204, 306])
def test_success_statuses(http_url: str, status: int) -> None:
    result = HTTPAction(f"{http_url}/?status={status}").run(None)
    assert isinstance(result, dict)
    assert result["status"] == status


def test_redirect_is_followed_and_recorded(http_url: str) -> None:
    result = HTTPAction(f"{http_url}/?redirect=/target").run(None)
    assert result["status"] == 200
    assert result["content"]["path"] == "/target"
    assert result["history"] == [{"status": 302, "url": f"{http_url}/?redirect=/target"}]


def test_redirect_not_followed_when_disallowed(http_url: str) -> None:
    result = HTTPAction(f"{http_url}/?redirect=/target", allow_redirects=False).run(None)
    assert result["status"] == 302


def test_body_and_json_together_is_an_error() -> None:
    with pytest.raises(ValueError, match="body"):
        HTTPAction("http://127.0.0.1/", body="x", json={"a": 1})


def test_malformed_auth_is_an_error() -> None:
    with pytest.raises(ValueError, match="auth"):
        HTTPAction("http://127.0.0.1/", auth=["only-user"])


def test_connection_refused_raises_action_exception() -> None:
    url = f"http://127.0.0.1:{unused_port()}/"
    with pytest.raises(ActionException, match=f"HTTP GET {url} failed"):
        HTTPAction(url, timeout=5).run(None)


def test_mistral_http_sends_callback_headers(http_url: str) -> None:
    context = ActionContext(
        security_ctx=SecurityContext(),
        execution_ctx=ExecutionContext(
            workflow_execution_id="wf-1",
            task_execution_id="task-1",
            action_execution_id="action-1",
            workflow_name="my_wf",
            callback_url="http://mistral/v2/action_executions/action-1",
        ),
    )
    action = MistralHTTPAction(http_url, headers={"X-Own": "kept"})
    assert action.is_sync() is False
    headers = action.run(context)["content"]["headers"]
    assert headers["Mistral-Workflow-Name"] == "my_wf"
    assert headers["Mistral-Workflow-Execution-Id"] == "wf-1"
    assert headers["Mistral-Task-Id"] == "task-1"
    assert headers["Mistral-Action-Execution-Id"] == "action-1"
    assert headers["Mistral-Callback-URL"] == "http://mistral/v2/action_executions/action-1"
    assert headers["X-Own"] == "kept"


def test_mistral_http_leaves_out_unknown_values(http_url: str) -> None:
    context = ActionContext(execution_ctx=ExecutionContext(workflow_name="only_name"))
    headers = MistralHTTPAction(http_url).run(context)["content"]["headers"]
    assert headers["Mistral-Workflow-Name"] == "only_name"
    assert "Mistral-Callback-URL" not in headers
