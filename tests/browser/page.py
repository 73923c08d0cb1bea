"""The console as the tests see it: its routes, its ``data-test`` hooks, and waits instead of sleeps.

Every lookup goes through a hook of the console contract (``data-test="exec-row"`` and its
``data-*`` attributes); reading many elements at once is one script call, so a 1000-node graph
costs one round trip, and no element can go stale between finding it and reading it.
"""

from __future__ import annotations

import contextlib
import pathlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

T = TypeVar("T")

#: How long the console may take to show what the service did (it polls every 1 to 2 s).
TIMEOUT = 15.0

_DATASETS = """
return Array.from(document.querySelectorAll(arguments[0]), function (el) {
    var data = Object.assign({}, el.dataset);
    data.text = el.textContent;
    return data;
});
"""


def selector(hook: str, **data: str) -> str:
    """The CSS selector of ``data-test=hook`` with the given ``data-*`` values (``data_id`` is data-id)."""
    attrs = "".join(f'[data-{name.replace("_", "-")}="{value}"]' for name, value in data.items())
    return f'[data-test="{hook}"]{attrs}'


class Page:
    """One browser tab on the console of the server at ``base``."""

    def __init__(self, driver: WebDriver, base: str, artifacts: pathlib.Path) -> None:
        self.driver = driver
        self.base = base
        self.artifacts = artifacts
        #: Parts of SEVERE console entries this test expects (a 401 before the token is given).
        self.expected_errors: list[str] = []
        self._mark: str | None = None

    # -- navigation

    def open(self, route: str, base: str | None = None) -> None:
        """Load the console at ``#route`` (``/executions``) from scratch, and mark the loaded document."""
        # NOTE: a URL that differs from the current one only by its fragment would not load the page
        # again; leaving it first gives every test a fresh console.
        self.driver.get("about:blank")
        self.driver.get(f"{base or self.base}/ui/#{route}")
        self._mark = uuid.uuid4().hex
        self.driver.execute_script("window.__mistralTestMark = arguments[0];", self._mark)

    def load(self, path: str) -> None:
        """Load any path of the server (``/``), as typing it in the address bar does."""
        self.driver.get("about:blank")
        self.driver.get(f"{self.base}{path}")
        self._mark = None

    @property
    def url(self) -> str:
        return self.driver.current_url

    def go(self, route: str) -> None:
        """Follow a route inside the loaded console, as a link would (no reload)."""
        self.driver.execute_script("window.location.hash = arguments[0];", f"#{route}")

    def not_reloaded(self) -> bool:
        """True while the document ``open`` loaded is still the one shown: updates came without a reload."""
        mark = self.driver.execute_script("return window.__mistralTestMark || null;")
        return mark is not None and mark == self._mark

    # -- waiting and reading

    def wait(self, what: str, probe: Callable[[], T], timeout: float = TIMEOUT) -> T:
        """Poll ``probe`` until it answers something truthy; fail naming ``what`` after ``timeout``."""
        waiting = WebDriverWait(
            self.driver,
            timeout,
            poll_frequency=0.1,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        )
        return waiting.until(lambda _: probe(), message=f"waited {timeout:g} s for {what}")

    def one(self, hook: str, timeout: float = TIMEOUT, **data: str) -> WebElement:
        """The first element with that hook, once it is displayed."""
        css = selector(hook, **data)

        def shown() -> WebElement | None:
            element = self.driver.find_element(By.CSS_SELECTOR, css)
            return element if element.is_displayed() else None

        return self.wait(f"{css} to be displayed", shown, timeout)

    def all(self, hook: str, **data: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, selector(hook, **data))

    def datasets(self, hook: str, within: str = "", **data: str) -> list[dict[str, str]]:
        """The ``data-*`` attributes (camelCase keys, as ``dataset`` names them) and ``text`` of every
        element with that hook, read in one call; ``within`` is a CSS selector of an ancestor."""
        css = f"{within} {selector(hook, **data)}".strip()
        return self.driver.execute_script(_DATASETS, css)

    def script(self, source: str, *args: Any) -> Any:
        return self.driver.execute_script(source, *args)

    # -- acting

    def click(self, hook: str, **data: str) -> None:
        """Click the element once it is displayed and enabled."""
        element = self.one(hook, **data)
        self.wait(f"{selector(hook, **data)} to be enabled", element.is_enabled)
        element.click()

    def type(self, hook: str, text: str, **data: str) -> None:
        element = self.one(hook, **data)
        element.clear()
        element.send_keys(text)

    def set_value(self, hook: str, text: str) -> None:
        """Replace a text field's value at once and tell the page, as a paste does."""
        element = self.one(hook)
        self.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            element,
            text,
        )

    def select(self, hook: str, value: str) -> None:
        """Choose the option whose value (or, failing that, visible text) is ``value``."""
        menu = Select(self.one(hook))
        try:
            menu.select_by_value(value)
        except NoSuchElementException:
            menu.select_by_visible_text(value)

    def tab_to(self, hook: str, presses: int = 60, **data: str) -> WebElement:
        """Press Tab until the element with that hook has the focus, as a keyboard user would."""
        css = selector(hook, **data)
        keys = ActionChains(self.driver)
        for _ in range(presses):
            if self.driver.execute_script("return document.activeElement.matches(arguments[0]);", css):
                return self.driver.switch_to.active_element
            keys.send_keys(Keys.TAB).perform()
        raise AssertionError(f"{presses} presses of Tab never reached {css}")

    def press(self, key: str) -> None:
        """Press a key on the focused element: ``"ENTER"``, ``"ESCAPE"`` (a name of selenium's Keys)."""
        ActionChains(self.driver).send_keys(getattr(Keys, key)).perform()

    def confirm_everything(self) -> None:
        """Answer yes to every ``confirm()`` the page asks from now on (a cancel button may ask)."""
        self.driver.execute_script("window.confirm = function () { return true; };")

    @contextlib.contextmanager
    def emulating(self, metrics: dict[str, Any]) -> Iterator[None]:
        """The viewport of another device (``width``, ``height``, ``deviceScaleFactor``, ``mobile``)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})  # type: ignore[attr-defined]

    # -- evidence

    def screenshot(self, name: str) -> pathlib.Path:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def console_errors(self) -> list[str]:
        """The SEVERE browser console entries since the last call, less those the test expects."""
        entries = self.driver.get_log("browser")
        return [
            entry["message"]
            for entry in entries
            if entry.get("level") == "SEVERE"
            and not any(part in entry["message"] for part in self.expected_errors)
        ]
