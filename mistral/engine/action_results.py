"""What one result makes of its action: the one decision for a task's action and a run through the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from mistral.engine import actions, data_flow
from mistral.workflow import states


class Outcome(NamedTuple):
    """The action's new state, the value its task (or the API's caller) gets, and the columns to write."""

    state: str
    value: Any
    columns: dict[str, Any]


def outcome(result: Mapping[str, Any], transforms: list[Any]) -> Outcome:
    """The outcome of a RUNNING action's ``result`` (``cancel``, ``error`` or ``data``).

    The caller sees to it that the action is RUNNING: a result for any other is ignored
    (architecture rule 3).

    ``transforms`` are the ad-hoc ``output`` specs applied to the data (``actions.resolve``).
    A failing transform or an oversized value fails the action with a message: the engine
    goes on, and the blob is stored neither in the action nor in its task.
    """
    if result.get("cancel"):
        state, value = states.CANCELLED, None
    elif result.get("error") is not None:
        state, value = states.ERROR, result["error"]
    else:
        state, value = states.SUCCESS, result.get("data")
        if transforms:
            try:
                value = actions.transform_output(transforms, value)
            except Exception as error:  # noqa: BLE001 - a bad output expression fails the action, not the engine
                state, value = states.ERROR, f"Failed to evaluate the action output: {error}"
    problem = data_flow.oversized("action result", value)
    if problem is not None:
        state, value = states.ERROR, problem
    # NOTE: every outcome of a RUNNING action is in the table; checked like every other state write.
    states.check_transition(states.RUNNING, state, "action")
    columns: dict[str, Any] = {"state": state, "output": {"result": value}, "result_applied": True}
    if result.get("executor"):
        columns["executor_host"] = result["executor"]
    if state == states.ERROR:
        columns["state_info"] = value if isinstance(value, str) else data_flow.json_text(value)
    return Outcome(state, value, columns)
