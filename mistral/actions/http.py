"""std.http and its asynchronous sibling std.mistral_http."""

from __future__ import annotations

import json as jsonlib
import logging
from typing import Any

import requests
from mistral_lib import actions
from mistral_lib.actions.context import ActionContext
from mistral_lib.exceptions import ActionException

from mistral.actions import http_guard
from mistral.config import CONF

LOG = logging.getLogger(__name__)

# Statuses Mistral has always treated as success (2xx and the 3xx it does not follow).
_SUCCESS = range(200, 307)


class HTTPAction(actions.Action):
    """Send an HTTP request and return the response."""

    def __init__(
        self,
        url: str,
        method: str = "GET",
        params: Any = None,
        body: Any = None,
        json: Any = None,
        headers: dict[str, Any] | None = None,
        cookies: dict[str, str] | None = None,
        auth: Any = None,
        timeout: float | None = None,
        allow_redirects: bool | None = None,
        proxies: dict[str, str] | None = None,
        verify: bool | str | None = None,
    ) -> None:
        if body is not None and json is not None:
            raise ValueError("Only one of 'body' and 'json' may be given")
        self.url = url
        self.method = str(method).upper()
        self.params = params
        self.body = body
        self.json = json
        self.headers = headers
        self.cookies = cookies
        _auth(auth)  # reject a malformed auth now, as a bad input, not at run time
        self.auth = auth
        self.timeout = float(timeout) if timeout is not None else None
        self.allow_redirects = allow_redirects
        self.proxies = proxies
        self.verify = verify

    def run(self, context: ActionContext) -> Any:
        kwargs = self._request_kwargs(self._headers(context))
        LOG.debug("HTTP action %s %s", self.method, self.url)
        try:
            with http_guard.session() as session:
                resp = session.request(self.method, self.url, **kwargs)
        except http_guard.RefusedError as exc:
            raise ActionException(f"HTTP {self.method} {self.url} refused: {exc}") from exc
        except requests.Timeout as exc:
            why = f"{exc}{self._timeout_origin()}"
            raise ActionException(f"HTTP {self.method} {self.url} failed: {why}") from exc
        except requests.RequestException as exc:
            raise ActionException(f"HTTP {self.method} {self.url} failed: {exc}") from exc
        result = _describe(resp)
        if resp.status_code not in _SUCCESS:
            return actions.Result(error=result)
        return result

    def _timeout_origin(self) -> str:
        if self.timeout is not None:
            return ""
        return f" (the [action_http] default_timeout of {CONF.action_http.default_timeout} s; give a timeout)"

    def _headers(self, context: ActionContext) -> dict[str, str]:
        # requests accepts only str or bytes header values; workflows often pass numbers.
        return {str(k): str(v) for k, v in (self.headers or {}).items() if v is not None}

    def _request_kwargs(self, headers: dict[str, str]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "params": self.params,
            "headers": headers,
            "cookies": self.cookies,
            "auth": _auth(self.auth),
            "timeout": CONF.action_http.default_timeout if self.timeout is None else self.timeout,
            "proxies": self.proxies,
            # The body is read by the session, up to [action_http] max_response_size.
            "stream": True,
        }
        if self.json is not None:
            kwargs["json"] = self.json
        elif isinstance(self.body, dict | list):
            # A structured body from YAML is meant as a JSON document.
            kwargs["data"] = jsonlib.dumps(self.body)
        elif self.body is not None:
            kwargs["data"] = self.body
        # Leave requests' own defaults alone unless the workflow chose.
        if self.allow_redirects is not None:
            kwargs["allow_redirects"] = bool(self.allow_redirects)
        if self.verify is not None:
            kwargs["verify"] = self.verify
        return kwargs


class MistralHTTPAction(HTTPAction):
    """Send an HTTP request carrying the callback headers; the result comes later via the API."""

    def is_sync(self) -> bool:
        return False

    def _headers(self, context: ActionContext) -> dict[str, str]:
        headers = super()._headers(context)
        exec_ctx = getattr(context, "execution", None)
        if exec_ctx is None:
            return headers
        callback = {
            "Mistral-Workflow-Name": exec_ctx.workflow_name,
            "Mistral-Workflow-Execution-Id": exec_ctx.workflow_execution_id,
            "Mistral-Task-Id": exec_ctx.task_execution_id,
            "Mistral-Action-Execution-Id": exec_ctx.action_execution_id,
            "Mistral-Callback-URL": exec_ctx.callback_url,
        }
        headers.update({k: str(v) for k, v in callback.items() if v is not None})
        return headers


def _auth(auth: Any) -> Any:
    """``"user:password"`` (Mistral's form) or a two-item list as a basic-auth pair."""
    if auth is None or auth == "":
        return None
    if isinstance(auth, str):
        user, _, password = auth.partition(":")
        return (user, password)
    if isinstance(auth, list | tuple) and len(auth) == 2:
        return (str(auth[0]), str(auth[1]))
    raise ValueError("auth must be 'user:password' or a [user, password] pair")


def _describe(resp: requests.Response) -> dict[str, Any]:
    try:
        content: Any = resp.json()
    except ValueError:
        content = resp.text
    return {
        "content": content,
        "status": resp.status_code,
        "headers": dict(resp.headers.items()),
        "url": resp.url,
        # Response objects do not serialize; the redirect chain is kept as plain data.
        "history": [{"status": r.status_code, "url": r.url} for r in resp.history],
        "encoding": resp.encoding,
        "reason": resp.reason,
        "cookies": dict(resp.cookies.items()),
        "elapsed": resp.elapsed.total_seconds(),
    }
