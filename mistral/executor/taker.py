"""Taking actions before running them (architecture rule 7), many offers in one call to an engine.

Requests arrive in batches from engines; each is run only once an engine has
granted it to this executor. A thread gathers whatever arrived meanwhile into
one take, so a burst of batches (a with-items of thousands) costs a few round
trips, and the RPC threads that deliver batches never wait on the database.
Each take goes to the engine that sent its actions (see ``routing``).

A take that gets no answer (a timeout, an engine that died) may still have been
recorded: its actions would then stay taken by this executor, which never runs
them, until the engine's silence check fails them. So they are asked for again,
after a pause, as a take "again", which the engine also grants when this executor
took them and never reported on them; until one such take is answered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from mistral import context
from mistral.executor import routing
from mistral.executor.executor import Executor

LOG = logging.getLogger(__name__)

#: ``take(action_ex_ids, executor, engine, again)``: the ids this executor may run, as ``engine``
#: (None: any engine) granted them; ``again``: those of the ids whose earlier take got no answer.
TakeCall = Callable[[list[str], str, str | None, list[str]], list[str]]
#: Most actions asked for in one take.
MAX_TAKE = 1000
#: Seconds before a take that got no answer is asked again, doubling up to the second figure.
RETRY_DELAY_S, RETRY_MAX_DELAY_S = 1.0, 10.0

#: (security context, request): the request as it came off the wire, an ``ActionRequest``'s dict.
#: NOTE: not made an ``ActionRequest`` and back: the executor reads the dict, and each copy of a
#: with-items task's thousands of requests cost time and, all of them waiting here, memory.
Offer = tuple[dict[str, Any], Mapping[str, Any]]


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
        #: offers whose take got no answer, by action id (the loop's thread only)
        self._unsure: dict[str, Offer] = {}
        self._retry_at: float | None = None
        self._retry_delay = RETRY_DELAY_S

    def start(self) -> None:
        with self._cond:
            self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="executor-taker", daemon=True)
        self._thread.start()

    def offer(self, ctxt: dict[str, Any], requests: list[Mapping[str, Any]]) -> None:
        """Requests to run once taken; ``ctxt`` is the security context they run with."""
        with self._cond:
            self._offers += [(ctxt, r) for r in requests]
            self._cond.notify()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the take on its way; offers not taken yet are dropped (engines send them again).

        Those whose take got no answer may be taken by this executor: they are given back with the
        executor's actions that never started.
        """
        with self._cond:
            self._stopping = True
            dropped, self._offers = len(self._offers), []
            self._cond.notify()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        if dropped:
            LOG.info(
                "Stopping: %d actions offered and not taken are left for the engine to send again", dropped
            )
        # NOTE: read only once the loop has ended: a take still on its way may change them.
        if thread is None or not thread.is_alive():
            unsure, self._unsure = list(self._unsure), {}
            if unsure:
                self._executor.never_started(unsure)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._offers and not self._stopping and not self._retry_due():
                    self._cond.wait(self._until_retry())
                if self._stopping:
                    return
                offers, self._offers = self._offers[:MAX_TAKE], self._offers[MAX_TAKE:]
            if self._retry_due():
                self._retry_at = None
                offers += self._unsure.values()
            self._take_and_run(offers)
            # NOTE: not kept while waiting for the next offer: the batch (up to MAX_TAKE requests with
            # their input) would stay in memory after its actions ran, as long as the executor is idle.
            del offers

    def _retry_due(self) -> bool:
        return self._retry_at is not None and time.monotonic() >= self._retry_at

    def _until_retry(self) -> float | None:
        return None if self._retry_at is None else max(self._retry_at - time.monotonic(), 0.0)

    def _take_and_run(self, offers: list[Offer]) -> None:
        first: dict[str, Offer] = {}
        for offer in offers:
            first.setdefault(offer[1]["action_ex_id"], offer)  # a copy delivered twice runs once
        granted = self._granted(first)
        refused = [i for i in first if i not in granted]
        if refused:
            LOG.info("Not running %d actions taken before or no longer running: %s", len(refused), refused)
        by_context: dict[int, tuple[dict[str, Any], list[Mapping[str, Any]]]] = {}
        for action_ex_id in granted:
            ctxt, request = first[action_ex_id]
            by_context.setdefault(id(ctxt), (ctxt, []))[1].append(request)
        for ctxt, requests in by_context.values():
            # NOTE: the workers copy the context current here, so restoring it once covers every action.
            with context.using(context.Context.from_dict(ctxt or {})):
                self._executor.run_actions(requests)

    def _sender(self, ids: list[str]) -> Callable[[str | None], list[str]]:
        """``send(engine)`` taking ``ids``; once a send got no answer, the next asks for them again."""
        again = [i for i in ids if i in self._unsure]

        def send(engine: str | None) -> list[str]:
            nonlocal again
            try:
                return self._take(ids, self._host, engine, again)
            except Exception:
                again = ids
                raise

        return send

    def _granted(self, offers: dict[str, Offer]) -> set[str]:
        """The ids of ``offers`` taken for this executor, each asked of the engine that sent it."""
        by_engine: dict[str | None, list[str]] = {}
        for action_ex_id, (_, request) in offers.items():
            by_engine.setdefault(request.get("reply_to") or None, []).append(action_ex_id)
        granted: set[str] = set()
        for engine, ids in by_engine.items():
            try:
                granted.update(self._choice.call(engine, f"a take of {len(ids)} actions", self._sender(ids)))
            except Exception as error:  # noqa: BLE001 - none may run untaken; see the module's notes
                LOG.warning(
                    "Could not take %d actions (%s); asking again in %.0f s",
                    len(ids),
                    error,
                    self._retry_delay,
                )
                self._unsure.update((i, offers[i]) for i in ids)
                self._retry_at = self._retry_at or time.monotonic() + self._retry_delay
                self._retry_delay = min(self._retry_delay * 2, RETRY_MAX_DELAY_S)
            else:
                for action_ex_id in ids:
                    self._unsure.pop(action_ex_id, None)
                self._retry_delay = RETRY_DELAY_S
        return granted
