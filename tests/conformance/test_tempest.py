"""Mistral's own Tempest API suite (mistral-tempest-tests, issue 10) against this service behind Keystone.

``tools/tempest/run.py`` starts the embedded server with Keystone auth on, registers it in the catalog
and runs ``tempest run --regex mistral_tempest_tests.tests.api``; this test compares what passed with
two checked-in lists that between them name every test the run reports:

- ``tempest_expected_pass.txt``: must pass; one that does not fails this test, with the reason;
- ``tempest_known_failures.txt``: fails today, each with its cause. One that passes now should move to
  the expected list (a warning says so); a failure in neither list fails this test.

Needs the Tempest virtualenv (``python3 tools/tempest/run.py --install-only``) and Keystone
(``python3 tools/keystone/start.py``); without them it is skipped, under ``CI=true`` it fails. The
files of the last run (server.log, tempest-run.log, the subunit stream) stay in ``.tempest/pytest``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tests.functional.tenancy import KEYSTONE_PASSWORD, keystone  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
TEMPEST_VENV = Path(os.environ.get("MISTRAL_TEST_TEMPEST_VENV", ROOT / ".tempest-venv"))
WORKDIR = ROOT / ".tempest" / "pytest"
#: The whole run takes five minutes on two busy cores (seven when a class is set up again); a hang must
#: not pass for slowness.
RUN_TIMEOUT = 900


def read_list(name: str) -> dict[str, str]:
    """``test id  # note`` per line of a checked-in list; blank lines and ``#`` lines are comments."""
    entries = {}
    for line in (HERE / name).read_text().splitlines():
        test_id, _, note = line.partition("#")
        if test_id.strip():
            entries[test_id.strip()] = note.strip()
    return entries


@pytest.fixture(scope="module")
def outcome(keystone: str) -> dict[str, list[str]]:  # noqa: F811 - the fixture imported above
    if not (TEMPEST_VENV / "bin" / "tempest").exists():
        service_missing(
            f"Tempest in {TEMPEST_VENV} (python3 tools/tempest/run.py --install-only)",
            FileNotFoundError(TEMPEST_VENV / "bin" / "tempest"),
        )
    command = [
        sys.executable, str(ROOT / "tools" / "tempest" / "run.py"), "--no-install",
        "--keystone-url", keystone, "--password", KEYSTONE_PASSWORD,
        "--venv", str(TEMPEST_VENV), "--workdir", str(WORKDIR),
        "--mistral-server", str(Path(sys.executable).parent / "mistral-server"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads((WORKDIR / "results.json").read_text())


def problems(outcome: dict[str, list[str]], expected: dict[str, str], known: dict[str, str]) -> list[str]:
    """What is wrong with a run: expected tests that did not pass, failures nobody explained."""
    passed, failed = set(outcome["passed"]), set(outcome["failed"])
    ran = passed | failed | set(outcome["skipped"])

    def status(test_id: str) -> str:
        state = "FAILED" if test_id in failed else "skipped" if test_id in ran else "did not run"
        cause = f" (known: {known[test_id]})" if test_id in known else ""
        return f"  {state}: {test_id}{cause}"

    found = []
    missing = sorted(set(expected) - passed)
    if missing:
        found.append("expected to pass but did not:\n" + "\n".join(map(status, missing)))
    unexplained = sorted(failed - set(known) - set(expected))
    if unexplained:
        found.append("failed with no cause in tempest_known_failures.txt:\n" + "\n".join(unexplained))
    return found


@pytest.mark.timeout(RUN_TIMEOUT + 60)
def test_mistral_tempest_api_suite(outcome: dict[str, list[str]]) -> None:
    expected, known = read_list("tempest_expected_pass.txt"), read_list("tempest_known_failures.txt")
    for test_id in sorted(set(outcome["passed"]) & set(known)):
        warnings.warn(f"{test_id} passes now: move it to tempest_expected_pass.txt", stacklevel=1)
    found = problems(outcome, expected, known)
    assert not found, "\n".join(found) + f"\n(logs in {WORKDIR})"


def test_the_lists_name_each_test_once() -> None:
    expected, known = read_list("tempest_expected_pass.txt"), read_list("tempest_known_failures.txt")
    assert not set(expected) & set(known)
    assert all(known.values()), "every known failure names its cause"
    # NOTE: 118 tests, 6 skipped by the plugin, 3 that need the internet.
    assert len(expected) + len(known) == 109


def test_a_run_missing_an_expected_pass_or_with_an_unknown_failure_is_a_problem() -> None:
    expected = {"t.a": "", "t.b": "", "t.c": ""}
    known = {"t.k": "sort_keys"}
    clean = {"passed": ["t.a", "t.b", "t.c"], "failed": ["t.k"], "skipped": ["t.s"]}
    assert problems(clean, expected, known) == []
    broken = {"passed": ["t.a"], "failed": ["t.b", "t.k", "t.new"], "skipped": []}
    assert problems(broken, expected, known) == [
        "expected to pass but did not:\n  FAILED: t.b\n  did not run: t.c",
        "failed with no cause in tempest_known_failures.txt:\nt.new",
    ]
