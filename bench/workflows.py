"""The workflow documents of the benchmark, as data, and a tiny YAML emitter (no dependency).

Each builder returns the body of one workflow; ``wf_doc`` names it and ``to_yaml``
writes the text that is uploaded with ``POST /v2/workflows``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

CHAIN_LEN = 50
CONCURRENT_CHAIN_LEN = 5
#: Tasks of the warm-up chain: the expression, publish and hop paths of the workloads, in little time.
WARM_UP_CHAIN_LEN = 5


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED:
        return s
    return json.dumps(s)  # a JSON string is a valid double-quoted YAML scalar


def _yaml_lines(obj: Any, indent: int) -> list[str]:
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{_scalar(k)}:")
                lines.extend(_yaml_lines(v, indent + 1))
            else:
                lines.append(f"{pad}{_scalar(k)}: {_flow(v)}")
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, dict | list) and v:
                sub = _yaml_lines(v, indent + 1)
                sub[0] = f"{pad}- {sub[0].lstrip()}"
                lines.extend(sub)
            else:
                lines.append(f"{pad}- {_flow(v)}")
    else:
        lines.append(pad + _scalar(obj))
    return lines


def _flow(v: Any) -> str:
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return _scalar(v)


def to_yaml(obj: dict) -> str:
    return "\n".join(_yaml_lines(obj, 0)) + "\n"


def wf_doc(name: str, body: dict) -> dict:
    return {"version": "2.0", name: body}


def fanout_wf(n: int) -> dict:
    names = [f"t{i}" for i in range(1, n + 1)]
    tasks: dict[str, Any] = {"start": {"action": "std.noop", "on-success": names}}
    for t in names:
        tasks[t] = {"action": "std.noop", "on-success": ["join_all"]}
    tasks["join_all"] = {"join": "all", "action": "std.noop"}
    return {"description": f"bench: fan-out of {n} noop tasks joined by one", "tasks": tasks}


def chain_wf(n: int) -> dict:
    tasks: dict[str, Any] = {}
    for i in range(1, n + 1):
        t: dict[str, Any] = {
            "action": "std.echo",
            "input": {"output": "<% $.v + 1 %>"},
            "publish": {"v": "<% task().result %>"},
        }
        if i < n:
            t["on-success"] = [f"s{i + 1}"]
        tasks[f"s{i}"] = t
    return {
        "description": f"bench: chain of {n} echo tasks passing v along",
        "input": [{"v": 0}],
        "output": {"v": "<% $.v %>"},
        "tasks": tasks,
    }


def with_items_wf(concurrency: int | None) -> dict:
    task: dict[str, Any] = {"action": "std.noop", "with-items": "i in <% range($.n) %>"}
    if concurrency:
        task["concurrency"] = concurrency
    return {
        "description": "bench: one noop task over n items",
        "input": ["n"],
        "tasks": {"items": task},
    }


def noop_chain_wf(n: int) -> dict:
    tasks: dict[str, Any] = {}
    for i in range(1, n + 1):
        t: dict[str, Any] = {"action": "std.noop"}
        if i < n:
            t["on-success"] = [f"c{i + 1}"]
        tasks[f"c{i}"] = t
    return {"description": f"bench: chain of {n} noop tasks", "tasks": tasks}


def one_task_wf() -> dict:
    return {"description": "bench: a single noop task", "tasks": {"only": {"action": "std.noop"}}}


def with_items_input_wf() -> dict:
    """The shape a new user writes: items handed in as input, one echo per item, results published."""
    return {
        "description": "bench: one echo task over the input list nums",
        "input": ["nums"],
        "output": {"n": "<% $.r.len() %>"},
        "tasks": {
            "items": {
                "with-items": "x in <% $.nums %>",
                "action": "std.echo",
                "input": {"output": "<% $.x * 3 %>"},
                "publish": {"r": "<% task().result %>"},
            }
        },
    }


def with_items_published_wf() -> dict:
    """The list comes from an earlier task's publish instead of the input."""
    return {
        "description": "bench: a task publishes n numbers, the next one echoes each",
        "input": ["n"],
        "output": {"n": "<% $.r.len() %>"},
        "tasks": {
            "make": {
                "action": "std.noop",
                "publish": {"nums": "<% range($.n).toList() %>"},
                "on-success": ["items"],
            },
            "items": {
                "with-items": "x in <% $.nums %>",
                "action": "std.echo",
                "input": {"output": "<% $.x * 3 %>"},
                "publish": {"r": "<% task().result %>"},
            },
        },
    }


def with_items_dicts_wf() -> dict:
    """Items that are small dicts, read field by field."""
    return {
        "description": "bench: one echo task over a list of dicts",
        "input": ["records"],
        "output": {"n": "<% $.r.len() %>"},
        "tasks": {
            "items": {
                "with-items": "x in <% $.records %>",
                "action": "std.echo",
                "input": {"output": "<% $.x.name + ':' + str($.x.size * 2) %>"},
                "publish": {"r": "<% task().result %>"},
            }
        },
    }


def input_numbers(n: int) -> dict:
    return {"nums": list(range(n))}


def input_records(n: int) -> dict:
    return {"records": [{"id": i, "name": f"item-{i}", "size": (i * 37) % 1000} for i in range(n)]}


def worker_queue_wf() -> dict:
    """n ``std.external`` items in the queue the input names (not in Mistral 23), each answered doubled."""
    return {
        "description": "bench: one external task over n items, for the workers of one queue",
        "input": ["n", "queue"],
        "output": {"sum": "<% $.doubled.sum() %>", "count": "<% $.doubled.len() %>"},
        "tasks": {
            "items": {
                "with-items": "i in <% range($.n) %>",
                "action": "std.external",
                "input": {"i": "<% $.i %>"},
                "queue": "<% $.queue %>",
                "publish": {"doubled": "<% task().result.select($.double) %>"},
            }
        },
    }


WF_BUILDERS: dict[str, Callable[[], dict]] = {
    "fanout_100": lambda: fanout_wf(100),
    "fanout_1000": lambda: fanout_wf(1000),
    "chain_50": lambda: chain_wf(CHAIN_LEN),
    "with_items": lambda: with_items_wf(None),
    "with_items_c50": lambda: with_items_wf(50),
    "noop_chain_5": lambda: noop_chain_wf(CONCURRENT_CHAIN_LEN),
    "one_task": one_task_wf,
    "warmup": lambda: {**chain_wf(WARM_UP_CHAIN_LEN), "description": "bench: warm-up, tasks as chain_50's"},
    "with_items_input": with_items_input_wf,
    "with_items_published": with_items_published_wf,
    "with_items_dicts": with_items_dicts_wf,
    "worker_queue": worker_queue_wf,
}
