"""WSGI middleware around the Pecan application."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[..., Any]


def _fault(start_response: StartResponse, status: str, message: str) -> Iterable[bytes]:
    body = json.dumps({"faultcode": "Client", "faultstring": message, "debuginfo": None}).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


class BodySizeLimit:
    """Refuse bodies larger than the limit before anything reads them."""

    def __init__(self, app: Callable[..., Any], max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH") or "0"
        try:
            size = int(length)
        except ValueError:
            return _fault(start_response, "400 Bad Request", f"Invalid Content-Length: {length}")
        if size > self.max_bytes:
            return _fault(
                start_response,
                "413 Request Entity Too Large",
                f"Request body is {size} bytes, larger than the limit of {self.max_bytes} bytes "
                "([api] max_request_body_kb)",
            )
        return self.app(environ, start_response)


class AuthFailureHeader:
    """Copy a 401 reason into ``Server-Error-Message``, which the Mistral client reads first."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("401"):
                headers = [*headers, ("Server-Error-Message", "Authentication required")]
            return start_response(status, headers, exc_info)

        return self.app(environ, _start)
