"""``GET /v2/openapi.json``, answered before authentication.

NOTE: like the version document at ``/``, the API's description holds nothing of any
project, and clients and tools fetch it to learn how to authenticate; so it is public,
as OpenStack services publish their API reference. Only this exact path is answered
here: everything else goes on to keystonemiddleware.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
from collections.abc import Callable, Iterable
from typing import Any

from mistral.api.apidoc import document


@functools.cache
def _document_bytes(root: Any) -> bytes:
    try:
        version = importlib.metadata.version("mistral-ws")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return json.dumps(document.build(root, version), indent=1).encode()


class PublicDocument:
    def __init__(self, app: Callable[..., Any], root: Any) -> None:
        self.app, self.root = app, root

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != document.DOCUMENT_PATH or environ.get("REQUEST_METHOD") not in (
            "GET",
            "HEAD",
        ):
            return self.app(environ, start_response)
        body = _document_bytes(self.root)
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
