"""``CommandHandler``: the input on stdin, the result from stdout, a failure with its exit code and stderr."""

from __future__ import annotations

import sys
import threading

import pytest

from mistral.worker import Abandoned, CommandHandler, WorkFailed, WorkItem

ITEM = WorkItem("i", "a", "w", "t", "q", [], {"n": 21}, 2, None, "tok")


def _run(code: str, abandon: threading.Event | None = None) -> object:
    return CommandHandler([sys.executable, "-c", code])(ITEM, abandon or threading.Event())


def test_the_input_goes_in_as_json_and_the_item_is_in_the_environment() -> None:
    code = (
        "import json, os, sys; d = json.load(sys.stdin); "
        "print(json.dumps({'n': d['n'] * 2, 'attempt': os.environ['MISTRAL_WORK_ITEM_ATTEMPT']}))"
    )
    assert _run(code) == {"n": 42, "attempt": "2"}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import sys; sys.stderr.write('boom'); sys.exit(3)", {"exit_code": 3, "stderr": "boom"}),
        ("print('not json')", {"stdout": "not json\n"}),
    ],
)
def test_a_failing_command_fails_the_action_saying_why(code: str, expected: dict) -> None:
    with pytest.raises(WorkFailed) as failure:
        _run(code)
    assert expected.items() <= failure.value.error.items()


def test_a_command_is_stopped_when_the_worker_gives_the_item_up() -> None:
    abandon = threading.Event()
    abandon.set()
    with pytest.raises(Abandoned):
        _run("import time; time.sleep(30)", abandon)
