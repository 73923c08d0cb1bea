"""Memory hygiene: startup objects frozen out of the collector, freed memory given back."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from mistral.utils import memory


def test_startup_objects_leave_the_collectors_walk() -> None:
    before = gc.get_freeze_count()
    try:
        memory.freeze_startup_objects()
        assert gc.get_freeze_count() > before
        assert gc.get_freeze_count() >= len(gc.get_objects(generation=2)) // 2  # most of what lives is frozen
    finally:
        gc.unfreeze()


def test_an_engines_young_objects_are_collected_less_often_and_cycles_still_are() -> None:
    threshold = gc.get_threshold()
    try:
        memory.freeze_startup_objects(["api", "engine", "executor"])
        assert gc.get_threshold() == (memory.YOUNG_COLLECTION_AFTER, *threshold[1:])

        class Node:
            pass

        cycle = Node()
        cycle.self = cycle  # type: ignore[attr-defined]
        gone = weakref.ref(cycle)
        del cycle
        kept = [[] for _ in range(memory.YOUNG_COLLECTION_AFTER // 2)]
        assert gone() is not None  # 700 new objects collected it before
        kept += [[] for _ in range(memory.YOUNG_COLLECTION_AFTER)]
        assert gone() is None
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.parametrize("services", [(), ["api"], ["event-engine", "notifier"]])
def test_an_api_process_keeps_pythons_thresholds(services: list[str]) -> None:
    threshold = gc.get_threshold()
    try:
        memory.freeze_startup_objects(services)
        assert gc.get_threshold() == threshold
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_the_trimming_thread_trims_until_it_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    trimmed = threading.Semaphore(0)
    monkeypatch.setattr(memory, "trim", trimmed.release)
    monkeypatch.setattr(memory, "trim_due", lambda *_args: True)
    stop = memory.start_trimming(interval=0.01)
    assert trimmed.acquire(timeout=5) and trimmed.acquire(timeout=5)
    stop.set()
    threading.Event().wait(0.05)
    while trimmed.acquire(blocking=False):
        pass
    assert not trimmed.acquire(timeout=0.1)


@pytest.mark.parametrize(
    ("cpu_last_look", "cpu_since_trim", "since_trim", "due"),
    [
        (0.0, 0.0, 5.0, False),  # idle since the last trim: nothing new to give back
        (0.0, 2.0, 5.0, True),  # quiet after work: the moment to trim
        (0.9, 2.0, 5.0, False),  # still working: wait for the quiet
        (0.9, 25.0, 30.0, True),  # busy for the longest wait: trim anyway
        (0.1, 0.15, 5.0, False),  # a little background work only (scheduler, heartbeats)
    ],
)
def test_a_trim_waits_for_a_quiet_moment_after_work(
    cpu_last_look: float, cpu_since_trim: float, since_trim: float, due: bool
) -> None:
    assert memory.trim_due(cpu_last_look, cpu_since_trim, since_trim, interval=1.0) is due


@pytest.mark.skipif(memory._glibc() is None, reason="glibc only")
def test_glibc_trims_and_caps_arenas_without_error() -> None:
    memory.limit_malloc_arenas(2)
    memory.trim()
