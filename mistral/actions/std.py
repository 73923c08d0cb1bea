"""The small standard actions: no-op, echo, fail, sleep and test_dict.

Action attributes stay plain JSON values because mistral-lib ships an
action to a remote executor as ``vars(action)``.
"""

from __future__ import annotations

import time
from typing import Any

from mistral_lib import actions
from mistral_lib.actions.context import ActionContext
from mistral_lib.exceptions import ActionException


class NoOpAction(actions.Action):
    """Do nothing and return None."""

    def run(self, context: ActionContext) -> None:
        return None


class AsyncNoOpAction(NoOpAction):
    """Do nothing; the result is delivered later through the API."""

    def is_sync(self) -> bool:
        return False


class ExternalAction(actions.Action):
    """Work for an external worker: the engine queues it (``queue:`` of the task, else ``default``).

    Its input, whatever it is, goes to the worker that claims it; its result is what that
    worker reports. No executor ever runs it (``mistral.engine.work_queue``).
    """

    DEFAULT_QUEUE = "default"

    def __init__(self, **input: Any) -> None:
        self.input = input

    def run(self, context: Any) -> Any:
        raise RuntimeError("std.external is run by an external worker of a queue, never by an executor")

    def is_sync(self) -> bool:
        return False


class EchoAction(actions.Action):
    """Return the given output after an optional delay in seconds."""

    def __init__(self, output: Any, delay: float = 0) -> None:
        self.output = output
        self.delay = max(float(delay), 0.0)

    def run(self, context: ActionContext) -> Any:
        if self.delay:
            time.sleep(self.delay)
        return self.output


class FailAction(actions.Action):
    """Fail, with error_data as the error result when it is given."""

    def __init__(self, error_data: Any = None) -> None:
        self.error_data = error_data

    def run(self, context: ActionContext) -> actions.Result:
        # NOTE: an error result lets on-error handlers read error_data; with
        # nothing to report an exception is the plain way to fail.
        if self.error_data:
            return actions.Result(error=self.error_data)
        raise ActionException("std.fail failed on purpose")


class SleepAction(actions.Action):
    """Sleep for the given number of seconds and return None."""

    def __init__(self, seconds: float = 1) -> None:
        self.seconds = max(float(seconds), 0.0)

    def run(self, context: ActionContext) -> None:
        time.sleep(self.seconds)
        return None


class TestDictAction(actions.Action):
    """Return a dict of size entries, each key_prefix plus its index mapped to val."""

    # NOTE: keeps pytest from collecting this class when a test imports it.
    __test__ = False

    def __init__(self, size: int = 0, key_prefix: str = "", val: Any = "") -> None:
        self.size = int(size)
        if self.size < 0:
            raise ValueError(f"size must not be negative: {size}")
        self.key_prefix = key_prefix
        self.val = val

    def run(self, context: ActionContext) -> dict[str, Any]:
        return {f"{self.key_prefix}{i}": self.val for i in range(self.size)}
