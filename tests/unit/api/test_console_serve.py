"""The console's files: paths, types, caching, and nothing outside the static directory."""

from __future__ import annotations

from typing import Any

import pytest
import webob

from mistral.api.console import serve


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"from": "app"}']


def get(path: str, **headers: str) -> webob.Response:
    request = webob.Request.blank(path, headers=headers)
    return request.get_response(serve.Console(_app))


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/ui/", "text/html; charset=utf-8"),
        ("/ui/static/index.html", "text/html; charset=utf-8"),
        ("/ui/static/style.css", "text/css; charset=utf-8"),
        ("/ui/static/js/app.js", "text/javascript; charset=utf-8"),
        ("/ui/static/js/router.js", "text/javascript; charset=utf-8"),
    ],
)
def test_files_are_served_with_their_type_and_revalidated(path: str, content_type: str) -> None:
    answer = get(path)
    assert answer.status_int == 200
    assert answer.headers["Content-Type"] == content_type
    assert answer.headers["Cache-Control"] == "no-cache"
    assert answer.headers["ETag"].startswith('"')
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_is_index_html_and_loads_only_our_files() -> None:
    answer = get("/ui/")
    assert answer.body == (serve.STATIC_DIR / "index.html").read_bytes()
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]


def test_an_unchanged_file_is_not_sent_again() -> None:
    etag = get("/ui/static/js/api.js").headers["ETag"]
    assert get("/ui/static/js/api.js", **{"If-None-Match": etag}).status_int == 304
    assert get("/ui/static/js/api.js", **{"If-None-Match": f'"other", W/{etag}'}).status_int == 304
    again = get("/ui/static/js/api.js", **{"If-None-Match": '"other"'})
    assert again.status_int == 200 and again.body


def test_a_changed_file_gets_a_new_etag(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.js").write_text("one")
    monkeypatch.setattr(serve, "STATIC_DIR", tmp_path)
    first = get("/ui/static/a.js").headers["ETag"]
    (tmp_path / "a.js").write_text("two!")
    second = get("/ui/static/a.js")
    assert second.body == b"two!" and second.headers["ETag"] != first


def test_head_answers_headers_only() -> None:
    request = webob.Request.blank("/ui/static/style.css", method="HEAD")
    answer = request.get_response(serve.Console(_app))
    assert answer.status_int == 200 and answer.body == b""
    assert int(answer.headers["Content-Length"]) > 0


@pytest.mark.parametrize(
    "path",
    [
        "/ui/static/missing.js",
        "/ui/static/js",
        "/ui/static/",
        "/ui/other",
        "/ui/static/../serve.py",
        "/ui/static/js/../../serve.py",
        "/ui/static/%2e%2e/serve.py",
        "/ui/static/..%2fserve.py",
        "/ui/static//etc/passwd",
        "/ui/static/..\\serve.py",
        "/ui/static/js/%00app.js",
    ],
)
def test_unknown_files_and_paths_outside_the_static_directory_are_404(path: str) -> None:
    answer = get(path)
    assert answer.status_int == 404
    assert b"import" not in answer.body


def test_static_file_never_leaves_the_directory() -> None:
    assert serve.static_file("../serve.py") is None
    assert serve.static_file("/etc/passwd") is None
    assert serve.static_file("js/../../__init__.py") is None
    assert serve.static_file("js/../index.html") == serve.STATIC_DIR / "index.html"


def test_a_browser_at_the_root_goes_to_the_console_and_a_client_gets_the_versions() -> None:
    browser = get("/", Accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert browser.status_int == 302 and browser.headers["Location"] == "/ui/"
    assert get("/").json == {"from": "app"}
    assert get("/", Accept="application/json").json == {"from": "app"}
    assert get("/ui").headers["Location"] == "/ui/"


def test_everything_else_goes_to_the_app() -> None:
    for path in ("/v2/executions", "/v2", "/uix", "/ui.js"):
        assert get(path).json == {"from": "app"}, path
    post = webob.Request.blank("/ui/", method="POST").get_response(serve.Console(_app))
    assert post.json == {"from": "app"}
