"""The notifier: delivers execution and task events to the publishers an execution names.

The engine writes each event as a row in the transaction of the state change
that causes it (``mistral.engine.notifications``); the delivery loop
(``mistral.notifier.delivery``, ``mistral-server --server notifier``) sends them,
one execution's events in order, retrying while the receiver is down.
"""

from __future__ import annotations

import threading

#: Set after a commit that wrote events, so a notifier in the same process looks at once.
_pending = threading.Event()


def wake() -> None:
    """Events were committed: a notifier in this process need not wait for its next look."""
    _pending.set()


def wait_for_events(timeout: float) -> bool:
    """Wait until woken or ``timeout`` seconds passed; True when woken."""
    woken = _pending.wait(timeout)
    _pending.clear()
    return woken
