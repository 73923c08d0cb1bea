"""The exception-to-status table and Mistral's fault body."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import pecan
import wsme.exc
from oslo_middleware import request_id

from mistral import exceptions as exc

LOG = logging.getLogger(__name__)

#: Checked in order; the first class that matches gives the status.
STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (exc.NotFoundError, 404),
    (exc.DuplicateError, 409),
    (exc.ConflictError, 409),
    (exc.InvalidSpecError, 400),
    (exc.InputError, 400),
    (exc.ExpressionError, 400),
    (exc.InvalidStateTransition, 400),
    (exc.UnauthorizedError, 401),
    (exc.PolicyError, 403),
    (exc.NotAllowedError, 403),
    (exc.ActionLoadError, 400),
    (exc.ServiceUnavailable, 503),
)


class RequestError(Exception):
    """An error the API layer itself finds in a request (bad JSON, a wrong parameter)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def status_of(error: BaseException) -> int:
    if isinstance(error, RequestError):
        return error.status
    if isinstance(error, wsme.exc.ClientSideError):
        return error.code
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def internal_error_message(environ: dict[str, Any]) -> str:
    """All a client learns of a 500: the request id to quote, which finds the traceback in the log."""
    return f"Internal server error; request id {environ.get(request_id.ENV_REQUEST_ID, 'unknown')}"


def fault_body(error: BaseException, status: int) -> dict[str, Any]:
    if isinstance(error, wsme.exc.ClientSideError):
        message = error.faultstring
    elif status == 500:
        # NOTE: an internal error's text may hold SQL, paths or other tenants' data.
        message = internal_error_message(pecan.request.environ)
    else:
        message = str(error)
    return {"faultcode": "Client" if status < 500 else "Server", "faultstring": message, "debuginfo": None}


def render_fault(error: BaseException) -> str:
    status = status_of(error)
    if status == 500:
        LOG.exception(
            "Unexpected error while serving %s %s [request id %s]",
            pecan.request.method,
            pecan.request.path,
            pecan.request.environ.get(request_id.ENV_REQUEST_ID),
        )
    pecan.response.status = status
    pecan.response.content_type = "application/json"
    return json.dumps(fault_body(error, status))


def endpoint(status: int = 200) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Expose a controller method that returns JSON-able data (or None for 204)."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> str:
            try:
                result = func(*args, **kwargs)
            except (exc.MistralError, RequestError, wsme.exc.ClientSideError) as error:
                return render_fault(error)
            except Exception as error:  # noqa: BLE001 - any bug still answers with a fault body
                return render_fault(error)
            pecan.response.content_type = "application/json"
            if status == 204:
                pecan.response.status = 204
                return ""
            pecan.response.status = status
            return json.dumps(result)

        return pecan.expose(content_type="application/json")(wrapper)

    return decorate
