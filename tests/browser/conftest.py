"""The console in a real browser: one ``mistral-server`` and one headless Chromium for the whole session.

The server is the real command (``--server all`` on its own SQLite file), started the way the
integration tests start theirs (tests/integration/processes.py); the browser is Debian's Chromium
(bench/chromium.py). Screenshots, the server log and the driver log go to ``$MISTRAL_TEST_ARTIFACTS``
(``.ci-logs/screenshots/`` by default). After every test the browser console must hold no error.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests

from bench import chromium
from tests.conftest import IN_CI, service_missing
from tests.functional.tenancy import keystone, keystone_authtoken  # noqa: F401 - the fixture
from tests.integration import processes
from tests.polling import wait_for, wait_rest_execution

if TYPE_CHECKING:
    from tests.browser.page import Page

REPO = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = pathlib.Path(os.environ.get("MISTRAL_TEST_ARTIFACTS") or REPO / ".ci-logs" / "screenshots")
WORKFLOWS = REPO / "tests" / "fixtures" / "workflows" / "console.yaml"
START_TIMEOUT = 60.0
TEXT = {"Content-Type": "text/plain"}

# NOTE: locally a machine without the browser skips the whole directory; in CI the tests run and
# each fails in the ``browser`` fixture, so a missing package cannot pass as green.
if chromium.missing() and not IN_CI:
    pytest.skip(str(chromium.missing()), allow_module_level=True)

_servers: list[processes.Process] = []


class Rest:
    """The public REST API of one server, as the tests drive it besides the console."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.headers = {"X-Auth-Token": token} if token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, f"{self.url}/v2{path}", headers=headers, timeout=30, **kwargs)

    def start(self, workflow: str, **wf_input: Any) -> dict[str, Any]:
        resp = self.request("POST", "/executions", json={"workflow_name": workflow, "input": wf_input})
        assert resp.status_code == 201, resp.text
        return resp.json()

    def wait(self, ex_id: str, *wanted: str, timeout: float = 30) -> dict[str, Any]:
        return wait_rest_execution(self, ex_id, *wanted, timeout=timeout)

    def tasks(self, ex_id: str) -> dict[str, dict[str, Any]]:
        resp = self.request("GET", f"/executions/{ex_id}/tasks")
        assert resp.status_code == 200, resp.text
        return {task["name"]: task for task in resp.json()["tasks"]}


@contextlib.contextmanager
def mistral_server(name: str, workdir: pathlib.Path, **sections: dict[str, Any]) -> Iterator[str]:
    """``mistral-server --server all`` with ``sections`` added to its config file; yields its URL."""
    port = processes.free_port()
    config = processes.write_config(
        workdir / "mistral.conf",
        {
            "DEFAULT": {"data_dir": workdir / "data"},
            "api": {"host": "127.0.0.1", "port": port},
            # NOTE: mistral-extra's ~1200 OpenStack actions take seconds to load at every start.
            "legacy_action_provider": {"load_action_generators": "false"},
            **sections,
        },
    )
    processes.migrate(config)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    argv = [processes.MISTRAL_SERVER, "--config-file", str(config), "--server", "all"]
    server = processes.Process(name, argv, ARTIFACTS / f"{name}.log", workdir)
    server.start()
    _servers.append(server)
    url = f"http://127.0.0.1:{port}"
    try:
        # NOTE: any status means it listens (a 401 of the server behind Keystone is falsy).
        wait_for(f"GET {url}/v2", lambda: requests.get(f"{url}/v2", timeout=2).status_code,
                 START_TIMEOUT, check=server.check_alive)  # fmt: skip
        yield url
    finally:
        processes.stop_all([server])
        _servers.remove(server)


@pytest.fixture(scope="session")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server the console tests share, with the workflows of tests/fixtures/workflows/console.yaml."""
    with mistral_server("console-server", tmp_path_factory.mktemp("console-server")) as url:
        resp = Rest(url).request("POST", "/workflows", data=WORKFLOWS.read_text(), headers=TEXT)
        assert resp.status_code == 201, resp.text
        yield url


@pytest.fixture
def rest(console_url: str) -> Rest:
    return Rest(console_url)


@pytest.fixture(scope="session")
def auth_console_url(keystone: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    """A second server with authentication on, through the real Keystone the tenancy tests use."""
    sections = {"pecan": {"auth_enable": "true"}, "keystone_authtoken": keystone_authtoken(keystone)}
    with mistral_server("auth-console-server", tmp_path_factory.mktemp("auth-server"), **sections) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[chromium.Chromium]:
    """One headless Chromium for the session (1280x900)."""
    problem = chromium.missing()
    if problem:
        service_missing("Chromium", RuntimeError(problem))
    started = chromium.Chromium(log_dir=ARTIFACTS)
    yield started
    started.quit()


@pytest.fixture
def page(browser: chromium.Chromium, console_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The console in the session's browser; a screenshot when the test fails; no console errors after."""
    from tests.browser.page import Page  # selenium is imported only once the browser is known to be there

    tab = Page(browser.driver, console_url, ARTIFACTS)
    tab.console_errors()  # what earlier tests left in the log is theirs
    yield tab
    report = getattr(request.node, "call_report", None)
    if report is not None and report.failed:
        tab.screenshot(f"failed-{request.node.name}")
        return
    errors = tab.console_errors()
    assert not errors, "the browser console has errors:\n" + "\n".join(errors)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Keep the call's report for ``page`` (screenshot on failure) and show the servers' last lines."""
    report = yield
    if report.when == "call":
        item.call_report = report  # type: ignore[attr-defined]
    if report.failed:
        for server in _servers:
            report.sections.append((f"{server.name} log", server.tail()))
    return report
