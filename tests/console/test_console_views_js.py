"""The console's pure JavaScript modules, tested by ``node --test`` (tests/console/*.test.mjs)."""

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
