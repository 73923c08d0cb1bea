"""``retry`` with ``backoff`` end to end: uploaded and started through python-mistralclient, watched over
the REST API, each retry's scheduled time read from the scheduler's table.

NOTE: nothing waits the 1 + 2 + 4 seconds: once a retry's job is seen (and its delay measured) the test
moves its due time to now. The job is still in the future then, so the scheduler has not claimed it.
"""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

from mistral.db import api as db_api
from mistral.db.types import utcnow
from tests.functional.conftest import Server

WORKFLOW = """
version: '2.0'
backs_off:
  tasks:
    flaky:
      action: std.fail
      retry:
        count: 3
        delay: 1
        backoff: 2
"""
DEADLINE = 30


def _task(api: Server, execution_id: str) -> dict[str, Any] | None:
    found = api.request("GET", f"/executions/{execution_id}/tasks").json()["tasks"]
    return found[0] if found else None


def _runtime(api: Server, task_id: str) -> dict[str, Any]:
    """The task's runtime record as GET /v2/tasks/{id} shows it (a JSON string, as in Mistral)."""
    return json.loads(api.request("GET", f"/tasks/{task_id}").json()["runtime_context"])


def test_a_task_with_backoff_retries_after_1_2_and_4_seconds(api: Server, client: Any) -> None:
    client.workflows.create(WORKFLOW)
    execution = client.executions.create("backs_off")
    delays: dict[str, float] = {}  # job id -> seconds between its scheduling and its due time
    recorded: dict[int, str] = {}  # retry_no -> next_retry_at the task's runtime showed
    give_up = time.monotonic() + DEADLINE
    while client.executions.get(execution.id).state == "RUNNING" and time.monotonic() < give_up:
        task = _task(api, execution.id)
        job = db_api.load_scheduled_job_by_key(f"delay:{task['id']}") if task else None
        if job is not None and job.id not in delays and job.captured_at is None:
            delays[job.id] = (job.run_after - job.created_at).total_seconds()
            runtime = _runtime(api, job.func_args["task_ex_id"])
            recorded[runtime["retry_no"]] = runtime["next_retry_at"]
            assert runtime["next_retry_at"] == job.run_after.isoformat()
            if job.run_after - utcnow() > datetime.timedelta(seconds=0.3):
                db_api.release_scheduled_job(job.id, utcnow())
        time.sleep(0.02)
    final = client.executions.get(execution.id)
    assert final.state == "ERROR"
    assert [round(d, 1) for d in delays.values()] == [1.0, 2.0, 4.0]
    assert sorted(recorded) == [1, 2, 3]
    task = _task(api, execution.id)
    assert task is not None
    assert len(client.action_executions.list(task_execution_id=task["id"])) == 4  # the first and 3 retries
