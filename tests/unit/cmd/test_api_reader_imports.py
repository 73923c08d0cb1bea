"""The API's reader process imports what serving reads needs, not what only the server's start needs."""

from __future__ import annotations

import json
import subprocess
import sys

#: Top-level packages the reader process must not load (each costs megabytes of RSS in every reader).
NOT_IN_THE_READER = ["alembic"]


def _modules_after_importing(module: str) -> set[str]:
    # NOTE: a fresh interpreter: this test process has imported everything already.
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    argv = [sys.executable, "-W", "ignore", "-c", code]
    out = subprocess.run(argv, capture_output=True, check=True, text=True)
    return {name.split(".")[0] for name in json.loads(out.stdout)}


def test_the_reader_entry_point_does_not_import_the_schema_check() -> None:
    loaded = _modules_after_importing("mistral.cmd.api_reader")
    assert "mistral" in loaded
    assert sorted(loaded & set(NOT_IN_THE_READER)) == []


def test_the_server_entry_point_still_does() -> None:
    # The same check made on the server shows it can fail: mistral-server checks the schema at start.
    assert "alembic" in _modules_after_importing("mistral.cmd.launch")
