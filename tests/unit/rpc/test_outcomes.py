"""How an RPC call's answer travels: its result, or its handler's error as data rebuilt as the same class."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mistral import exceptions
from mistral.api import errors
from mistral.rpc.outcomes import CallOutcome


def _stopping() -> None:
    raise exceptions.ServiceStopping("The service is stopping: '<% slow %>' was cut short")


def _raises(error: BaseException) -> Any:
    def handler() -> None:
        raise error

    return handler


def _through_the_wire(outcome: CallOutcome) -> CallOutcome:
    return CallOutcome.from_wire(json.loads(json.dumps(outcome.to_wire())))


def test_work_cut_short_by_a_stop_is_a_503_the_client_may_send_again() -> None:
    outcome = CallOutcome.of_call(_stopping)
    with pytest.raises(exceptions.ServiceUnavailable) as error:
        _through_the_wire(outcome).value()
    assert "nothing was applied, try again" in str(error.value)
    assert errors.status_of(error.value) == 503


def test_a_503_keeps_its_message_a_500_does_not() -> None:
    unavailable = exceptions.ServiceUnavailable("The service is stopping; nothing was applied, try again")
    assert errors.status_of(unavailable) == 503
    assert errors.fault_body(unavailable, 503)["faultstring"] == str(unavailable)
    assert errors.status_of(exceptions.EngineError("KeyError: 'secret'")) == 500


def test_a_result_travels_as_it_always_has() -> None:
    outcome = CallOutcome.of_call(lambda **kw: {"id": kw["wf_ex_id"]}, wf_ex_id="e1")
    assert outcome.to_wire() == {"result": {"id": "e1"}}
    assert _through_the_wire(outcome).value() == {"id": "e1"}


def test_a_mistral_error_comes_back_as_the_same_class_with_its_message() -> None:
    outcome = CallOutcome.of_call(_raises(exceptions.NotFoundError("Workflow execution", "e1")))
    assert outcome.to_wire() == {
        "error": {"type": "NotFoundError", "message": "Workflow execution not found [e1]"}
    }
    with pytest.raises(exceptions.NotFoundError, match=r"Workflow execution not found \[e1\]"):
        _through_the_wire(outcome).value()


def test_a_bug_in_the_handler_is_an_engine_error_naming_the_python_class() -> None:
    outcome = CallOutcome.of_call(_raises(KeyError("boom")))
    with pytest.raises(exceptions.EngineError, match="KeyError: 'boom'"):
        _through_the_wire(outcome).value()


def test_an_error_class_this_side_does_not_know_is_an_engine_error_that_names_it() -> None:
    answer = {"error": {"type": "ErrorOfANewerRelease", "message": "it went wrong"}}
    with pytest.raises(exceptions.EngineError) as error:
        CallOutcome.from_wire(answer).value()
    assert str(error.value) == "ErrorOfANewerRelease: it went wrong"
    assert errors.status_of(error.value) == 500


@pytest.mark.parametrize(
    "answer",
    [None, [1, 2], "text", {"id": "e1", "existing": True}, {"error": "not a structured error"}],
)
def test_an_answer_not_shaped_as_an_outcome_is_the_result_itself(answer: Any) -> None:
    assert CallOutcome.from_wire(answer) == CallOutcome(result=answer)
    assert CallOutcome.from_wire(answer).value() == answer


def test_an_error_without_a_message_still_raises() -> None:
    with pytest.raises(exceptions.InputError):
        CallOutcome.from_wire({"error": {"type": "InputError"}}).value()
