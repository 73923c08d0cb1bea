"""The console in a real browser: one ``mistral-server`` and one headless Chromium for all tests here.

The servers are tests/browser/servers.py; the browser is Debian's Chromium (bench/chromium.py).
Screenshots, the server logs and the driver log go to ``$MISTRAL_TEST_ARTIFACTS``
(``.ci-logs/screenshots/`` by default). After every test the browser console must hold no error.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from bench import chromium
from tests.browser import servers
from tests.browser.gate import Gates
from tests.conftest import service_missing
from tests.functional.tenancy import keystone, keystone_authtoken  # noqa: F401 - the fixture

if TYPE_CHECKING:
    from tests.browser.page import Page

REPO = pathlib.Path(__file__).resolve().parents[2]
ARTIFACTS = pathlib.Path(os.environ.get("MISTRAL_TEST_ARTIFACTS") or REPO / ".ci-logs" / "screenshots")
WORKFLOWS = REPO / "tests" / "fixtures" / "workflows" / "console.yaml"
TEXT = {"Content-Type": "text/plain"}


# NOTE: package scope: the server and the browser stop when the browser tests end, not with the session.
@pytest.fixture(scope="package")
def console_url(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[str]:
    """The server the console tests share, with the workflows of tests/fixtures/workflows/console.yaml;
    on its own SQLite file, or on a fresh PostgreSQL database with ``MISTRAL_TEST_CONSOLE_DB=postgres``."""
    sections = {}
    if os.environ.get("MISTRAL_TEST_CONSOLE_DB") == "postgres":
        sections["database"] = {"connection": request.getfixturevalue("postgres_url")}
    workdir = tmp_path_factory.mktemp("console-server")
    with servers.mistral_server("console-server", workdir, ARTIFACTS, **sections) as url:
        resp = servers.Rest(url).request("POST", "/workflows", data=WORKFLOWS.read_text(), headers=TEXT)
        assert resp.status_code == 201, resp.text
        yield url


@pytest.fixture
def rest(console_url: str) -> servers.Rest:
    return servers.Rest(console_url)


@pytest.fixture(scope="package")
def gates() -> Iterator[Gates]:
    """Where the workflows' tasks wait until the test lets them go (tests/browser/gate.py)."""
    started = Gates()
    started.start()
    yield started
    started.stop()


@pytest.fixture(scope="package")
def auth_console_url(keystone: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    """A second server with authentication on, through the real Keystone the tenancy tests use."""
    sections = {"pecan": {"auth_enable": "true"}, "keystone_authtoken": keystone_authtoken(keystone)}
    workdir = tmp_path_factory.mktemp("auth-server")
    with servers.mistral_server("auth-console-server", workdir, ARTIFACTS, **sections) as url:
        yield url


@pytest.fixture(scope="package")
def browser() -> Iterator[chromium.Chromium]:
    """One headless Chromium for the browser tests (1280x900). Without Chromium, its driver or
    Selenium the tests skip, and fail in CI; nothing imports Selenium before this check."""
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
    errors = tab.console_errors()
    print("browser console errors:", *errors, sep="\n  ")
    # The console polls while it is open: leave it, so nothing runs between tests.
    browser.driver.get("about:blank")
    if report is not None and report.failed:
        return
    assert not errors, "the browser console has errors:\n" + "\n".join(errors)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Keep the call's report for ``page`` (screenshot on failure) and show the servers' last lines."""
    report = yield
    if report.when == "call":
        item.call_report = report  # type: ignore[attr-defined]
    if report.failed:
        for server in servers.RUNNING:
            report.sections.append((f"{server.name} log", server.tail()))
    return report
