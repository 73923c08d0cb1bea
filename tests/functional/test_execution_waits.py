"""What an execution waits for, through the real client and CLI: its report and ``/waits``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.polling import wait_execution

# NOTE: each CLI call costs a process start; the queries are covered on both backends in tests/unit.
pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)

WORKFLOWS = """
version: '2.0'
three_then_fail:
  tasks:
    a:
      action: std.noop
      on-success: [b, c]
    b:
      action: std.noop
    c:
      action: std.noop
      on-success: d
    d:
      action: std.fail
"""


@pytest.fixture
def wfs(client: Any) -> Any:
    client.workflows.create(WORKFLOWS)
    return client


def test_cli_report_counts_every_task_of_the_run(cli: Any, wfs: Any) -> None:
    ex = wfs.executions.create("three_then_fail")
    assert wait_execution(wfs, ex.id).state == "ERROR"
    # NOTE: the CLI asks for errors only by default: the tree shows the failed task alone,
    # the statistics still count the whole run.
    report = cli("execution-get-report", ex.id).stdout
    assert "Number of tasks in SUCCESS state: 3" in report
    assert "Number of tasks in ERROR state: 1" in report
    assert "task 'd' [ERROR]" in report and "task 'a'" not in report
