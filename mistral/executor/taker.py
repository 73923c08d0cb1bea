"""Taking actions before running them (architecture rule 7), many offers in one call to an engine.

Requests arrive in batches from engines; each is run only once an engine has
granted it to this executor. A thread gathers whatever arrived meanwhile into
one take, so a burst of batches (a with-items of thousands) costs a few round
trips, and the RPC threads that deliver batches never wait on the database.
Each take goes to the engine that sent its actions (see ``routing``).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from mistral import context
from mistral.executor import routing
from mistral.executor.executor import Executor
from mistral.rpc.payloads import ActionRequest

LOG = logging.getLogger(__name__)

#: ``take(action_ex_ids, executor, engine)``: the ids this executor may run, as ``engine`` (None: any
#: engine) granted them.
TakeCall = Callable[[list[str], str, str | None], list[str]]
#: Most actions asked for in one take.
MAX_TAKE = 1000

Offer = tuple[dict[str, Any], ActionRequest]


class Taker:
    def __init__(
        self, executor: Executor, host: str, take: TakeCall, choice: routing.EngineChoice = routing.SHARED
    ) -> None:
        self._executor = executor
        self._host = host
        self._take = take
        self._choice = choice
        self._cond = threading.Condition()
        self._offers: list[Offer] = []
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._cond:
            self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="executor-taker", daemon=True)
        self._thread.start()

    def offer(self, ctxt: dict[str, Any], requests: list[ActionRequest]) -> None:
        """Requests to run once taken; ``ctxt`` is the security context they run with."""
        with self._cond:
            self._offers += [(ctxt, r) for r in requests]
            self._cond.notify()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the take on its way; offers not taken yet are dropped (engines send them again)."""
        with self._cond:
            self._stopping = True
            dropped, self._offers = len(self._offers), []
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if dropped:
            LOG.info(
                "Stopping: %d actions offered and not taken are left for the engine to send again", dropped
            )

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._offers and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                offers, self._offers = self._offers[:MAX_TAKE], self._offers[MAX_TAKE:]
            self._take_and_run(offers)
            # NOTE: not kept while waiting for the next offer: the batch (up to MAX_TAKE requests with
            # their input) would stay in memory after its actions ran, as long as the executor is idle.
            del offers

    def _take_and_run(self, offers: list[Offer]) -> None:
        first: dict[str, Offer] = {}
        for offer in offers:
            first.setdefault(offer[1].action_ex_id, offer)  # a copy delivered twice runs once
        granted = self._granted(first)
        refused = [i for i in first if i not in granted]
        if refused:
            LOG.info("Not running %d actions taken before or no longer running: %s", len(refused), refused)
        by_context: dict[int, tuple[dict[str, Any], list[ActionRequest]]] = {}
        for action_ex_id in granted:
            ctxt, request = first[action_ex_id]
            by_context.setdefault(id(ctxt), (ctxt, []))[1].append(request)
        for ctxt, requests in by_context.values():
            # NOTE: the workers copy the context current here, so restoring it once covers every action.
            with context.using(context.Context.from_dict(ctxt or {})):
                self._executor.run_actions([r.to_dict() for r in requests])

    def _granted(self, offers: dict[str, Offer]) -> set[str]:
        """The ids of ``offers`` taken for this executor, each asked of the engine that sent it."""
        by_engine: dict[str | None, list[str]] = {}
        for action_ex_id, (_, request) in offers.items():
            by_engine.setdefault(request.reply_to or None, []).append(action_ex_id)
        granted: set[str] = set()
        for engine, ids in by_engine.items():
            try:
                granted.update(
                    self._choice.call(
                        engine,
                        f"a take of {len(ids)} actions",
                        functools.partial(self._take, ids, self._host),
                    )
                )
            except Exception as error:  # noqa: BLE001 - untaken actions are sent again; none may run untaken
                LOG.warning(
                    "Could not take %d actions (%s); the engine will send them again", len(ids), error
                )
        return granted
