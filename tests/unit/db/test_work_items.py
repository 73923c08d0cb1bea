"""The work item queries on SQLite and PostgreSQL: claims by queue, tags and project, leases, concurrency."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.db.api import Filter, ListQuery
from mistral.exceptions import NotFoundError
from mistral.utils import uuids

pytestmark = pytest.mark.usefixtures("db")

T0 = datetime.datetime(2026, 11, 30, 6, 0, 0)


def _queue(
    n: int,
    *,
    queue: str = "q",
    tags: tuple[str, ...] = (),
    project: str = context.DEFAULT_PROJECT_ID,
    **extra: Any,
) -> list[str]:
    """``n`` queued items, the oldest first; their action execution ids."""
    ids = [uuids.generate() for _ in range(n)]
    with db_api.transaction():
        for i, action_ex_id in enumerate(ids):
            row = {
                "project_id": project,
                "action_execution_id": action_ex_id,
                "queue": queue,
                "tags": list(tags),
                "tag_key": db_api.tag_key(tags),
                "input": {"i": i},
                "max_attempts": 1,
                "workflow_execution_id": "w",
                "created_at": T0 + datetime.timedelta(seconds=i),
            }
            db_api.insert_work_items([{**row, **extra}])
    return ids


def _claim(
    queue: str = "q",
    tags: tuple[str, ...] = (),
    *,
    project: str = context.DEFAULT_PROJECT_ID,
    limit: int = 10,
    lease: float = 30,
    now: datetime.datetime = T0,
    worker: str = "w1",
) -> list[Any]:
    return db_api.claim_work_items(
        project, queue, list(tags), limit=limit, lease=lease, worker=worker, now=now
    )


def test_a_claim_takes_the_oldest_items_of_its_projects_queue_having_every_asked_tag() -> None:
    both = _queue(2, tags=("gpu", "large"))
    _queue(1, tags=("gpu",))
    _queue(1, queue="other", tags=("gpu", "large"))
    _queue(1, project="someone-else", tags=("gpu", "large"))
    taken = _claim(tags=("large", "gpu"), limit=5, worker="me")
    assert [i.action_execution_id for i in taken] == both
    assert {(i.state, i.attempt, i.worker) for i in taken} == {("claimed", 1, "me")}
    assert len({i.lease_token for i in taken}) == 1
    assert taken[0].lease_expires_at == T0 + datetime.timedelta(seconds=30)
    assert [i.tags for i in _claim(tags=("gpu",))] == [["gpu"]]
    assert _claim(tags=("gpu",)) == []
    assert not db_api.has_claimable_work(context.DEFAULT_PROJECT_ID, "q", ["gpu"], T0)
    assert db_api.has_claimable_work("someone-else", "q", ["gpu"], T0)


def test_tags_are_matched_whole_not_as_patterns() -> None:
    _queue(1, tags=("a_b",))
    assert _claim(tags=("a%",)) == [] and _claim(tags=("a",)) == [] and _claim(tags=("a_",)) == []
    assert len(_claim(tags=("a_b",))) == 1


def test_an_expired_lease_makes_the_item_claimable_again_up_to_its_attempts() -> None:
    _queue(1, max_attempts=2)
    (first,) = _claim(lease=1)
    assert _claim(now=T0 + datetime.timedelta(seconds=0.5)) == []
    later = T0 + datetime.timedelta(seconds=2)
    (second,) = _claim(lease=1, now=later, worker="w2")
    assert second.id == first.id and second.attempt == 2 and second.lease_token != first.lease_token
    assert db_api.extend_work_item_lease(first.id, first.lease_token, 30, later) is None
    assert db_api.extend_work_item_lease(first.id, second.lease_token, 30, later) is not None
    # NOTE: its last attempt's lease ran out: nobody may take it; the check fails it.
    end = later + datetime.timedelta(seconds=60)
    assert _claim(now=end) == [] and db_api.requeue_expired_work_items(end) == 0
    (failed,) = db_api.fail_exhausted_work_items(end, limit=10)
    assert failed.id == first.id and failed.state == "failed" and failed.attempt == 2
    assert db_api.fail_exhausted_work_items(end, limit=10) == []


def test_requeue_release_pause_resume_and_close() -> None:
    ids = _queue(3, max_attempts=3)
    a, b = _claim(lease=1, limit=2)
    assert db_api.requeue_expired_work_items(T0 + datetime.timedelta(seconds=5)) == 2
    a, b = _claim(limit=2, now=T0 + datetime.timedelta(seconds=5))
    assert a.attempt == 2
    assert db_api.release_work_item(a.id, "not-the-token", T0) is False
    assert db_api.release_work_item(a.id, a.lease_token, T0) is True
    assert db_api.get_work_item(a.id).attempt == 1 and db_api.get_work_item(a.id).state == "queued"
    assert db_api.pause_work_items("w") == 2  # the queued ones; b is held and runs on
    assert _claim() == []
    assert db_api.resume_work_items("w") == 2
    assert db_api.close_work_items(ids, "cancelled") == 3
    assert _claim() == [] and db_api.close_work_items(ids, "done") == 0
    assert db_api.count_work_items_by_queue() == []


def test_depth_counts_open_items_by_queue_and_state() -> None:
    _queue(3)
    _queue(1, queue="r", project="x")
    _claim(limit=1)
    assert sorted(db_api.count_work_items_by_queue()) == [
        ("q", "claimed", 1),
        ("q", "queued", 2),
        ("r", "queued", 1),
    ]


def test_a_project_sees_only_its_items_and_an_admin_sees_all() -> None:
    _queue(1, project="p")
    _queue(1, project="x")
    (mine,) = [i for i in db_api.list_work_items(ListQuery(all_projects=True)) if i.project_id == "p"]
    with context.using(context.Context(project_id="x")):
        assert [i.project_id for i in db_api.list_work_items(ListQuery())] == ["x"]
        with pytest.raises(NotFoundError):
            db_api.get_work_item(mine.id)
    with context.using(context.Context(project_id="x", is_admin=True)):
        assert len(db_api.list_work_items(ListQuery())) == 2
    queued = ListQuery(filters={"state": Filter("eq", "queued")}, all_projects=True)
    assert len(db_api.list_work_items(queued)) == 2


def test_concurrent_claims_never_take_an_item_twice() -> None:
    _queue(120)
    taken: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        while True:
            got = _claim(limit=3)
            if not got:
                return
            with lock:
                taken.extend(i.id for i in got)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(taken) == 120 and len(set(taken)) == 120
