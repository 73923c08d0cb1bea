"""bench/chromium.py: what is missing is named with the package that brings it."""

from __future__ import annotations

import pathlib

import pytest

from bench import chromium


def test_a_missing_browser_names_its_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setattr(chromium, "CHROMIUM", str(tmp_path / "chromium"))
    assert chromium.missing() == (
        f"{tmp_path / 'chromium'} is missing (apt-get install -y --no-install-recommends chromium)"
    )


def test_a_missing_driver_names_its_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setattr(chromium, "CHROMIUM", str(browser))
    monkeypatch.setattr(chromium, "CHROMEDRIVER", str(tmp_path / "chromedriver"))
    assert "chromium-driver" in str(chromium.missing())


def test_starting_without_the_browser_raises_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    monkeypatch.setattr(chromium, "CHROMIUM", str(tmp_path / "nothing"))
    with pytest.raises(chromium.BrowserMissing, match="apt-get install"):
        chromium.Chromium()


def test_the_flags_keep_the_browser_off_the_network_and_headless() -> None:
    offline = ("--disable-background-networking", "--disable-component-update", "--disable-sync")
    for flag in ("--headless=new", "--no-sandbox", *offline):
        assert flag in chromium.FLAGS
