"""WSGI middleware around the Pecan application."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from cheroot.errors import MaxSizeExceeded
from cheroot.server import ChunkedRFile
from oslo_middleware import request_id

from mistral.api.errors import internal_error_message
from mistral.utils import nesting

if TYPE_CHECKING:
    import webob

LOG = logging.getLogger(__name__)

StartResponse = Callable[..., Any]

_READ_SIZE = 64 * 1024
#: The types Pecan decodes as JSON to find a controller's arguments.
_JSON_TYPES = frozenset({"application/json", "application/javascript"})
#: Where JsonDepthLimit leaves the body it decoded and checked (see ``request_json``).
DECODED_BODY = "mistral.decoded_json_body"


def fault(
    start_response: StartResponse,
    status: str,
    message: str,
    *,
    faultcode: str = "Client",
    exc_info: Any = None,
) -> Iterable[bytes]:
    """Answer with Mistral's ``{"faultstring": ...}`` body before the application has run."""
    body = json.dumps({"faultcode": faultcode, "faultstring": message, "debuginfo": None}).encode()
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _is_chunked(environ: dict[str, Any]) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_at_most(stream: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``stream``, read in slices so nothing much larger is ever buffered."""
    parts, size = [], 0
    while size < limit:
        part = stream.read(min(_READ_SIZE, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


class BodySizeLimit:
    """Refuse bodies larger than the limit, whether announced by Content-Length or sent in chunks."""

    def __init__(self, app: Callable[..., Any], max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    def _too_large(self, start_response: StartResponse, size: int | None) -> Iterable[bytes]:
        told = f"Request body is {size} bytes, larger" if size is not None else "Request body is larger"
        return fault(
            start_response,
            "413 Request Entity Too Large",
            f"{told} than the limit of {self.max_bytes} bytes ([api] max_request_body_kb)",
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        if not length and _is_chunked(environ):
            # NOTE: a chunked body announces no size: read one byte past the limit to
            # know, and hand the application the buffered body with its length.
            stream = environ["wsgi.input"]
            if isinstance(stream, ChunkedRFile):
                # NOTE: cheroot reads each chunk whole into memory; with this bound it refuses a
                # chunk announced too large from its size line. The bound is looser than the limit
                # because cheroot counts the chunk framing too; the limit itself is checked below.
                stream.maxlen = 2 * self.max_bytes + _READ_SIZE
            try:
                body = _read_at_most(stream, self.max_bytes + 1)
            except (OSError, MaxSizeExceeded):
                return self._too_large(start_response, None)
            except ValueError as error:
                return fault(start_response, "400 Bad Request", f"Malformed chunked request body: {error}")
            if len(body) > self.max_bytes:
                return self._too_large(start_response, None)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            return self.app(environ, start_response)
        try:
            size = int(length or "0")
        except ValueError:
            return fault(start_response, "400 Bad Request", f"Invalid Content-Length: {length}")
        if size > self.max_bytes:
            return self._too_large(start_response, size)
        return self.app(environ, start_response)


class JsonDepthLimit:
    """Refuse a JSON body nested deeper than the limit before Pecan decodes it (recursively)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip()
        length = int(environ.get("CONTENT_LENGTH") or "0")
        if content_type not in _JSON_TYPES or length <= 0:
            return self.app(environ, start_response)
        # NOTE: runs behind BodySizeLimit, so the body read here is bounded.
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            environ[DECODED_BODY] = nesting.loads_json(body)
        except nesting.TooDeepError as error:
            return fault(start_response, "400 Bad Request", f"The request body is {error}")
        except ValueError:
            pass  # not JSON: the controller names the problem
        return self.app(environ, start_response)


def request_json(request: webob.Request) -> Any:
    """The JSON of a request's body, checked for depth; a ValueError when it is not JSON.

    NOTE: Pecan decodes a JSON body twice to find a controller's arguments, and the controller
    once more: a POST of 10 000 items in its input paid four decodes and two depth checks. The
    one JsonDepthLimit made serves them all; the value is shared, so readers must not change it.
    The body is then not read again either: WebOb copies it into a seekable buffer first, a
    cost on every worker's claim and result (issue 13).
    """
    if DECODED_BODY in request.environ:
        return request.environ[DECODED_BODY]
    return nesting.loads_json(request.body)


class InternalErrors:
    """Answer any exception that escapes the application with a generic 500 carrying the request id."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        except Exception:  # noqa: BLE001 - the client gets a request id, the log the traceback
            LOG.exception(
                "Unexpected error while serving %s %s [request id %s]",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                environ.get(request_id.ENV_REQUEST_ID),
            )
            return fault(
                start_response,
                "500 Internal Server Error",
                internal_error_message(environ),
                faultcode="Server",
            )


def with_request_id(app: Callable[..., Any]) -> Callable[..., Any]:
    """Give every request an id (``req-<uuid>``) in the environ and in ``X-Openstack-Request-Id``."""
    return request_id.RequestId(app)


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
