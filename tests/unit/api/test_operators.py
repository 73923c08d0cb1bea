"""``/healthcheck``, ``/metrics`` and ``/v2/info`` of the API application (WebTest), auth on and off."""

from __future__ import annotations

import pathlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from keystonemiddleware import auth_token
from oslo_middleware.healthcheck import opts as healthcheck_opts

from mistral import config, process_info
from mistral.api import app as api_app
from mistral.api import operators, policy
from mistral.metrics import series

MEMBER = {"X-Project-Id": "proj-a", "X-User-Id": "u1", "X-Roles": "member"}
ADMIN = {"X-Project-Id": "proj-a", "X-User-Id": "u2", "X-Roles": "admin"}


@pytest.fixture
def auth_on() -> Iterator[None]:
    for group, opts in auth_token.list_opts():
        config.CONF.register_opts(opts, group=group)
    config.CONF.set_override(
        "www_authenticate_uri", "http://keystone.example:5000/v3", group="keystone_authtoken"
    )
    config.CONF.set_override("auth_enable", True, group="pecan")
    policy.reset()
    yield
    config.CONF.clear_override("auth_enable", group="pecan")
    config.CONF.clear_override("www_authenticate_uri", group="keystone_authtoken")
    policy.reset()


@pytest.fixture
def disable_file(override_conf: Any, tmp_path: pathlib.Path) -> pathlib.Path:
    config.CONF.register_opts(
        healthcheck_opts.HEALTHCHECK_OPTS + healthcheck_opts.DISABLE_BY_FILE_OPTS, group="healthcheck"
    )
    path = tmp_path / "healthcheck_disable"
    override_conf("healthcheck", "backends", ["disable_by_file"])
    override_conf("healthcheck", "disable_by_file_path", str(path))
    return path


def _app() -> webtest.TestApp:
    return webtest.TestApp(api_app.setup_app(sync_actions=False))


def test_healthcheck_is_ok_and_503_while_the_disable_file_exists(db: str, disable_file: pathlib.Path) -> None:
    app = _app()
    ok = app.get("/healthcheck")
    assert (ok.status_int, ok.text) == (200, "OK")
    disable_file.write_text("")
    down = app.get("/healthcheck", status=503)
    assert down.text == "DISABLED BY FILE"
    disable_file.unlink()
    assert app.get("/healthcheck").status_int == 200


def test_healthcheck_can_be_turned_off(db: str, override_conf: Any) -> None:
    override_conf("healthcheck", "enabled", False)
    assert _app().get("/healthcheck", expect_errors=True).status_int == 404


def test_metrics_answer_the_prometheus_text_format(db: str) -> None:
    series.EXECUTIONS_STARTED.inc(0)
    resp = _app().get("/metrics")
    assert resp.content_type == "text/plain"
    assert "# TYPE mistral_executions_started_total counter" in resp.text
    assert "mistral_engine_apply_seconds_bucket" in resp.text


def test_metrics_can_be_turned_off(db: str, override_conf: Any) -> None:
    override_conf("metrics", "enabled", False)
    assert _app().get("/metrics", expect_errors=True).status_int == 404


def test_with_auth_on_healthcheck_and_public_metrics_need_no_token(db: str, auth_on: None) -> None:
    app = _app()
    assert app.get("/v2/workflows", expect_errors=True).status_int == 401
    assert app.get("/healthcheck").status_int == 200
    assert "mistral_executions_started_total" in app.get("/metrics").text


def test_metrics_not_public_need_a_token_and_an_admin(db: str, auth_on: None, override_conf: Any) -> None:
    override_conf("metrics", "public", False)
    assert _app().get("/metrics", expect_errors=True).status_int == 401  # Keystone's answer: no token

    # Behind Keystone (which left the caller's headers), only an admin gets the series.
    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [])
        return [b""]

    behind = webtest.TestApp(operators.AdminMetrics(inner))
    refused = behind.get("/metrics", headers=MEMBER, expect_errors=True)
    assert refused.status_int == 403 and "admin_only" in refused.json["faultstring"]
    assert "mistral_executions_started_total" in behind.get("/metrics", headers=ADMIN).text
    assert behind.get("/v2/workflows", headers=ADMIN, expect_errors=True).status_int == 404


def test_info_names_version_build_and_services(db: str, monkeypatch: Any) -> None:
    # NOTE: on by default, unlike Mistral's /info (which [api] enable_info_endpoint gates)
    monkeypatch.setattr(process_info, "_services", ["api", "engine"])
    info = _app().get("/v2/info").json
    assert info["services"] == ["api", "engine"]
    assert info["version"] == process_info.version() and info["version"] != "unknown"
    # A source tree has no build module: the version stands for the build.
    assert (info["build"], info["commit"]) == (info["version"], None)


def test_info_build_is_the_commit_written_at_build_time(monkeypatch: Any) -> None:
    build = types.ModuleType("mistral._build")
    build.COMMIT = "0123abcd"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mistral._build", build)
    assert process_info.describe()["build"] == "0123abcd"
