"""The mix of workflows a trial runs, and what each execution of them must leave behind.

Every workflow takes ``key``, unique per execution; every action is a call to the
side-effect server whose key is ``<key>-<suffix>``. ``Mix`` says, for each workflow,
which keys it hits, how often, whether their task is ``safe-rerun: true``, and the
output a successful execution must have.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: std.http input shared by every call; BASE becomes the side-effect server's URL.
_CALL = "method: POST, timeout: 10"


def _http(path: str, *, safe: bool, publish: str, then: list[str] | None = None, extra: str = "") -> str:
    lines = [
        "      action: std.http",
        f"      input: {{url: 'BASE/{path}', {_CALL}}}",
        f"      safe-rerun: {'true' if safe else 'false'}",
        f"      publish: {{{publish}}}",
    ]
    if then:
        lines.append(f"      on-success: [{', '.join(then)}]")
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


CHAIN = (
    "chaos_chain:\n  input: [key]\n  output:\n    keys: <% [$.ka, $.kb, $.kc, $.kd] %>\n  tasks:\n"
    + "".join(
        f"    {name}:\n"
        + _http(
            f"hit/<% $.key %>-{name}",
            safe=name in "ab",
            publish=f"k{name}: <% task().result.content.key %>",
            then=[nxt] if nxt else None,
        )
        for name, nxt in (("a", "b"), ("b", "c"), ("c", "d"), ("d", None))
    )
)

ITEMS = """\
chaos_items:
  input: [key, items]
  output:
    keys: <% $.keys %>
  tasks:
    each:
      with-items: i in <% $.items %>
      concurrency: 3
""" + _http(
    "hit/<% $.key %>-i<% $.i %>", safe=True, publish="keys: <% task().result.select($.content.key) %>"
)

FAN_WIDTH = 5
FAN = (
    "chaos_fan:\n  input: [key]\n  output:\n"
    f"    keys: <% [{', '.join(f'$.k{i}' for i in range(FAN_WIDTH))}] %>\n"
    "    join: <% $.kj %>\n  tasks:\n"
    "    start:\n"
    + _http(
        "hit/<% $.key %>-start",
        safe=False,
        publish="ks: <% task().result.content.key %>",
        then=[f"b{i}" for i in range(FAN_WIDTH)],
    )
    + "".join(
        f"    b{i}:\n"
        + _http(
            f"hit/<% $.key %>-b{i}",
            safe=False,
            publish=f"k{i}: <% task().result.content.key %>",
            then=["join"],
        )
        for i in range(FAN_WIDTH)
    )
    + "    join:\n      join: all\n"
    + _http("hit/<% $.key %>-join", safe=True, publish="kj: <% task().result.content.key %>")
)

WAIT = (
    """\
chaos_wait:
  input: [key]
  output:
    keys: <% [$.kl, $.ka] %>
  tasks:
    late:
      wait-before: 2
"""
    + _http("hit/<% $.key %>-late", safe=False, publish="kl: <% task().result.content.key %>", then=["after"])
    + (
        "    after:\n"
        + _http("hit/<% $.key %>-after", safe=True, publish="ka: <% task().result.content.key %>")
    )
)

PARENT = (
    """\
chaos_child:
  input: [key]
  output:
    leaf: <% $.kl %>
  tasks:
    leaf:
"""
    + _http("hit/<% $.key %>-leaf", safe=False, publish="kl: <% task().result.content.key %>")
    + """
chaos_parent:
  input: [key]
  output:
    leaf: <% $.leaf %>
    after: <% $.ka %>
  tasks:
    child:
      workflow: chaos_child
      input: {key: '<% $.key %>-sub'}
      publish: {leaf: <% task().result.leaf %>}
      on-success: [after]
    after:
"""
    + _http("hit/<% $.key %>-after", safe=False, publish="ka: <% task().result.content.key %>")
)

RETRY = """\
chaos_retry:
  input: [key]
  output:
    n: <% $.n %>
  tasks:
    flaky:
      retry: {count: 3, delay: 1}
""" + _http("flaky/<% $.key %>-flaky", safe=False, publish="n: <% task().result.content.n %>")

ASYNC = """\
chaos_async:
  input: [key]
  output:
    hook: <% $.kh %>
    after: <% $.ka %>
  tasks:
    hook:
      action: std.mistral_http
      input: {url: 'BASE/async/<% $.key %>-hook', method: POST, timeout: 10}
      safe-rerun: false
      publish: {kh: <% task().result.key %>}
      on-success: [after]
    after:
""" + _http("hit/<% $.key %>-after", safe=True, publish="ka: <% task().result.content.key %>")


def definitions(base: str) -> str:
    """One YAML document with every workflow of the mix, calling the side-effect server at ``base``."""
    body = "\n".join([CHAIN, ITEMS, FAN, WAIT, PARENT, RETRY, ASYNC])
    return "version: '2.0'\n\n" + body.replace("BASE", base)


@dataclass(frozen=True)
class Key:
    """One side effect of an execution: ``<key>-<suffix>``, hit ``hits`` times when all goes well."""

    suffix: str
    task: str
    safe_rerun: bool
    hits: int = 1
    #: retry: a lost attempt is retried by the task's retry policy, which is not a rerun.
    retried: bool = False


@dataclass(frozen=True)
class Kind:
    workflow: str
    keys: tuple[Key, ...]
    #: The output of a successful execution, from its key (and the ledger, for the retry count).
    output: Callable[[str, Callable[[str], int]], Any]
    input: Callable[[str], dict[str, Any]] = lambda key: {"key": key}


ITEM_COUNT = 10

MIX: tuple[Kind, ...] = (
    Kind(
        "chaos_chain",
        tuple(Key(n, n, safe_rerun=n in "ab") for n in "abcd"),
        lambda k, _: {"keys": [f"{k}-{n}" for n in "abcd"]},
    ),
    Kind(
        "chaos_items",
        tuple(Key(f"i{i}", "each", safe_rerun=True) for i in range(ITEM_COUNT)),
        lambda k, _: {"keys": [f"{k}-i{i}" for i in range(ITEM_COUNT)]},
        lambda k: {"key": k, "items": list(range(ITEM_COUNT))},
    ),
    Kind(
        "chaos_fan",
        (
            Key("start", "start", safe_rerun=False),
            *(Key(f"b{i}", f"b{i}", safe_rerun=False) for i in range(FAN_WIDTH)),
            Key("join", "join", safe_rerun=True),
        ),
        lambda k, _: {"keys": [f"{k}-b{i}" for i in range(FAN_WIDTH)], "join": f"{k}-join"},
    ),
    Kind(
        "chaos_wait",
        (Key("late", "late", safe_rerun=False), Key("after", "after", safe_rerun=True)),
        lambda k, _: {"keys": [f"{k}-late", f"{k}-after"]},
    ),
    Kind(
        "chaos_parent",
        (Key("sub-leaf", "child/leaf", safe_rerun=False), Key("after", "after", safe_rerun=False)),
        lambda k, _: {"leaf": f"{k}-sub-leaf", "after": f"{k}-after"},
    ),
    Kind(
        "chaos_retry",
        (Key("flaky", "flaky", safe_rerun=False, hits=3, retried=True),),
        lambda k, count: {"n": count(f"{k}-flaky")},
    ),
    Kind(
        "chaos_async",
        (Key("hook", "hook", safe_rerun=False), Key("after", "after", safe_rerun=True)),
        lambda k, _: {"hook": f"{k}-hook", "after": f"{k}-after"},
    ),
)
