"""A with-items task's evaluated items, kept per task execution and bounded by the items they hold.

NOTE: a count of entries alone does not bound memory: one entry may hold 100 000
items (a value of each with-items variable per item). The cache therefore also counts items, and
forgets the oldest entries once the total passes ``max_items``. The newest entry
stays whatever its size: a task with ``concurrency`` asks again for every item it
launches, and evaluating its collection each time would cost O(n) per item.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
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
        self._entries: OrderedDict[str, Items] = OrderedDict()
        self._items = 0
        self._lock = threading.Lock()

    def get(self, task_ex_id: str) -> Items | None:
        with self._lock:
            return self._entries.get(task_ex_id)

    def put(self, task_ex_id: str, items: Items) -> None:
        with self._lock:
            self._remove(task_ex_id)
            self._entries[task_ex_id] = items
            self._items += len(items)
            while len(self._entries) > 1 and (
                len(self._entries) > self.max_entries or self._items > self.max_items
            ):
                self._remove(next(iter(self._entries)))

    def pop(self, task_ex_id: str) -> None:
        """Forget a task's items (it finished: nothing asks for them again)."""
        with self._lock:
            self._remove(task_ex_id)

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

    def _remove(self, task_ex_id: str) -> None:
        items = self._entries.pop(task_ex_id, None)
        if items is not None:
            self._items -= len(items)
