"""Which engine hears of a finished action: the one that sent it, or any engine when that one is silent.

An action request names the engine that sent it (``reply_to``); its result goes
back there, so the results of one workflow execution meet on one engine and
share its transactions instead of waiting for each other's lock on the
workflow's row. An engine that does not answer (it died, it is stopping, it is
overloaded) gets no more results for a while: they go to the engines' common
queue, as results without ``reply_to`` always do. Applying a result twice is
harmless (DESIGN rule 3), so a result sent again elsewhere after a timeout is safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger(__name__)

#: ``send(results, engine)``: deliver to that engine (None: any); raises when not confirmed.
Send = Callable[[list[dict[str, Any]], str | None], None]
#: Seconds an engine that did not answer is passed over.
SILENT_FOR = 60.0


class ResultRouter:
    """Delivers a batch of results, each to the engine it names, the rest to any engine."""

    def __init__(self, send: Send, silent_for: float = SILENT_FOR) -> None:
        self._send = send
        self._silent_for = silent_for
        self._silent_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, results: list[dict[str, Any]]) -> None:
        """Raises when some result reached no engine: the caller keeps the batch and sends it again."""
        by_engine: dict[str | None, list[dict[str, Any]]] = {}
        for result in results:
            by_engine.setdefault(self._engine_for(result.get("reply_to")), []).append(result)
        for engine, part in by_engine.items():
            if engine is None:
                self._send(part, None)
                continue
            try:
                self._send(part, engine)
            except Exception as error:  # noqa: BLE001 - any engine can apply them instead
                LOG.info("Engine %s did not confirm %d results (%s); any engine gets them",
                         engine, len(part), error)  # fmt: skip
                self._pass_over(engine)
                self._send(part, None)

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
