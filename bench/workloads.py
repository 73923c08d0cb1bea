"""The workloads: their names in run order, what each single-execution one runs, and its input.

Pure data (no I/O): ``bench.session`` picks the measurement for a name, ``bench.single`` reads the specs.
"""

from __future__ import annotations

from typing import Any

from bench.workflows import CHAIN_LEN, input_numbers, input_records

WORKLOADS = [
    "fanout_100",
    "fanout_1000",
    "chain_50",
    "with_items_500",
    "with_items_1000",
    "with_items_10000",
    "with_items_10000_c50",
    "with_items_input_1000",
    "with_items_input_10000",
    "with_items_input_100000",
    "with_items_published_10000",
    "with_items_dicts_10000",
    "concurrent_50",
    "api_latency",
    "polling_load",
    "fanout_1000_after_history",
    "worker_queue_10000",
]

# Workloads a deployment does not run, with the reason printed in its place.
DEPLOY_SKIPS: dict[str, dict[str, str]] = {
    "reference-distributed": {
        "with_items_input_100000": "skipped on the reference: 100 000 items take it far beyond any timeout",
        "fanout_1000_after_history": "skipped on the reference: 10 000 history executions take hours there",
        "worker_queue_10000": "skipped on the reference: Mistral 23 has no work item queues",
    },
}


# key -> (builder, number of tasks or items it runs, unit, input)
def workload_specs() -> dict[str, dict[str, Any]]:
    return {
        "fanout_100": {"wf": "fanout_100", "count": 102, "unit": "tasks", "input": {}, "tasks": 102},
        "fanout_1000": {"wf": "fanout_1000", "count": 1002, "unit": "tasks", "input": {}, "tasks": 1002},
        "chain_50": {"wf": "chain_50", "count": CHAIN_LEN, "unit": "tasks", "input": {"v": 0}},
        "with_items_500": {"wf": "with_items", "count": 500, "unit": "items", "input": {"n": 500}},
        "with_items_1000": {"wf": "with_items", "count": 1000, "unit": "items", "input": {"n": 1000}},
        "with_items_10000": {"wf": "with_items", "count": 10000, "unit": "items", "input": {"n": 10000}},
        "with_items_10000_c50": {
            "wf": "with_items_c50",
            "count": 10000,
            "unit": "items",
            "input": {"n": 10000},
        },
        **{
            f"with_items_input_{n}": {"wf": "with_items_input", "count": n, "unit": "items", "input": None}
            for n in (1000, 10000, 100000)
        },
        "with_items_published_10000": {
            "wf": "with_items_published",
            "count": 10000,
            "unit": "items",
            "input": {"n": 10000},
        },
        "with_items_dicts_10000": {"wf": "with_items_dicts", "count": 10000, "unit": "items", "input": None},
    }


def workload_input(name: str) -> dict:
    """The execution input of a single-execution workload (big lists are built only when run)."""
    spec = workload_specs()[name]
    if spec["input"] is not None:
        return spec["input"]
    if name == "with_items_dicts_10000":
        return input_records(spec["count"])
    return input_numbers(spec["count"])


# Workloads whose output must be {"n": count}.
COUNTED_OUTPUT = ("with_items_input_", "with_items_published_", "with_items_dicts_")


# Which workflow documents each workload needs.
WORKLOAD_WFS: dict[str, list[str]] = {
    "fanout_100": ["fanout_100"],
    "fanout_1000": ["fanout_1000"],
    "chain_50": ["chain_50"],
    "with_items_500": ["with_items"],
    "with_items_1000": ["with_items"],
    "with_items_10000": ["with_items"],
    "with_items_10000_c50": ["with_items_c50"],
    "with_items_input_1000": ["with_items_input"],
    "with_items_input_10000": ["with_items_input"],
    "with_items_input_100000": ["with_items_input"],
    "with_items_published_10000": ["with_items_published"],
    "with_items_dicts_10000": ["with_items_dicts"],
    "concurrent_50": ["noop_chain_5"],
    "api_latency": ["one_task"],
    "polling_load": ["fanout_1000", "chain_50"],
    "fanout_1000_after_history": ["fanout_1000", "one_task"],
    "worker_queue_10000": ["worker_queue"],
}

# Expected number of SUCCESS task executions, checked after timing.
EXPECTED_TASKS = {"fanout_100": 102, "fanout_1000": 1002, "chain_50": CHAIN_LEN}
