"""hop_latency: from a message's arrival at the applier to the send of the actions it caused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from mistral.engine import hop_latency
from mistral.engine.applier import BatchApplier


def _observed(le: str | None = None) -> float:
    """How many hops the Prometheus histogram holds (of at most ``le`` seconds, when given)."""
    if le is None:
        return REGISTRY.get_sample_value("mistral_engine_hop_seconds_count") or 0.0
    return REGISTRY.get_sample_value("mistral_engine_hop_seconds_bucket", {"le": le}) or 0.0


@pytest.fixture(autouse=True)
def _empty_window() -> Iterator[None]:
    hop_latency.RESULT_TO_SEND.clear()
    yield
    hop_latency.RESULT_TO_SEND.clear()


def test_no_hop_yet_gives_no_figures() -> None:
    assert hop_latency.Window().summary() == {
        "count": 0, "window": 0, "p50_ms": None, "p95_ms": None, "max_ms": None,
    }  # fmt: skip


def test_percentiles_over_the_latest_window() -> None:
    window = hop_latency.Window(size=100)
    for ms in range(1, 201):  # the first 100 fall out of the window
        window.record(ms / 1000)
    summary = window.summary()
    assert summary["count"] == 200 and summary["window"] == 100
    assert (summary["p50_ms"], summary["p95_ms"], summary["max_ms"]) == (151.0, 196.0, 200.0)


def test_since_keeps_only_the_later_hops() -> None:
    window = hop_latency.Window()
    for ms in (100, 100, 1, 2, 3):
        window.record(ms / 1000)
    assert window.summary(since=2) == {"count": 5, "window": 3, "p50_ms": 2.0, "p95_ms": 3.0, "max_ms": 3.0}
    assert window.summary(since=5)["p50_ms"] is None


def test_a_send_outside_an_applied_message_is_not_counted() -> None:
    before = _observed()
    hop_latency.actions_sent()
    assert hop_latency.RESULT_TO_SEND.summary()["count"] == 0
    assert _observed() == before


def test_the_applier_times_from_the_oldest_message_of_a_batch_to_the_send() -> None:
    sent_after: list[Any] = []

    def apply(items: list[Any]) -> None:
        time.sleep(0.02)  # the transaction
        hop_latency.actions_sent()  # its outbox leaves
        sent_after.append(items)

    applier = BatchApplier("test results", apply)
    before, fast_before = _observed(), _observed(le="0.015")
    assert applier.apply(["result"], timeout=5).wait(0)
    summary = hop_latency.RESULT_TO_SEND.summary()
    assert summary["count"] == 1
    assert 20 <= summary["p50_ms"] < 1000
    # NOTE: the same hop in the histogram every engine serves on its [metrics] port, above 15 ms.
    assert _observed() == before + 1
    assert _observed(le="0.015") == fast_before


def test_applying_what_sends_nothing_counts_nothing() -> None:
    applier = BatchApplier("test takes", lambda items: None)
    assert applier.apply(["take"], timeout=5).wait(0)
    assert hop_latency.RESULT_TO_SEND.summary()["count"] == 0
