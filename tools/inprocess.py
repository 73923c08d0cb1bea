"""What every in-process measuring tool in tools/ does first: a fresh database, ready to run.

The tools run the engine and executor inside their own process, as ``mistral-server
--server all`` does, so that they can count statements and profile threads. Their ``--db`` is a
SQLite file, or the URL of an empty database (``postgresql+psycopg2://postgres@127.0.0.1/x``) to
measure the engine's share of a hop as the distributed mode pays it, round trips included.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Sequence
from typing import Any

from mistral import config, launcher
from mistral.db.migration import cli
from mistral.engine import sender, unit_of_work
from mistral.services import actions as action_service
from mistral.services import definitions
from mistral.utils import memory


def fresh_database(path: str, workflows: str) -> None:
    """Use a new database holding the schema, the system actions and ``workflows``: a new SQLite
    file ``path``, or, when ``path`` is a URL, the empty database it names."""
    is_url = "://" in path
    if not is_url:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    config.parse_args([])
    config.CONF.set_override("connection", path if is_url else f"sqlite:///{path}", group="database")
    # NOTE: mistral-extra's generated OpenStack actions are not what these tools measure; they slow the start.
    config.CONF.set_default("load_action_generators", False, group="legacy_action_provider")
    cli.upgrade("head")
    action_service.sync_system_actions()
    definitions.create_workflows(workflows)


def start_services(names: Sequence[str] = ("engine", "executor")) -> launcher.Services:
    """Start ``names`` in this process and settle its memory as ``mistral-server`` does once they run.

    NOTE: the server then freezes its start-up objects and, with an engine or executor, collects young
    objects less often (``mistral.utils.memory``); without that, a tool's 10 000-item with-items spent
    1.95 s of 3 runs in the collector, against 0.11 s in the server's settings.
    """
    services = launcher.Services(list(names))
    services.start()
    memory.freeze_startup_objects(names)
    return services


def capture_sends() -> collections.deque[Any]:
    """The action requests the engine sends from now on, kept here: the calling thread plays the executor."""
    sent: collections.deque[Any] = collections.deque()

    def keep(box: Any) -> None:
        sent.extend(box.actions)
        box.clear()

    sender.send = unit_of_work.sender.send = keep  # type: ignore[assignment]
    return sent
