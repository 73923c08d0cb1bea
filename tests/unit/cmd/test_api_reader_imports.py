"""The server's processes import what they serve with, not what only a step of the start needs."""

from __future__ import annotations

import json
import subprocess
import sys

#: Top-level packages the reader process must not load (each costs megabytes of RSS in every reader).
NOT_IN_THE_READER = ["alembic", "dns", "jsonschema"]
#: Nor the server itself: the schema check at start reads the revisions without Alembic, and
#: eventlet (imported by oslo.messaging) is told not to load its DNS resolver.
NOT_IN_THE_SERVER = ["alembic", "mako", "pygments", "dns"]
#: Nor an engine or executor: only a process taking definitions (the API) validates them, and
#: Keystone (keystoneauth1, with requests' friends osprofiler and webob) is called only with
#: authentication on, when a trigger's trust is made or used.
NOT_IN_ENGINES_OR_EXECUTORS = ["jsonschema", "keystoneauth1", "osprofiler"]
#: What an engine and an executor import once started (the engine's cron loop imports the engine).
ENGINE_AND_EXECUTOR = ", ".join(
    ["mistral.engine.server", "mistral.engine.cron", "mistral.executor.server", "mistral.event_engine.engine"]
)


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


def test_the_server_entry_point_does_not_import_alembic() -> None:
    loaded = _modules_after_importing("mistral.cmd.launch")
    assert "mistral" in loaded
    assert sorted(loaded & set(NOT_IN_THE_SERVER)) == []


def test_the_check_itself_shows_it_can_fail() -> None:
    assert "alembic" in _modules_after_importing("mistral.db.migration.cli")


def test_engines_and_executors_do_not_import_the_dsl_validator() -> None:
    loaded = _modules_after_importing(ENGINE_AND_EXECUTOR)
    assert "mistral" in loaded
    assert sorted(loaded & set(NOT_IN_ENGINES_OR_EXECUTORS)) == []
