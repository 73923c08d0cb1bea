"""Pecan's own answers (no such route, method not allowed) in Mistral's fault shape, and only the
documented routes served.

Pecan reaches controllers by more paths and methods than the documented ones: ``/workflows/members/a/b``
runs the members controller of workflow ``a``, ``DELETE /workflows`` calls ``delete()`` without an id,
``POST /v2`` runs the GET-only index. A request that is not one of the routes ``mistral.api.apidoc.routes``
finds for its handler is answered 405 if the path has other methods, 404 otherwise.
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


def _route_path(path: str) -> str:
    """``path`` as the routes name it: no trailing slash (the root stays ``/``)."""
    return path.rstrip("/") or "/"


def _path_and_method(request: Any) -> tuple[str, str]:
    """The request's path and method as the routes name them (HEAD is GET)."""
    return _route_path(request.path), "GET" if request.method == "HEAD" else request.method


class RouteFaultHook(hooks.PecanHook):
    """A routing 404 or 405 answers ``{"faultstring": ...}`` like every other error."""

    def __init__(self, root: Any) -> None:
        walked = list(routes.walk(root))
        self.routes = [(_pattern(r.path), r.method.upper(), r.func) for r in walked]
        #: The methods of each route without parameters (``/v2/workflows/validate``): a path of its own,
        #: no id of the resource with parameters beside it (``/v2/workflows/{identifier}``).
        self.fixed: dict[str, set[str]] = {}
        for r in walked:
            if "{" not in r.path:
                self.fixed.setdefault(_route_path(r.path), set()).add(r.method.upper())
        #: Each handler's own routes: the one lookup a served request needs.
        self.by_handler: dict[tuple[str, Any], list[re.Pattern[str]]] = {}
        for pattern, method, func in self.routes:
            self.by_handler.setdefault((method, func), []).append(pattern)

    def _an_id_named_as_a_sub_resource(self, request: Any) -> bool:
        """Whether only a route with a parameter has the request's path and method: the id is the path's."""
        path, method = _path_and_method(request)
        if path in self.fixed:
            return False  # a resource of that name (POST-only /v2/workflows/validate): 405 is right
        return any(m == method and pattern.match(path) for pattern, m, _ in self.routes)

    def before(self, state: Any) -> None:
        path, method = _path_and_method(state.request)
        handler = getattr(state.controller, "__func__", state.controller)
        if any(p.match(path) for p in self.by_handler.get((method, handler), ())):
            return
        allowed = self._allowed(path)
        if allowed and method not in allowed:
            raise webob_exc.HTTPMethodNotAllowed(headers={"Allow": ", ".join(allowed)})
        raise webob_exc.HTTPNotFound()

    def _allowed(self, path: str) -> list[str]:
        """The methods the documented routes serve at ``path``."""
        if path in self.fixed:
            return sorted(self.fixed[path])
        return sorted({m for pattern, m, _ in self.routes if pattern.match(path)})

    def on_route(self, state: Any) -> None:
        # NOTE: Pecan parses form bodies while routing, and a parse error there would escape as a
        # bare 500; parsing first turns it into a 400 naming the problem.
        try:
            state.request.params  # noqa: B018 - parsed and cached by WebOb
        except ValueError as error:
            content_type = state.request.content_type or "no Content-Type"
            raise webob_exc.HTTPBadRequest(
                f"The request body is not valid {content_type}: {error}"
            ) from error

    def on_error(self, state: Any, error: Exception) -> webob.Response | None:
        if isinstance(error, webob_exc.HTTPBadRequest):
            return fault_response(400, error.detail or error.explanation)
        if isinstance(error, webob_exc.HTTPNotFound):
            return fault_response(404, no_route_message(state.request.path))
        if isinstance(error, webob_exc.HTTPMethodNotAllowed):
            if self._an_id_named_as_a_sub_resource(state.request):
                # NOTE: DELETE /v2/executions/spec: Pecan routed the id to the sub-resource ``spec``
                # (of /v2/executions/{id}/spec), which has no DELETE. No execution with that id
                # is reachable here; the GET of the same path answers 404 too.
                return fault_response(404, no_route_message(state.request.path))
            # NOTE: Pecan's Allow names the methods its controller has, not the documented routes'.
            documented = self._allowed(_route_path(state.request.path))
            allow = ", ".join(documented) if documented else error.headers.get("Allow", "")
            message = f"Method {state.request.method} is not allowed for {state.request.path}"
            if allow:
                message += f"; allowed: {allow}"
            return fault_response(405, message, [("Allow", allow)] if allow else ())
        return None
