"""A Tempest run's outcome: which test ids passed, failed and were skipped (stdlib only).

stestr keeps the run as a subunit v2 stream; its own ``subunit2csv`` (in the Tempest virtualenv) turns
that into one CSV row per test, which is all we need to read it without subunit's Python package.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

#: Tempest appends the test's uuid and tags to its id: ``test_x[id-1234,smoke]``.
ATTRIBUTES = re.compile(r"\[[^\]]*\]$")
#: How stestr names a class whose ``setUpClass`` raised.
SETUP_CLASS = re.compile(r"setUpClass \((.+)\)")
TEARDOWN_CLASS = re.compile(r"tearDownClass \((.+)\)")
OUTCOMES = {"success": "passed", "xfail": "passed", "skip": "skipped"}


@dataclass
class Outcome:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: Classes whose ``tearDownClass`` failed after their tests ran: Tempest could not delete the users
    #: and projects it made. Worth a look at Keystone, but says nothing about the service under test.
    cleanup_failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "cleanup_failed": self.cleanup_failed,
        }

    def setup_failures(self) -> list[str]:
        """The classes whose ``setUpClass`` failed, so that none of their tests ran."""
        return [m.group(1) for m in map(SETUP_CLASS.fullmatch, self.failed) if m]

    def without_setup_failures(self) -> Outcome:
        failed = [test_id for test_id in self.failed if not SETUP_CLASS.fullmatch(test_id)]
        return Outcome(list(self.passed), failed, list(self.skipped), list(self.cleanup_failed))

    def merged(self, other: Outcome) -> Outcome:
        return Outcome(
            sorted(self.passed + other.passed),
            sorted(self.failed + other.failed),
            sorted(self.skipped + other.skipped),
            sorted(self.cleanup_failed + other.cleanup_failed),
        )


def plain_id(test_id: str) -> str:
    return ATTRIBUTES.sub("", test_id)


def parse_csv(text: str) -> Outcome:
    """Rows of ``test,status,start_time,stop_time``; any status but success/xfail/skip is a failure
    (``fail``, ``uxsuccess``, and an ``exists`` row that never finished)."""
    outcome = Outcome()
    for row in csv.DictReader(io.StringIO(text)):
        kind = OUTCOMES.get(row["status"], "failed")
        if kind == "failed" and TEARDOWN_CLASS.fullmatch(row["test"]):
            kind = "cleanup_failed"
        getattr(outcome, kind).append(plain_id(row["test"]))
    for ids in (outcome.passed, outcome.failed, outcome.skipped, outcome.cleanup_failed):
        ids.sort()
    return outcome


def read_last_run(venv: Path, workdir: Path) -> Outcome:
    """The last run stestr recorded in ``workdir`` (where ``tempest run`` left ``.stestr``)."""
    stream = subprocess.run(
        [str(venv / "bin" / "stestr"), "last", "--subunit"], cwd=workdir, capture_output=True, check=False
    ).stdout
    with open(workdir / "results.subunit", "ab") as saved:  # every run of the folder, in order
        saved.write(stream)
    # NOTE: subunit2csv exits 1 when the stream holds a failure; its output is complete all the same.
    rows = subprocess.run([str(venv / "bin" / "subunit2csv")], input=stream, capture_output=True).stdout
    if not rows.strip():
        raise SystemExit(f"tempest: no results in {workdir / 'results.subunit'} (see tempest-run.log)")
    return parse_csv(rows.decode())
