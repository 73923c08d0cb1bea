"""``mistral_work_items{queue, state}`` in ``/metrics``: how deep the external workers' queues are.

Counted at scrape time by one grouped query (every project's open items), so the figure is
the database's and the same whichever API process answers.

NOTE: the queue name is a label: queues are a handful of names an operator chose, like executor hosts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mistral.services import work_items

LOG = logging.getLogger(__name__)

NAME = "mistral_work_items"
HELP = "Open work items of the external workers' queues, by queue and state (queued, claimed, paused)"

_registered = False
_lock = threading.Lock()


class QueueDepth(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        # NOTE: without it, registering would run a collection (a query) to learn the names.
        yield GaugeMetricFamily(NAME, HELP, labels=["queue", "state"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(NAME, HELP, labels=["queue", "state"])
        try:
            rows = work_items.depth()
        except Exception:  # noqa: BLE001 - a scrape answers the other series even without the database
            LOG.exception("Could not count the work items for /metrics")
            rows = []
        for queue, state, count in rows:
            family.add_metric([queue, state], count)
        yield family


def register() -> None:
    """Add the series to this process's registry, once."""
    global _registered
    with _lock:
        if not _registered:
            REGISTRY.register(QueueDepth())
            _registered = True
