"""Sending an outbox: actions to executors, finished sub-workflows to engines."""

from __future__ import annotations

import logging

from mistral import config
from mistral.engine.outbox import Outbox, chunks, group_by_target
from mistral.rpc import clients

LOG = logging.getLogger(__name__)


def send(box: Outbox) -> None:
    """Best effort: what fails to leave is found again by the recovery loop."""
    try:
        _send_actions(box)
        if box.finished_subworkflows:
            clients.engine().on_subworkflows_finished(list(box.finished_subworkflows))
    except Exception:  # noqa: BLE001 - the transaction has committed; recovery repairs a lost send
        LOG.exception("Sending work after commit failed; the recovery loop will resend it")
    finally:
        box.clear()


def _send_actions(box: Outbox) -> None:
    if not box.actions:
        return
    size = config.CONF.engine.action_batch_size
    for target, requests in group_by_target(box.actions).items():
        for batch in chunks(requests, size):
            clients.executor().run_actions([r.to_dict() for r in batch], target=target)
