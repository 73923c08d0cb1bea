"""Pecan's own answers (no such route, method not allowed) in Mistral's fault shape, and only the
documented routes served.

Pecan's RestController also reaches a controller by other paths than the documented ones
(``/workflows/members/{a}/{b}`` runs the members controller of workflow ``a``); a request whose
path is not one of its handler's routes (``mistral.api.apidoc.routes``) is answered as unknown.
"""

from __future__ import annotations

import json
import re
from typing import Any

import webob
from pecan import hooks
from webob import exc as webob_exc

from mistral.api.apidoc import routes

#: How an answer for a path no controller serves begins.
NO_ROUTE = "The resource could not be found"


def no_route_message(path: str) -> str:
    return f"{NO_ROUTE}: {path}"


def fault_response(status: int, message: str, headers: Any = ()) -> webob.Response:
    body = json.dumps({"faultcode": "Client", "faultstring": message, "debuginfo": None})
    response = webob.Response(body=body.encode(), status=status, content_type="application/json")
    for name, value in headers:
        response.headers[name] = value
    return response


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


class RouteFaultHook(hooks.PecanHook):
    """A routing 404 or 405 answers ``{"faultstring": ...}`` like every other error."""

    def __init__(self, root: Any) -> None:
        self.paths: dict[Any, list[re.Pattern[str]]] = {}
        for route in routes.walk(root):
            self.paths.setdefault(route.func, []).append(_pattern(route.path))

    def before(self, state: Any) -> None:
        handler = getattr(state.controller, "__func__", state.controller)
        path = state.request.path
        path = path.rstrip("/") or "/"
        patterns = self.paths.get(handler)
        if patterns is not None and not any(p.match(path) for p in patterns):
            raise webob_exc.HTTPNotFound()

    def on_error(self, state: Any, error: Exception) -> webob.Response | None:
        if isinstance(error, webob_exc.HTTPNotFound):
            return fault_response(404, no_route_message(state.request.path))
        if isinstance(error, webob_exc.HTTPMethodNotAllowed):
            allow = error.headers.get("Allow", "")
            message = f"Method {state.request.method} is not allowed for {state.request.path}"
            if allow:
                message += f"; allowed: {allow}"
            return fault_response(405, message, [("Allow", allow)] if allow else ())
        return None
