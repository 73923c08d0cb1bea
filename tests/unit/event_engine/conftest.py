"""A fake engine client, a workflow to trigger and an in-memory notification transport."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
from oslo_config import cfg
from oslo_messaging import opts as messaging_opts

from mistral import context
from mistral.services import definitions

WORKFLOW = """
version: '2.0'
on_event:
  input:
    - greeting
    - who: world
  tasks:
    echo:
      action: std.echo output=<% $.greeting %>
"""


class FakeEngineClient:
    """Records ``start_workflow`` calls with the caller's context; answers with the requested or a new id."""

    def __init__(self) -> None:
        self.starts: list[dict[str, Any]] = []
        self.started = threading.Event()
        self.error: Exception | None = None

    def start_workflow(
        self,
        wf_identifier: str,
        wf_namespace: str = "",
        wf_ex_id: str | None = None,
        wf_input: dict[str, Any] | None = None,
        description: str = "",
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        self.starts.append(
            {
                "wf_identifier": wf_identifier,
                "wf_namespace": wf_namespace,
                "wf_ex_id": wf_ex_id,
                "wf_input": wf_input,
                "description": description,
                "params": params,
                "project_id": context.current().project_id,
            }
        )
        self.started.set()
        return {"id": wf_ex_id or f"ex-{len(self.starts)}"}


@pytest.fixture
def fake_engine() -> FakeEngineClient:
    return FakeEngineClient()


@pytest.fixture
def workflow(db: str) -> Any:
    return definitions.create_workflows(WORKFLOW)[0]


@pytest.fixture
def publisher_conf() -> cfg.ConfigOpts:
    """A publishing service's own configuration: its control_exchange is the exchange it notifies on."""
    conf = cfg.ConfigOpts()
    for group, opts in messaging_opts.list_opts():
        if group is None:
            conf.register_opts(opts)
    conf([], project="publisher")
    conf.set_override("control_exchange", "nova")
    return conf


@pytest.fixture
def fake_transport(publisher_conf: cfg.ConfigOpts) -> Iterator[Any]:
    """oslo.messaging's in-memory driver; listeners and notifiers must share this one transport."""
    transport = oslo_messaging.get_notification_transport(publisher_conf, url="fake:")
    yield transport
    transport.cleanup()
