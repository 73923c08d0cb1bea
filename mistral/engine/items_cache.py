"""A with-items task's evaluated items, kept per run of a task execution and bounded by the items they hold.

The key is the caller's: ``with_items`` uses (task id, re-run number), so a re-run, which may
evaluate other items, never reads those of an earlier run.

NOTE: a count of entries alone does not bound memory: one entry may hold 100 000
items (a value of each with-items variable per item). The cache therefore also counts items, and
forgets the oldest entries once the total passes ``max_items``. The newest entry
stays whatever its size: a task with ``concurrency`` asks again for every item it
launches, and evaluating its collection each time would cost O(n) per item.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

Items = Sequence[dict[str, Any]]

#: Entries kept at most (tasks running their items at the same time).
MAX_ENTRIES = 256
#: Items kept at most over every entry (the newest entry excepted).
MAX_ITEMS = 100_000


class ItemsCache:
    def __init__(self, max_entries: int = MAX_ENTRIES, max_items: int = MAX_ITEMS) -> None:
        self.max_entries = max_entries
        self.max_items = max_items
        self._entries: OrderedDict[Hashable, Items] = OrderedDict()
        self._items = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Items | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: Hashable, items: Items) -> None:
        with self._lock:
            self._remove(key)
            self._entries[key] = items
            self._items += len(items)
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_entries or self._items > self.max_items
            ):
                self._remove(next(iter(self._entries)))

    def pop(self, key: Hashable) -> None:
        """Forget a task's items (it finished: nothing asks for them again)."""
        with self._lock:
            self._remove(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._items = 0

    @property
    def item_count(self) -> int:
        with self._lock:
            return self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _remove(self, key: Hashable) -> None:
        items = self._entries.pop(key, None)
        if items is not None:
            self._items -= len(items)
