"""``GET /v2/engine_stats``: the engine's result-to-next-send latency, read over REST as a benchmark does."""

from __future__ import annotations

from tests.functional import runs
from tests.functional.conftest import Server

CHAIN = """
version: '2.0'
wf:
  tasks:
    one:
      action: std.echo output=1
      on-success: [two]
    two:
      action: std.echo output=2
      on-success: [three]
    three:
      action: std.echo output=3
"""


def _figures(api: Server, query: str = "") -> dict:
    resp = api.request("GET", f"/engine_stats{query}")
    assert resp.status_code == 200, resp.text
    return resp.json()["result_to_next_send"]


def test_each_hop_of_a_chain_is_timed(api: Server) -> None:
    before = _figures(api)["count"]
    runs.wait(api, runs.start(api, CHAIN), "SUCCESS")
    figures = _figures(api)
    # NOTE: two results caused a send (one -> two, two -> three); the last one ends the workflow.
    assert figures["count"] - before >= 2
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
    # NOTE: ``since`` gives this run's hops alone.
    assert _figures(api, f"?since={before}")["window"] == figures["count"] - before
    assert api.request("GET", "/engine_stats?since=x").status_code == 400
