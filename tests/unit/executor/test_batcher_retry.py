"""Results no engine confirmed are kept and sent again, even while new results keep coming."""

from __future__ import annotations

import threading
import time
from typing import Any

from mistral.executor.batcher import ResultBatcher


class FlakySink:
    def __init__(self, failures: int, delay: float = 0.0) -> None:
        self.failures = failures
        self.delay = delay
        self.delivered: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, batch: list[dict[str, Any]]) -> None:
        time.sleep(self.delay)  # an engine that takes a moment to commit
        with self.lock:
            if self.failures > 0:
                self.failures -= 1
                raise RuntimeError("no engine answered")
            self.delivered += [r["action_ex_id"] for r in batch]


def test_a_batch_no_engine_confirmed_is_sent_again_and_held_meanwhile() -> None:
    sink = FlakySink(failures=2)
    batcher = ResultBatcher(sink, interval=0, max_retry_delay=0.1)
    batcher.start()
    batcher.expect()
    batcher.add({"action_ex_id": "a", "data": 1})
    time.sleep(0.05)
    assert batcher.unconfirmed_ids == ["a"]  # kept: its heartbeats go on
    deadline = time.monotonic() + 2
    while "a" not in sink.delivered and time.monotonic() < deadline:
        time.sleep(0.01)
    batcher.stop()
    assert sink.delivered == ["a"] and batcher.unconfirmed_ids == []


def test_a_steady_stream_of_new_results_does_not_starve_a_retry() -> None:
    # NOTE: each delivery takes longer than the gap between new results, so some are always buffered.
    sink = FlakySink(failures=1, delay=0.02)
    batcher = ResultBatcher(sink, interval=0, max_retry_delay=0.1)
    batcher.start()
    batcher.add({"action_ex_id": "first", "data": 1})
    deadline = time.monotonic() + 2
    n = 0
    while "first" not in sink.delivered and time.monotonic() < deadline:
        batcher.add({"action_ex_id": f"n{n}", "data": n})
        n += 1
        time.sleep(0.002)
    delivered_while_streaming = "first" in sink.delivered
    batcher.stop()
    assert delivered_while_streaming, f"not sent again while {n} new results came"


def test_a_batch_on_its_way_is_still_held_while_no_engine_has_answered() -> None:
    """Its actions keep their heartbeats while the engine takes its time (or has died)."""
    answered = threading.Event()
    sending = threading.Event()

    def slow(batch: list[dict[str, Any]]) -> None:
        sending.set()
        answered.wait(2)

    batcher = ResultBatcher(slow, interval=0)
    batcher.start()
    # NOTE: a lone result is sent by the worker that adds it, so a worker thread adds it here.
    worker = threading.Thread(target=batcher.add, args=({"action_ex_id": "slow", "data": 1},))
    worker.start()
    assert sending.wait(2)
    assert batcher.unconfirmed_ids == ["slow"]
    answered.set()
    worker.join(2)
    batcher.stop()
    assert batcher.unconfirmed_ids == []


def test_a_lone_result_is_sent_by_the_thread_that_adds_it() -> None:
    senders: list[threading.Thread] = []
    batcher = ResultBatcher(lambda batch: senders.append(threading.current_thread()), interval=0)
    batcher.start()
    batcher.expect()
    batcher.add({"action_ex_id": "a", "data": 1})
    batcher.stop()
    assert senders == [threading.current_thread()]


def test_a_result_with_more_on_their_way_waits_for_the_flusher() -> None:
    batches: list[list[str]] = []
    sent = threading.Event()

    def sink(batch: list[dict[str, Any]]) -> None:
        batches.append([r["action_ex_id"] for r in batch])
        sent.set()

    batcher = ResultBatcher(sink, interval=5)
    batcher.start()
    batcher.expect()
    batcher.expect()
    batcher.add({"action_ex_id": "a", "data": 1})
    assert batches == []  # held for the one still expected
    batcher.add({"action_ex_id": "b", "data": 2})
    assert sent.wait(2)
    batcher.stop()
    assert batches == [["a", "b"]]
