"""``/v2/engine_stats``: an engine's own timing figures, for benchmarks and operators (not in Mistral 23).

``result_to_next_send`` is the time from an action result's arrival at the engine to
the send of the actions it caused (p50/p95/max in ms over the latest hops, and how
many hops were counted since the engine started). ``?since=N`` (a ``count`` read
earlier) limits the percentiles to the hops after it, so a benchmark gets one
workload's figures. With several engines, whichever engine takes the RPC call
answers with its own figures; every engine also adds its hops to the Prometheus
histogram ``mistral_engine_hop_seconds`` (its ``[metrics]`` port), whose buckets
add up over engines.
"""

from __future__ import annotations

from typing import Any

from mistral.api import contract, policy
from mistral.api.errors import RequestError
from mistral.rpc import clients


class EngineStatsController:
    @contract.expose(
        "An engine's timing figures",
        query=(contract.integer("since", "Only the hops after this count", minimum=0),),
        returns=contract.FreeForm("The engine's figures"),
    )
    def index(self, since: str | None = None) -> dict[str, Any]:
        policy.enforce("admin_only")
        try:
            after = int(since or 0)
        except ValueError:
            raise RequestError(f"'since' must be a whole number, got {since!r}") from None
        return clients.engine().engine_stats(since=max(after, 0))
