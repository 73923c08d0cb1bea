"""The console's JavaScript, tested by ``node --test`` (every tests/console/*.test.mjs)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

from tests.conftest import IN_CI

HERE = pathlib.Path(__file__).parent


def test_node_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        if IN_CI:
            pytest.fail("node is not installed: the console's JavaScript tests cannot run")
        pytest.skip("node is not installed")
    run = subprocess.run(
        [node, "--test", f"{HERE}/"], capture_output=True, text=True, timeout=100, check=False
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_every_script_test_is_named_for_node_to_find() -> None:
    # NOTE: node --test on a directory runs only *.test.mjs (and a few other patterns): a test_*.mjs
    # there would never run.
    scripts = {p.name for p in HERE.glob("*.mjs")} - {"fake_dom.mjs"}
    assert scripts and all(name.endswith(".test.mjs") for name in scripts), sorted(scripts)
