"""BatchApplier: queued messages are applied together, and a failing batch loses nothing it need not."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from typing import Any

import pytest

from mistral.config import CONF
from mistral.engine.applier import BatchApplier


class Recorder:
    """Applies batches by recording them; a batch holding a poisoned item fails as a whole."""

    def __init__(self, poisoned: tuple[Any, ...] = (), gate: threading.Event | None = None) -> None:
        self.batches: list[list[Any]] = []
        self.poisoned = set(poisoned)
        self.gate = gate
        self.entered = threading.Event()

    def __call__(self, batch: list[Any]) -> None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(5)
        if self.poisoned & set(batch):
            raise RuntimeError(f"cannot apply {sorted(self.poisoned & set(batch))}")
        self.batches.append(list(batch))

    @property
    def applied(self) -> list[Any]:
        return [item for batch in self.batches for item in batch]


def run(recorder: Recorder, first: list[Any], *more: list[Any], gate: threading.Event) -> None:
    """Hold the applier at the gate with the first message while the others queue up behind it."""
    applier = BatchApplier("test items", recorder)
    applier.start()
    applier.submit(first)
    assert recorder.entered.wait(5)
    for items in more:
        applier.submit(items)
    gate.set()
    applier.stop()


def test_messages_queued_meanwhile_are_applied_in_one_batch() -> None:
    gate = threading.Event()
    recorder = Recorder(gate=gate)
    run(recorder, [1], [2, 3], [4], [5], gate=gate)
    assert recorder.applied == [1, 2, 3, 4, 5]
    assert recorder.batches[0] == [1]
    assert len(recorder.batches) == 2


def test_a_batch_stays_within_the_configured_size() -> None:
    CONF.set_override("results_batch_size", 3, group="engine")
    try:
        gate = threading.Event()
        recorder = Recorder(gate=gate)
        run(recorder, [0], [1, 2], [3, 4], [5], [6], gate=gate)
    finally:
        CONF.clear_override("results_batch_size", group="engine")
    assert recorder.applied == [0, 1, 2, 3, 4, 5, 6]
    assert all(len(batch) <= 4 for batch in recorder.batches)  # a message may carry it past
    assert len(recorder.batches) >= 3


def test_one_bad_message_does_not_lose_the_rest_of_its_batch(caplog: pytest.LogCaptureFixture) -> None:
    gate = threading.Event()
    recorder = Recorder(poisoned=("bad",), gate=gate)
    run(recorder, ["first"], ["a", "bad", "b"], ["c"], gate=gate)
    assert recorder.applied == ["first", "a", "b", "c"]
    assert "cannot apply ['bad']" in caplog.text


def test_stop_applies_what_is_still_queued() -> None:
    recorder = Recorder()
    applier = BatchApplier("test items", recorder)
    for n in range(5):
        applier.submit([n])
    applier.start()
    applier.stop()
    assert recorder.applied == [0, 1, 2, 3, 4]


def test_a_ticket_tells_which_of_its_items_were_accepted() -> None:
    def take_odd(batch: list[int]) -> set[int]:
        return {n for n in batch if n % 2}

    applier = BatchApplier("test items", take_odd)
    applier.start()
    first, second = applier.submit([1, 2, 3]), applier.submit([4, 5])
    assert first.wait(5) and second.wait(5)
    applier.stop()
    assert (first.accepted, second.accepted) == ([1, 3], [5])


class Overlaps:
    """Applies batches of ``(key, n)`` items slowly, noting any key applied in two batches at once."""

    def __init__(self) -> None:
        self.active: dict[str, int] = {}
        self.overlapped: set[str] = set()
        self.most_at_once = 0
        self.batches: list[list[tuple[str, int]]] = []
        self._lock = threading.Lock()

    def __call__(self, batch: list[tuple[str, int]]) -> None:
        keys = {key for key, _ in batch}
        with self._lock:
            for key in keys:
                self.active[key] = self.active.get(key, 0) + 1
                if self.active[key] > 1:
                    self.overlapped.add(key)
            self.most_at_once = max(self.most_at_once, sum(1 for n in self.active.values() if n))
            self.batches.append(list(batch))
        threading.Event().wait(0.01)
        with self._lock:
            for key in keys:
                self.active[key] -= 1


def test_items_with_one_key_are_never_applied_in_two_transactions_at_once() -> None:
    recorder = Overlaps()
    applier = BatchApplier("test items", recorder, threads=4, key=lambda item: item[0])
    applier.start()
    callers = [
        threading.Thread(target=applier.apply, args=([(key, n)], 5))
        for n in range(20)
        for key in ("wf-a", "wf-b", "wf-c")
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(10)
    applier.stop()
    assert sorted(item for batch in recorder.batches for item in batch) == sorted(
        (key, n) for n in range(20) for key in ("wf-a", "wf-b", "wf-c")
    )
    assert recorder.overlapped == set()


def test_without_a_key_the_threads_share_one_queue_and_apply_at_once() -> None:
    recorder = Overlaps()
    applier = BatchApplier("test items", recorder, threads=4)
    applier.start()
    callers = [threading.Thread(target=applier.apply, args=([("wf-a", n)], 5)) for n in range(20)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(10)
    applier.stop()
    assert len([item for batch in recorder.batches for item in batch]) == 20
    assert recorder.overlapped == {"wf-a"}  # what the key prevents


def test_a_message_spread_over_lanes_is_done_once_every_lane_applied_its_part() -> None:
    recorder = Recorder()
    applier = BatchApplier("test items", recorder, threads=4, key=lambda item: item)
    applier.start()
    ticket = applier.apply(list(range(12)), 5)
    assert ticket.wait(5)
    assert sorted(ticket.accepted) == list(range(12))
    applier.stop()
    assert sorted(recorder.applied) == list(range(12))


def test_an_applied_batch_is_not_kept_while_the_thread_waits() -> None:
    # NOTE: an idle engine's applier thread held its last batch (tens of thousands of results of a
    # with-items, with their data) until the next message came.
    class Item:
        pass

    applier = BatchApplier("test items", lambda batch: None)
    applier.start()
    items = [Item(), Item()]
    refs = [weakref.ref(i) for i in items]
    assert applier.submit(items).wait(5)
    del items
    deadline = time.monotonic() + 5
    while any(ref() is not None for ref in refs) and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    alive = [ref for ref in refs if ref() is not None]
    applier.stop()
    assert alive == []
