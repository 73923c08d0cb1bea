"""The arithmetic of a with-items task: which items to launch, and when the task is done.

Pure decisions from the task's recorded progress and the event (the task starts, an item
ends); ``with_items`` applies them inside the unit of work.
"""

from __future__ import annotations

from typing import NamedTuple

from mistral.engine.task_records import WithItemsProgress


class ItemsStep(NamedTuple):
    """What one finished item decides.

    NOTE: a named tuple, not a dataclass: one is built per item, and a frozen dataclass's
    ``__init__`` costs several times a tuple's.
    """

    #: the task's progress to record
    progress: WithItemsProgress
    #: the indexes of the items to launch now (often none)
    launch: range
    #: every launched item has ended and none is left to launch: the task's work is done
    finished: bool


def first_launch(count: int, concurrency: int, window: int = 0) -> tuple[WithItemsProgress, list[int]]:
    """A task's first items: the first ``concurrency``, or without one every item, at most ``window``
    (0: no bound)."""
    bound = concurrency or window
    launched = min(bound, count) if bound else count
    return WithItemsProgress(count, 0, 0, launched, concurrency), list(range(launched))


def relaunch(previous: WithItemsProgress | None, count: int, indexes: list[int]) -> WithItemsProgress:
    """A re-run of the items ``indexes`` only: the others count as done, and none is left to launch."""
    was = previous or WithItemsProgress(count=count)
    return WithItemsProgress(was.count, was.count - len(indexes), 0, was.count, was.concurrency)


def next_step(was: WithItemsProgress, succeeded: bool, window: int = 0) -> ItemsStep:
    """One item ended: with concurrency and no failure yet, the next item takes its place.

    Without concurrency, the items beyond the first ``window`` are launched half a window at a
    time, once no more than half a window runs, failed items or not, since every item runs.
    """
    failed = was.failed + (not succeeded)
    if was.concurrency:
        more = was.next < was.count and not failed
        launch = range(was.next, was.next + more)
    else:
        # NOTE: the window may have changed since the first launch (a restart with other options);
        # 0 now launches every item left.
        half = max(window // 2, 1) if window else was.count
        refill = was.next < was.count and was.next - was.done - 1 <= half
        launch = range(was.next, min(was.next + half, was.count) if refill else was.next)
    # NOTE: built directly: dataclasses.replace reads the fields anew on each call, twice per item.
    progress = WithItemsProgress(was.count, was.done + 1, failed, launch.stop, was.concurrency)
    return ItemsStep(progress, launch, not launch and progress.done >= progress.next)


def take_back(was: WithItemsProgress) -> WithItemsProgress:
    """A failed item runs again (a task of its sub-workflow is re-run): it is neither done nor failed."""
    return WithItemsProgress(was.count, was.done - 1, max(was.failed - 1, 0), was.next, was.concurrency)
