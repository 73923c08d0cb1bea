"""The console's pure JavaScript modules, tested by node's own runner (tests/console/*.mjs)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

JS_TESTS = sorted((pathlib.Path(__file__).parents[2] / "console").glob("test_*.mjs"))


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        # NOTE: CI must run these; a developer without node only loses them.
        if os.environ.get("CI") == "true":
            pytest.fail("node is needed to test the console's JavaScript (CI=true)")
        pytest.skip("node is not installed")
    return node


@pytest.mark.parametrize("script", JS_TESTS, ids=lambda p: p.name)
def test_console_module(script: pathlib.Path) -> None:
    result = subprocess.run(
        [_node(), "--test", str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_js_tests_are_found() -> None:
    assert JS_TESTS
