"""The sender names the engine that sent an action, so its result comes back there (see executor.routing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mistral import context
from mistral.engine import sender
from mistral.engine.outbox import Outbox
from mistral.rpc import clients
from mistral.rpc.payloads import ActionRequest


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    payloads: list[dict[str, Any]] = []

    class Executor:
        def run_actions(self, requests: list[dict[str, Any]], target: str | None = None) -> None:
            payloads.extend(requests)

    monkeypatch.setattr(clients, "executor", Executor)
    yield payloads
    sender.reply_here(None)


def _send(*ids: str) -> None:
    box = Outbox()
    box.actions += [ActionRequest(i, "std.noop", owner={"project_id": "p"}) for i in ids]
    with context.using(context.Context(project_id="p", is_internal=True)):
        sender.send(box)


def test_actions_name_the_engine_that_sent_them(sent: list[dict[str, Any]]) -> None:
    sender.reply_here("engine-7")
    _send("a1", "a2")
    assert [(p["action_ex_id"], p["reply_to"]) for p in sent] == [("a1", "engine-7"), ("a2", "engine-7")]
    assert ActionRequest.from_dict(sent[0]).reply_to == "engine-7"


def test_without_an_engine_server_the_result_may_go_to_any_engine(sent: list[dict[str, Any]]) -> None:
    sender.reply_here(None)
    _send("a1")
    assert sent[0].get("reply_to") is None  # NOTE: a field at its default does not travel
    assert ActionRequest.from_dict(sent[0]).reply_to is None
