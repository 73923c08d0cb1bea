"""The notifier as a process of its own (``--server notifier``) beside api, engine and executors.

It is killed with SIGKILL while a webhook receiver holds one of its requests, and
started again: every event still arrives, in order; at most the one in flight
arrives twice, with the same ``X-Mistral-Event-Id`` (at-least-once).
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from tests.functional.receiver import Receiver
from tests.integration.cluster import Cluster, Rabbit
from tests.polling import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.rabbit]

CHAIN = """
version: '2.0'
chain:
  tasks:
    t1:
      action: std.echo output=1
      on-success: t2
    t2:
      action: std.echo output=2
      on-success: t3
    t3:
      action: std.echo output=3
"""
EXPECTED = [
    ("WORKFLOW_LAUNCHED", "chain"),
    *[(e, f"t{i}") for i in (1, 2, 3) for e in ("TASK_LAUNCHED", "TASK_SUCCEEDED")],
    ("WORKFLOW_SUCCEEDED", "chain"),
]
CLAIM_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def notified_cluster(
    postgres_url: str, rabbit: Rabbit, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    options = {
        "notifier": {
            "poll_interval": 0.2,
            "request_timeout": 2.0,
            "claim_timeout": CLAIM_TIMEOUT,
            "retry_initial_delay": 0.2,
            "retry_max_delay": 1.0,
        }
    }
    cluster = Cluster(pathlib.Path(tmp_path_factory.mktemp("notifier")), postgres_url, rabbit, options)
    cluster.add("notifier", "notifier")
    cluster.migrate()
    try:
        try:
            cluster.start()
            cluster.wait_logged("notifier", "Notifier")
        except BaseException as error:
            raise AssertionError(f"the cluster did not start: {error}\n{cluster.tails()}") from error
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()
    yield got
    got.release.set()
    got.stop()


def test_events_survive_a_notifier_killed_mid_delivery(notified_cluster: Cluster, receiver: Receiver) -> None:
    client = notified_cluster.client()
    client.workflows.create(CHAIN)
    receiver.hold_at = 4
    ex = client.executions.create("chain", notify=[{"type": "webhook", "url": receiver.url}])
    assert notified_cluster.wait_execution(ex.id).state == "SUCCESS"
    assert receiver.held.wait(30), "the notifier never sent the 4th event"
    notifier = notified_cluster.processes["notifier"]
    notifier.kill()
    receiver.release.set()  # the receiver took it, but its sender died before hearing so
    notifier.start()
    wait_for("every event", lambda: len({h["X-Mistral-Event-Id"] for h in receiver.headers}) >= 8, 30)
    ids = [h["X-Mistral-Event-Id"] for h in receiver.headers]
    names = receiver.names()
    pairs = list(zip(names, ids, strict=True))
    first_copies = [n for i, (n, event_id) in enumerate(pairs) if event_id not in ids[:i]]
    assert first_copies == EXPECTED
    # NOTE: the receiver took the 4th event but the notifier died before its answer: that one
    # event, and only it, is sent again (its claim timed out), before anything later.
    assert len(ids) == len(EXPECTED) + 1, names
    assert ids[3] == ids[4]


def test_a_notifier_that_is_down_loses_nothing(notified_cluster: Cluster, receiver: Receiver) -> None:
    client = notified_cluster.client()
    if not any(w.name == "chain" for w in client.workflows.list()):
        client.workflows.create(CHAIN)
    notifier = notified_cluster.processes["notifier"]
    notifier.kill()
    ex = client.executions.create("chain", notify=[{"type": "webhook", "url": receiver.url}])
    assert notified_cluster.wait_execution(ex.id).state == "SUCCESS"
    assert receiver.events == []
    notifier.start()
    receiver.wait_for(len(EXPECTED))
    assert receiver.names() == EXPECTED
