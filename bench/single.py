"""A workload of one execution: its wall time and rate, then the checks of its output and tasks.

Its one execution is polled at most every SINGLE_POLL_CAP_S, ``chain_50`` every FAST_POLL_S.
``chain_50`` also reports its per-hop latency (from the task timestamps, and from the
engine's own figure, ``bench.engine_hops``).
"""

from __future__ import annotations

from typing import Any

from bench import engine_hops
from bench.client import ApiError
from bench.report import fmt, hop_latencies, rate, spread_ms
from bench.runner import POLL_START_S, Bench
from bench.workflows import CHAIN_LEN
from bench.workloads import COUNTED_OUTPUT, EXPECTED_TASKS, workload_input, workload_specs

# Short workloads are polled this fast, so the poll overshoot stays a few ms.
FAST_POLL_S = 0.003
#: The longest pause between two polls of one execution. NOTE: with the 200 ms of the
#: concurrent workloads' clients, a fan-out that ended at 0.60 s was seen at 0.78 s: the
#: figure measured the polling. 40 polls a second cost the server about 4 % of one core.
SINGLE_POLL_CAP_S = 0.025


def measure(bench: Bench, name: str) -> dict[str, Any]:
    spec = workload_specs()[name]
    poll = (FAST_POLL_S, FAST_POLL_S) if name == "chain_50" else (POLL_START_S, SINGLE_POLL_CAP_S)
    hops_before = engine_hops.before(bench) if name == "chain_50" else None
    res = bench.run_one(spec["wf"], workload_input(name), name, poll)
    res["count"] = spec["count"]
    res["unit"] = spec["unit"]
    res["rate"] = rate(spec["count"], res["wall_s"])
    if name == "chain_50":
        out = res["output"]
        value = out.get("v") if isinstance(out, dict) else None
        res["output_value"] = value
        res["output_ok"] = value == CHAIN_LEN
        res["check"] = f"output v={value!r} ({'OK' if res['output_ok'] else 'WRONG'}, want {CHAIN_LEN})"
        if res["state"] == "SUCCESS":
            add_hops(bench, res)
            engine_hops.add(bench, res, hops_before)
    if name.startswith(COUNTED_OUTPUT):
        out = res["output"]
        value = out.get("n") if isinstance(out, dict) else None
        res["output_ok"] = value == spec["count"]
        res["check"] = f"output n={value!r} ({'OK' if res['output_ok'] else 'WRONG'}, want {spec['count']})"
        if res["state"] == "SUCCESS" and not res["output_ok"]:
            res["state"] = "WRONG"
    if name in EXPECTED_TASKS and res["state"] == "SUCCESS":
        try:
            states = bench.task_states(res["execution_id"])
            res["task_states"] = dict(states)
            want = EXPECTED_TASKS[name]
            ok = states.get("SUCCESS", 0) == want and sum(states.values()) == want
            res["tasks_ok"] = ok
            note = f"tasks {states.get('SUCCESS', 0)}/{want} SUCCESS"
            res["check"] = f"{res['check']}; {note}" if res.get("check") else note
        except ApiError as e:
            res["check"] = (res.get("check") or "") + f" tasks check failed: {e}"
    return res


def add_hops(bench: Bench, res: dict[str, Any]) -> None:
    """Per-hop latency from the task executions' timestamps, when they have sub-second precision."""
    try:
        page = bench.c.get_json(f"/v2/executions/{res['execution_id']}/tasks", params={"limit": 1000})
    except ApiError as e:
        res["hop_ms"] = {"error": str(e)}
        return
    hops = hop_latencies(page.get("tasks", []) if isinstance(page, dict) else [])
    res["hop_ms"] = spread_ms(hops) if hops is not None else None
    if hops is None:
        res["check"] += "; hop n/a (whole-second timestamps)"
    else:
        res["check"] += f"; hop p50 {fmt(res['hop_ms']['p50'])} ms p95 {fmt(res['hop_ms']['p95'])} ms"
