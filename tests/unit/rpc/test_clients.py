"""RPC clients: a call nobody answers in time is counted as an RPC timeout."""

from __future__ import annotations

import oslo_messaging
import pytest
from prometheus_client import REGISTRY

from mistral.rpc import clients, transport


def test_a_call_without_an_answer_in_time_counts_as_a_timeout(rpc: None) -> None:
    labels = {"topic": transport.ENGINE_TOPIC, "method": "take_actions"}
    before = REGISTRY.get_sample_value("mistral_rpc_timeouts_total", labels) or 0.0
    with pytest.raises(oslo_messaging.MessagingTimeout):
        clients.engine().take_actions(["a1"], executor="x", timeout=0.2)  # no engine listens
    assert REGISTRY.get_sample_value("mistral_rpc_timeouts_total", labels) == before + 1
