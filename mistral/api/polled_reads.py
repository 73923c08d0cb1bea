"""GET /v2/executions/{id} answered beside Pecan: the one request that clients repeat in a loop.

NOTE (issue 14): a client waiting for an execution asks for it again and again, 50 clients
at a time in the benchmark. Through Pecan one such GET cost about 0.8 ms of CPU, a fifth of
it in routing (object dispatch, argument specs, hooks), which is the same for every poll.
This layer recognizes that one request (GET, an execution id, no query string) and runs
the controller's own steps itself: the caller's context as the context hook builds it,
the same policy rule, the same query and the same rendering. Anything else, and any
request that would not answer 200 (unknown id, policy refusal, an error), goes to Pecan,
so every fault keeps its one source of truth: ``mistral.api.errors``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from webob.headers import EnvironHeaders

from mistral import context
from mistral.api import hooks, policy
from mistral.api.controllers.v2 import execution_resources as res
from mistral.api.middleware import StartResponse
from mistral.db import api as db_api

LOG = logging.getLogger(__name__)

#: ``/v2/executions/<id>``: ids are UUIDs (36 characters), as the engine makes them.
EXECUTION_PATH = re.compile(r"/v2/executions/([0-9a-fA-F-]{36})")
#: The headers Pecan sends with the controller's answer (see ``mistral.api.errors.endpoint``).
JSON_CONTENT_TYPE = "application/json"


class PolledReads:
    """Answer a plain GET of one execution without routing; pass every other request to ``app``."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = self._execution(environ) if environ.get("REQUEST_METHOD") == "GET" else None
        if body is None:
            return self.app(environ, start_response)
        start_response("200 OK", [("Content-Type", JSON_CONTENT_TYPE), ("Content-Length", str(len(body)))])
        return [body]

    def _execution(self, environ: dict[str, Any]) -> bytes | None:
        if environ.get("QUERY_STRING"):
            return None  # fields=..., or an unknown argument the contract answers with a 400
        match = EXECUTION_PATH.fullmatch(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        if match is None:
            return None
        token = context.set_current(hooks.request_context(EnvironHeaders(environ), environ))
        try:
            policy.enforce("executions:get")
            wf_ex = db_api.load_workflow_execution_shown(match.group(1))
            if wf_ex is None:
                return None
            rendered = res.render_execution_plain(wf_ex, published_global=True)
            # NOTE: a value the plain renderer leaves to WSME: the controller renders the model.
            return None if rendered is None else json.dumps(rendered).encode()
        except Exception:  # noqa: BLE001 - a refusal, a database error: Pecan answers it with its fault
            return None
        finally:
            context.reset(token)
