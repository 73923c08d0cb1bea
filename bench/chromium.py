"""Debian's Chromium driven by Selenium, headless, on a machine that reaches no browser download site.

The browser tests (tests/browser) and the console benchmark (bench/console.py) both start it here.
The binaries are the ones ``apt-get install chromium chromium-driver`` puts in /usr/bin (``.ci/run``
installs them); the driver's path is given explicitly, so Selenium Manager never runs and never
tries to download a driver or a browser.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
from typing import Any

CHROMIUM = os.environ.get("MISTRAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MISTRAL_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW = (1280, 900)
#: What works on a closed machine run as root: no sandbox (root), no GPU, and nothing that calls
#: home (component updates, sync, QUIC probes, background networking) and would wait or log errors.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


class BrowserMissing(Exception):
    """Chromium, its driver or Selenium is not installed; the message says which and how to get it."""


def missing() -> str | None:
    """What is not installed, or None when the browser can start."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is missing (apt-get install -y --no-install-recommends {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


class Chromium:
    """One headless Chromium with its own profile directory, removed on ``quit()``."""

    def __init__(self, log_dir: pathlib.Path | None = None, window: tuple[int, int] = WINDOW) -> None:
        problem = missing()
        if problem:
            raise BrowserMissing(problem)
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="mistral-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.add_argument(f"--window-size={window[0]},{window[1]}")
        # NOTE: without it driver.get_log("browser") answers nothing, and console errors go unseen.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        log_output: Any = os.devnull
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            log_output = str(log_dir / "chromedriver.log")
        service = Service(executable_path=CHROMEDRIVER, log_output=log_output)
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
