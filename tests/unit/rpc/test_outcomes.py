"""How an RPC handler's failure reaches the caller: as data, rebuilt as the same error class."""

from __future__ import annotations

import pytest

from mistral import exceptions
from mistral.api import errors
from mistral.rpc import clients


def _stopping() -> None:
    raise exceptions.ServiceStopping("The service is stopping: '<% slow %>' was cut short")


def test_work_cut_short_by_a_stop_is_a_503_the_client_may_send_again() -> None:
    outcome = clients.wrap_outcome(_stopping)
    with pytest.raises(exceptions.ServiceUnavailable) as error:
        clients.unwrap(outcome)
    assert "nothing was applied, try again" in str(error.value)
    assert errors.status_of(error.value) == 503


def test_a_503_keeps_its_message_a_500_does_not() -> None:
    unavailable = exceptions.ServiceUnavailable("The service is stopping; nothing was applied, try again")
    assert errors.status_of(unavailable) == 503
    assert errors.fault_body(unavailable, 503)["faultstring"] == str(unavailable)
    assert errors.status_of(exceptions.EngineError("KeyError: 'secret'")) == 500
