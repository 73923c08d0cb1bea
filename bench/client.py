"""The benchmark's HTTP client: every request goes to one server, and failures are counted."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class ApiError(Exception):
    def __init__(self, method: str, path: str, status: int | None, detail: str):
        self.status = status
        super().__init__(f"{method} {path} -> {status if status is not None else 'no response'}: {detail}")


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if url.endswith("/v2"):
        url = url[: -len("/v2")]
    if not re.match(r"^https?://[^/]+", url):
        raise SystemExit(f"--url must look like http://host:port, got {url!r}")
    return url


class Client:
    """Thread-safe wrapper: one requests.Session per thread, every URL built from ``base``.

    Redirects are never followed and ``next`` links are never used, so no
    request leaves the server given on the command line.
    """

    def __init__(self, base: str, http_timeout: float, token: str | None = None):
        self.base = normalize_url(base)
        self.http_timeout = http_timeout
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["X-Auth-Token"] = token
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []
        self.requests = 0
        self.failures = 0
        self.failure_samples: list[str] = []

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=4, max_retries=0)
            s.mount("http://", adapter)
            s.mount("https://", adapter)
            s.headers.update(self.headers)
            self._local.session = s
            with self._lock:
                self._sessions.append(s)
        return s

    def record(self, ok: bool, what: str) -> None:
        """Count one request (``what`` describes a failed one)."""
        with self._lock:
            self.requests += 1
            if not ok:
                self.failures += 1
                if len(self.failure_samples) < 20:
                    self.failure_samples.append(what)

    def counters(self) -> tuple[int, int]:
        with self._lock:
            return self.requests, self.failures

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        """Send one request; raise ApiError on a transport error or a non-2xx status."""
        if not path.startswith("/"):
            raise ValueError(path)
        kw.setdefault("timeout", self.http_timeout)
        kw["allow_redirects"] = False
        try:
            r = self._session().request(method, self.base + path, **kw)
        except requests.RequestException as e:
            self.record(False, f"{method} {path}: {e.__class__.__name__}")
            raise ApiError(method, path, None, e.__class__.__name__ + ": " + str(e)[:200]) from e
        if not 200 <= r.status_code < 300:
            detail = error_text(r)
            self.record(False, f"{method} {path}: {r.status_code} {detail[:120]}")
            raise ApiError(method, path, r.status_code, detail)
        self.record(True, "")
        return r

    def get_json(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw).json()

    def close(self) -> None:
        with self._lock:
            for s in self._sessions:
                s.close()
            self._sessions.clear()


def error_text(r: requests.Response) -> str:
    return answer_error_text(r.headers.get("Server-Error-Message"), r.content)


def answer_error_text(message_header: str | None, body: bytes) -> str:
    """What a refused request's answer says: Mistral's error header, its ``faultstring``, or its text."""
    if message_header:
        return message_header
    try:
        data = json.loads(body)
        if isinstance(data, dict) and data.get("faultstring"):
            return str(data["faultstring"])
    except ValueError:
        pass
    return body[:300].decode("utf-8", "replace")


def json_field(value: Any) -> Any:
    """Mistral serializes jsontype fields (input, output, ...) as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
