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
from wsme import types as wtypes

from mistral import context
from mistral.api import hooks, policy
from mistral.api.controllers.resource import format_time
from mistral.api.controllers.types import JsonType
from mistral.api.controllers.v2 import execution_resources as res
from mistral.api.middleware import StartResponse
from mistral.db import api as db_api
from mistral.services import executions as ex_service

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
            rendered = render_execution(wf_ex)
            if rendered is None:
                rendered = res.render_execution(wf_ex, None, published_global=True)
            return json.dumps(rendered).encode()
        except Exception:  # noqa: BLE001 - a refusal, a database error: Pecan answers it with its fault
            return None
        finally:
            context.reset(token)


def _kind(datatype: Any) -> type | None:
    if datatype is wtypes.text:
        return str
    if isinstance(datatype, wtypes.ArrayType) and datatype.item_type is wtypes.text:
        return list
    if isinstance(datatype, JsonType) and type(datatype) is JsonType:
        return dict
    return None  # a kind this renderer does not know: WSME renders it


#: The execution resource's fields in WSME's order, each with the one kind of value it holds.
EXECUTION_FIELDS = tuple((a.name, _kind(a.datatype)) for a in wtypes.list_attributes(res.Execution))


def render_execution(wf_ex: Any) -> dict[str, Any] | None:
    """``res.render_execution(wf_ex, None, published_global=True)`` without WSME, or None.

    NOTE: WSME validates each value into a resource object and walks it again to render it,
    about 40% of a polled GET's CPU once routing and the ORM were gone. The values of a stored
    execution are plain: text, a list of texts, dicts that render as JSON text. Any other value
    (one WSME would convert or refuse) makes this return None, and WSME renders it as before.
    """
    out: dict[str, Any] = {}
    for name, kind in EXECUTION_FIELDS:
        if name == "published_global":
            value: Any = ex_service.execution_published_global(wf_ex)
        else:
            value = format_time(getattr(wf_ex, name, None))
        if value is None:
            out[name] = None
        elif kind is str and type(value) is str:
            out[name] = value
        elif kind is list and type(value) is list and all(type(item) is str for item in value):
            out[name] = list(value)
        elif kind is dict and type(value) is dict:
            out[name] = json.dumps(value)
        else:
            return None
    return out
