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
    #: the index of the item to launch now, if one is
    launch: int | None
    #: every launched item has ended and none is left to launch: the task's work is done
    finished: bool


def first_launch(count: int, concurrency: int) -> tuple[WithItemsProgress, list[int]]:
    """A task's first items: all of them, or the first ``concurrency`` (0: no limit)."""
    launched = count if not concurrency else min(concurrency, count)
    return WithItemsProgress(count, 0, 0, launched, concurrency), list(range(launched))


def relaunch(previous: WithItemsProgress | None, count: int, indexes: list[int]) -> WithItemsProgress:
    """A re-run of the items ``indexes`` only: the others count as done, and none is left to launch."""
    was = previous or WithItemsProgress(count=count)
    return WithItemsProgress(was.count, was.count - len(indexes), 0, was.count, was.concurrency)


def next_step(was: WithItemsProgress, succeeded: bool) -> ItemsStep:
    """One item ended: with concurrency and no failure yet, the next item takes its place."""
    failed = was.failed + (not succeeded)
    more = bool(was.concurrency) and was.next < was.count and not failed
    # NOTE: built directly: dataclasses.replace reads the fields anew on each call, twice per item.
    progress = WithItemsProgress(was.count, was.done + 1, failed, was.next + more, was.concurrency)
    if more:
        return ItemsStep(progress, was.next, False)
    return ItemsStep(progress, None, progress.done >= progress.next)


def take_back(was: WithItemsProgress) -> WithItemsProgress:
    """A failed item runs again (a task of its sub-workflow is re-run): it is neither done nor failed."""
    return WithItemsProgress(was.count, was.done - 1, max(was.failed - 1, 0), was.next, was.concurrency)
