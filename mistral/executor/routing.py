"""Which engine hears from an executor: the one that sent the action, or any engine when that one is silent.

An action request names the engine that sent it (``reply_to``); the executor's
take of the action and its result go back there, so the traffic of one workflow
execution meets on one engine: its results share that engine's transactions
instead of waiting for each other's lock on the workflow's row, and a chain of
tasks keeps one engine busy rather than waking another one for every take. An
engine that does not answer (it died, it is stopping, it is overloaded) gets
nothing more for a while: messages go to the engines' common queue, as those
without ``reply_to`` always do. Applying a result twice is harmless (architecture
rule 3), and a take that another engine recorded first is refused (architecture rule 7), so
a message sent again elsewhere after a timeout is safe.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

LOG = logging.getLogger(__name__)

T = TypeVar("T")

#: ``send(results, engine)``: deliver to that engine (None: any); raises when not confirmed.
Send = Callable[[list[dict[str, Any]], str | None], None]
#: Seconds an engine that did not answer is passed over.
SILENT_FOR = 60.0


class EngineChoice:
    """The engine a message is sent to: the one it names, unless that one was silent lately."""

    def __init__(self, silent_for: float = SILENT_FOR) -> None:
        self._silent_for = silent_for
        self._silent_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def call(self, engine: str | None, what: str, send: Callable[[str | None], T]) -> T:
        """``send(engine)``, or ``send(None)`` (any engine) when ``engine`` is passed over or fails.

        Raises what ``send(None)`` raises: then no engine confirmed it.
        """
        chosen = self._engine_for(engine)
        if chosen is None:
            return send(None)
        try:
            return send(chosen)
        except Exception as error:  # noqa: BLE001 - any engine can take it instead
            LOG.info("Engine %s did not confirm %s (%s); any engine gets it", chosen, what, error)
            self._pass_over(chosen)
            return send(None)

    def _engine_for(self, engine: str | None) -> str | None:
        if not engine:
            return None
        with self._lock:
            until = self._silent_until.get(engine)
            if until is None:
                return engine
            if time.monotonic() < until:
                return None
            del self._silent_until[engine]
            return engine

    def _pass_over(self, engine: str) -> None:
        with self._lock:
            self._silent_until[engine] = time.monotonic() + self._silent_for


#: This process's view of the engines: one that did not confirm a take is passed over for results
#: too, and the other way round, so an engine that died costs an executor one timeout, not one of each.
SHARED = EngineChoice()


class ResultRouter:
    """Delivers a batch of results, each to the engine it names, the rest to any engine."""

    def __init__(self, send: Send, choice: EngineChoice = SHARED) -> None:
        self._send = send
        self._choice = choice

    def __call__(self, results: list[dict[str, Any]]) -> None:
        """Raises when some result reached no engine: the caller keeps the batch and sends it again."""
        by_engine: dict[str | None, list[dict[str, Any]]] = {}
        for result in results:
            by_engine.setdefault(result.get("reply_to") or None, []).append(result)
        for engine, part in by_engine.items():
            self._choice.call(engine, f"{len(part)} results", functools.partial(self._send, part))
