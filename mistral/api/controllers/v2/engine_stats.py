"""``/v2/engine_stats``: an engine's own timing figures, for benchmarks and operators (not in Mistral 23).

``result_to_next_send`` is the time from an action result's arrival at the engine to
the send of the actions it caused (p50/p95/max in ms over the latest hops, and how
many hops were counted since the engine started). With several engines, whichever
engine takes the RPC call answers with its own figures.
"""

from __future__ import annotations

from typing import Any

from mistral.api import contract, policy
from mistral.rpc import clients


class EngineStatsController:
    @contract.expose("An engine's timing figures", returns=contract.FreeForm("The engine's figures"))
    def index(self) -> dict[str, Any]:
        policy.enforce("admin_only")
        return clients.engine().engine_stats()
