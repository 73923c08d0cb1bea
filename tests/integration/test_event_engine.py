"""A real notification through RabbitMQ fires an event trigger and runs its workflow.

What travels where: the notification goes from an oslo.messaging ``Notifier``
(as an OpenStack service sends it) through RabbitMQ to the event engine's
listener; everything else stays in this process: the event engine asks the
engine to start the workflow over the in-process RPC transport, and the
engine and executor run it there, on the test database.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import kombu
import oslo_messaging
import pytest
from oslo_config import cfg
from oslo_messaging import opts as messaging_opts

from mistral import config, launcher
from mistral.db import api as db_api
from mistral.event_engine.engine import EventEngine
from mistral.services import definitions, event_triggers
from mistral.workflow import states
from tests.conftest import service_missing, use_database

pytestmark = pytest.mark.rabbit

RABBIT_URL = os.environ.get("MISTRAL_TEST_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
WORKFLOW = """
version: '2.0'
echo_event:
  input:
    - note
  tasks:
    echo:
      action: std.echo
      input:
        output:
          note: <% $.note %>
          event: <% execution().params.event_params %>
      publish:
        echoed: <% task().result %>
  output:
    echoed: <% $.echoed %>
"""


def _amqp_url() -> str:
    return RABBIT_URL.replace("rabbit://", "amqp://", 1)


@pytest.fixture(scope="module")
def rabbit() -> str:
    try:
        with kombu.Connection(_amqp_url(), connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as error:  # noqa: BLE001 - whatever the reason, RabbitMQ is not usable
        service_missing("RabbitMQ", error)
    return RABBIT_URL


@pytest.fixture(scope="module")
def engine_services(sqlite_url: str) -> Iterator[None]:
    """Engine and executor in this process, on the in-process RPC transport."""
    use_database(sqlite_url)
    services = launcher.Services(["engine", "executor"])
    services.start()
    yield
    services.stop()


@pytest.fixture
def source(rabbit: str) -> Iterator[dict[str, str]]:
    """A unique exchange and topic, deleted from RabbitMQ afterwards with the queues bound to them."""
    tag = uuid.uuid4().hex[:10]
    names = {"exchange": f"mistral-it-{tag}", "topic": f"events-{tag}", "pool": f"mistral-it-pool-{tag}"}
    yield names
    with kombu.Connection(_amqp_url(), connect_timeout=3) as conn:
        channel = conn.channel()
        # NOTE: our listener's pool queue, and the queue oslo.messaging's notifier declares per routing key.
        for queue in (f"{names['pool']}.{names['exchange']}.{names['topic']}", f"{names['topic']}.info"):
            channel.queue_delete(queue)
        channel.exchange_delete(names["exchange"])


def _publisher(url: str, exchange: str) -> Any:
    """A notification transport configured as another service's: its control_exchange is ``exchange``."""
    conf = cfg.ConfigOpts()
    for group, opts in messaging_opts.list_opts():
        if group is None:
            conf.register_opts(opts)
    conf([], project="publisher")
    conf.set_override("control_exchange", exchange)
    return oslo_messaging.get_notification_transport(conf, url=url)


def _wait_for_execution(wf_id: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = db_api.list_workflow_executions(
            db_api.ListQuery(filters={"workflow_id": db_api.Filter("eq", wf_id)})
        )
        if found and found[0].state in states.COMPLETED:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no finished execution of workflow {wf_id} within {timeout} s")


def test_a_rabbitmq_notification_runs_the_workflow(
    rabbit: str, engine_services: None, db: str, source: dict[str, str]
) -> None:
    (wf_def,) = definitions.create_workflows(WORKFLOW)
    trigger = event_triggers.create_event_trigger(
        {
            "name": "on_boot",
            "workflow_id": wf_def.id,
            "workflow_input": {"note": "from a trigger"},
            "exchange": source["exchange"],
            "topic": source["topic"],
            "event": "compute.instance.*.end",
        }
    )
    listen_transport = oslo_messaging.get_notification_transport(config.CONF, url=rabbit)
    publish_transport = _publisher(rabbit, source["exchange"])
    event_engine = EventEngine(listen_transport, definitions=[], pool_name=source["pool"])
    try:
        # NOTE: start() returns once the listener's queue is bound, so nothing published next is lost.
        event_engine.start()
        assert event_engine.listening == {(source["exchange"], source["topic"])}
        notifier = oslo_messaging.Notifier(
            publish_transport, publisher_id="compute.host-7", driver="messaging", topics=[source["topic"]]
        )
        notifier.info({"project_id": "p"}, "compute.instance.delete.start", {"instance_id": "ignored"})
        notifier.info({"project_id": "p"}, "compute.instance.create.end", {"instance_id": "i-7", "size": 2})
        (wf_ex,) = _wait_for_execution(wf_def.id)
    finally:
        event_engine.stop()
        listen_transport.cleanup()
        publish_transport.cleanup()
    assert wf_ex.state == states.SUCCESS, wf_ex.state_info
    event = wf_ex.output["echoed"]["event"]
    assert wf_ex.output["echoed"]["note"] == "from a trigger"
    assert {k: event[k] for k in ("instance_id", "size", "event_type", "publisher_id")} == {
        "instance_id": "i-7",
        "size": 2,
        "event_type": "compute.instance.create.end",
        "publisher_id": "compute.host-7",
    }
    assert event["timestamp"]
    assert json.loads(wf_ex.description)["triggered_by"] == {
        "type": "event_trigger",
        "id": trigger.id,
        "name": "on_boot",
    }
