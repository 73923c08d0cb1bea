"""Dependencies by tag through the real python-mistralclient: validate, create, run, list the tasks."""

from __future__ import annotations

from typing import Any

from tests import polling

REVERSE = """
version: '2.0'
deploy:
  type: reverse
  tasks:
    db: {action: std.echo output=db, tags: [Deployment]}
    web: {action: std.echo output=web, tags: [Deployment, Web]}
    unrelated: {action: std.noop, tags: [Other]}
    smoke:
      action: std.noop
      tags: [PostDeployment]
      requires: {tags: [Deployment]}
    report:
      action: std.noop
      requires: [{tags: [PostDeployment]}, db]
"""

DIRECT = """
version: '2.0'
fan:
  tasks:
    go:
      action: std.noop
      on-success: [a, b, plain]
    a: {action: std.echo output=a, tags: [Deployment], publish: {a: <% task().result %>}}
    b: {action: std.echo output=b, tags: [Deployment], publish: {b: <% task().result %>}}
    plain: {action: std.noop}
    done:
      join: {tags: [Deployment]}
      action: std.echo output=<% [$.a, $.b] %>
"""


def test_validate_names_the_unknown_tag(client: Any) -> None:
    assert client.workflows.validate(REVERSE) == {"valid": True}
    bad = client.workflows.validate(DIRECT.replace("join: {tags: [Deployment]}", "join: {tags: [Deploy]}"))
    assert bad["valid"] is False
    assert "fan.tasks.done.join.tags[0]: no task carries the tag 'Deploy'" in bad["error"]


def test_reverse_requires_by_tags_runs_the_carriers_first(client: Any) -> None:
    client.workflows.create(REVERSE)
    ex = client.executions.create("deploy", task_name="report")
    assert polling.wait_execution(client, ex.id).state == "SUCCESS"
    tasks = {t.name: t for t in client.tasks.list(ex.id)}
    assert sorted(tasks) == ["db", "report", "smoke", "web"], "'unrelated' is not needed"
    assert all(t.state == "SUCCESS" for t in tasks.values())
    assert tasks["smoke"].started_at >= max(tasks["db"].finished_at, tasks["web"].finished_at)
    assert tasks["web"].tags == ["Deployment", "Web"]


def test_direct_join_by_tags_waits_for_every_carrier(client: Any) -> None:
    client.workflows.create(DIRECT)
    ex = client.executions.create("fan")
    assert polling.wait_execution(client, ex.id).state == "SUCCESS"
    tasks = {t.name: t for t in client.tasks.list(ex.id)}
    assert sorted(tasks) == ["a", "b", "done", "go", "plain"]
    assert client.tasks.get(tasks["done"].id).result == '["a", "b"]'


def test_a_failed_carrier_fails_the_join(client: Any) -> None:
    client.workflows.create(DIRECT.replace("std.echo output=b,", "std.fail,"))
    ex = polling.wait_execution(client, client.executions.create("fan").id)
    assert ex.state == "ERROR"
    done = next(t for t in client.tasks.list(ex.id) if t.name == "done")
    assert done.state == "ERROR" and "Join can't be satisfied" in done.state_info
