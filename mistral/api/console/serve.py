"""The web console's files, served by the API process itself, before authentication.

NOTE: the files hold no data: the console's scripts call /v2 with the user's token, which
keystonemiddleware checks as for any client. So they are public, like the API document, and a
browser can load the token form before it has a token. ``/`` stays the version document for API
clients; only a browser asking for HTML (``Accept: text/html``) is sent on to the console.
"""

from __future__ import annotations

import functools
import hashlib
import pathlib
from collections.abc import Callable, Iterable
from typing import Any

from mistral.api.middleware import StartResponse

#: The directory whose files the console serves; nothing outside it is ever read.
STATIC_DIR = (pathlib.Path(__file__).parent / "static").resolve()
UI_PREFIX = "/ui/"
STATIC_PREFIX = "/ui/static/"

#: Content types by file suffix. ES modules load only with a JavaScript type.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
#: The page's scripts, styles and images come from this server only (no CDN, no inline script).
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@functools.lru_cache(maxsize=256)
def _read(path: pathlib.Path, mtime_ns: int, size: int) -> tuple[bytes, str]:
    """A file's bytes and ETag; keyed by its modification time and size, so an upgrade is seen."""
    body = path.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def static_file(relative: str) -> pathlib.Path | None:
    """The file under STATIC_DIR that ``relative`` names, or None (missing, a directory, or outside)."""
    if "\x00" in relative or "\\" in relative:
        return None
    path = (STATIC_DIR / relative.lstrip("/")).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        return None
    return path


def _wants_html(environ: dict[str, Any]) -> bool:
    return "text/html" in environ.get("HTTP_ACCEPT", "")


class Console:
    """Serve ``/ui/`` and ``/ui/static/...``, send browsers from ``/`` to ``/ui/``, pass the rest on."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD") or not (path in ("/", "/ui") or path.startswith(UI_PREFIX)):
            return self.app(environ, start_response)
        if path == "/":
            if not _wants_html(environ):
                return self.app(environ, start_response)
            return _redirect(environ, start_response)
        if path == "/ui":
            return _redirect(environ, start_response)
        if path == UI_PREFIX:
            return _file(environ, start_response, STATIC_DIR / "index.html", page=True)
        if path.startswith(STATIC_PREFIX):
            found = static_file(path[len(STATIC_PREFIX) :])
            if found is not None:
                return _file(environ, start_response, found)
        return _not_found(start_response)


def _redirect(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    # NOTE: relative to the application's root, so a console behind a path prefix still works.
    location = environ.get("SCRIPT_NAME", "") + UI_PREFIX
    start_response("302 Found", [("Location", location), ("Content-Length", "0")])
    return []


def _not_found(start_response: StartResponse) -> Iterable[bytes]:
    body = b"Not found\n"
    start_response(
        "404 Not Found",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _file(
    environ: dict[str, Any], start_response: StartResponse, path: pathlib.Path, *, page: bool = False
) -> Iterable[bytes]:
    stat = path.stat()
    body, etag = _read(path, stat.st_mtime_ns, stat.st_size)
    # NOTE: no-cache, not max-age: the browser asks each time and gets a 304 while the file is the same,
    # so the console of a new version is never mixed with cached scripts of the old one.
    headers = [("ETag", etag), ("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff")]
    if page:
        headers.append(("Content-Security-Policy", PAGE_POLICY))
    matches = _etags(environ.get("HTTP_IF_NONE_MATCH", ""))
    if etag in matches or "*" in matches:
        start_response("304 Not Modified", headers)
        return []
    content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    start_response("200 OK", [*headers, ("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def _etags(header: str) -> set[str]:
    """The tags of an If-None-Match header (weak ones compare as strong: RFC 9110, 13.1.2)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
