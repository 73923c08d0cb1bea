"""External workers: run actions queued with ``queue:`` or ``std.external`` outside the service.

``Client`` makes the REST calls, ``Worker`` loops over claims with heartbeats and a graceful stop,
``CommandHandler`` runs a command per item (what ``mistral-worker -- COMMAND`` does). A worker
needs only ``requests``: it imports nothing of the service's server side.
"""

from mistral.worker.client import Client, WorkerError, WorkItem
from mistral.worker.command import CommandHandler
from mistral.worker.worker import Abandoned, Handler, Worker, WorkFailed

__all__ = [
    "Abandoned",
    "Client",
    "CommandHandler",
    "Handler",
    "WorkFailed",
    "Worker",
    "WorkItem",
    "WorkerError",
]
