"""The with-items cache: bounded by entries and by the items they hold, the newest entry always kept."""

from __future__ import annotations

import pytest

from mistral.engine import with_items
from mistral.engine.items_cache import ItemsCache


def _items(n: int) -> list[dict[str, int]]:
    return [{"x": i} for i in range(n)]


def test_the_oldest_entries_go_once_the_items_pass_the_bound() -> None:
    cache = ItemsCache(max_entries=10, max_items=100)
    cache.put("a", _items(40))
    cache.put("b", _items(40))
    assert cache.item_count == 80
    cache.put("c", _items(40))
    assert cache.get("a") is None
    assert [len(cache.get(k) or []) for k in ("b", "c")] == [40, 40]
    assert (len(cache), cache.item_count) == (2, 80)


def test_an_entry_larger_than_the_bound_is_kept_alone() -> None:
    # NOTE: a task with concurrency asks for its items at every launch; it must not evaluate them each time.
    cache = ItemsCache(max_entries=10, max_items=100)
    cache.put("small", _items(5))
    big = _items(500)
    cache.put("big", big)
    assert cache.get("big") is big
    assert cache.get("small") is None
    assert (len(cache), cache.item_count) == (1, 500)


def test_the_entry_count_is_bounded_too() -> None:
    cache = ItemsCache(max_entries=2, max_items=1000)
    for key in "abc":
        cache.put(key, _items(1))
    assert [cache.get(k) is not None for k in "abc"] == [False, True, True]


def test_pop_and_put_again_keep_the_count_right() -> None:
    cache = ItemsCache(max_entries=10, max_items=100)
    cache.put("a", _items(30))
    cache.put("a", _items(20))  # the same task again (a re-run): replaced, not counted twice
    assert cache.item_count == 20
    cache.pop("a")
    cache.pop("missing")
    assert (len(cache), cache.item_count) == (0, 0)


def test_with_items_builds_each_item_from_its_lists_when_asked() -> None:
    items = with_items._Items({"x": [1, 2, 3], "y": ["a", "b", "c"]}, 3)
    assert len(items) == 3
    assert items[1] == {"x": 2, "y": "b"}
    assert items[-1] == {"x": 3, "y": "c"}
    assert list(items) == [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}, {"x": 3, "y": "c"}]
    assert items[0:3:2] == [{"x": 1, "y": "a"}, {"x": 3, "y": "c"}]
    with pytest.raises(IndexError):
        items[3]
