"""The RPC surfaces of engines and executors, declared once.

Each entry names a remote method and how it travels: a call waits for an
answer (its errors come back as data, ``outcomes.CallOutcome``), a cast does
not. The client sends each method as its entry says; the servers build their
endpoints from the table; ``tests/unit/rpc/test_methods.py`` checks that the
client's methods, the engine's and the servers' handlers all match it, name for
name and parameter for parameter. The names and parameters are the wire format:
a renamed one breaks an api or executor of the previous release.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Kind(enum.Enum):
    #: the caller waits for the answer (or the error) of one server
    CALL = "call"
    #: the caller goes on at once; a failure is the server's to log
    CAST = "cast"


CALL, CAST = Kind.CALL, Kind.CAST


@dataclass(frozen=True)
class RpcMethod:
    name: str
    kind: Kind
    #: Arrives in floods: the server queues it for a group commit instead of applying it one by one,
    #: so its handler is the server's, and the engine method with that name (if any) takes a batch.
    queued: bool = False
    #: A cast that only hands its message to a thread of the server: on the in-process transport the
    #: sender's thread may deliver it (mistral/rpc/direct.py).
    quick: bool = False


def _table(*methods: RpcMethod) -> Mapping[str, RpcMethod]:
    return {m.name: m for m in methods}


#: What the API, the executors and the event engine ask of an engine.
ENGINE: Mapping[str, RpcMethod] = _table(
    RpcMethod("start_workflow", CALL),
    RpcMethod("start_action", CALL),
    RpcMethod("complete_action", CALL),
    RpcMethod("update_action", CALL),
    RpcMethod("pause_workflow", CALL),
    RpcMethod("resume_workflow", CALL),
    RpcMethod("stop_workflow", CALL),
    RpcMethod("rerun_task", CALL),
    RpcMethod("skip_task", CALL),
    RpcMethod("engine_stats", CALL),
    # the executor waits for these: it keeps its results, and runs nothing, until they commit
    RpcMethod("on_action_results", CALL, queued=True),
    RpcMethod("take_actions", CALL, queued=True),
    RpcMethod("release_actions", CALL),
    RpcMethod("report_running_actions", CAST, queued=True, quick=True),
    RpcMethod("on_subworkflows_finished", CAST),
    # results an engine gives itself (a test run's mocked actions): a cast, so that the engine
    # applying one result never waits for itself to apply the next
    RpcMethod("apply_results", CAST),
    RpcMethod("run_first_steps", CAST),
)

#: What an engine asks of the executors.
EXECUTOR: Mapping[str, RpcMethod] = _table(
    RpcMethod("run_actions", CAST, quick=True),
    RpcMethod("run_action_sync", CALL),
    RpcMethod("abandon_actions", CAST, quick=True),
)


def quick_casts(table: Mapping[str, RpcMethod]) -> tuple[str, ...]:
    return tuple(name for name, method in table.items() if method.quick)
