"""Claims as a project sees them: only its own items; a lease is changed by its own project only."""

from __future__ import annotations

import pytest

from mistral import context
from mistral.db import api as db_api
from mistral.exceptions import ConflictError, InputError, NotFoundError
from mistral.metrics import series
from mistral.services import work_items

pytestmark = pytest.mark.usefixtures("db")


def _queue(project: str, action_ex_id: str) -> None:
    db_api.insert_work_items([{"project_id": project, "action_execution_id": action_ex_id, "queue": "q",
                               "tags": [], "tag_key": ",", "input": {}, "max_attempts": 1}])  # fmt: skip


def test_a_project_claims_only_its_own_items_and_cannot_touch_anothers_lease() -> None:
    _queue("a", "x1")
    _queue("b", "x2")
    with context.using(context.Context(project_id="b")):
        (theirs,) = work_items.claim(work_items.Claim("q", max=5))
        assert theirs.action_execution_id == "x2"
    with context.using(context.Context(project_id="a")):
        (mine,) = work_items.claim(work_items.Claim("q", max=5))
        assert mine.action_execution_id == "x1"
        assert work_items.claim(work_items.Claim("q", max=5)) == []
        with pytest.raises(NotFoundError):
            work_items.extend_lease(theirs.id, theirs.lease_token, 10)
        assert work_items.extend_lease(mine.id, mine.lease_token, 10).id == mine.id
    with context.using(context.Context(project_id="c", is_admin=True)):
        # NOTE: an admin reads every project's items but holds no lease of theirs.
        assert work_items.get(mine.id).project_id == "a"
        with pytest.raises(ConflictError):
            work_items.release(mine.id, mine.lease_token)
        assert work_items.claim(work_items.Claim("q")) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"queue": ""}, "'queue'"),
        ({"queue": "q", "max": 101}, "'max' must be between 1 and 100"),
        ({"queue": "q", "lease": True}, "'lease' must be a number"),
        ({"queue": "q", "tags": [1]}, "Each tag"),
        ({"queue": "q", "worker": 5}, "'worker'"),
    ],
)
def test_a_malformed_claim_names_its_problem(body: dict, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        work_items.Claim.from_body(body)


def test_a_claim_takes_its_defaults() -> None:
    assert work_items.Claim.from_body({"queue": "q"}) == work_items.Claim("q", (), 1, 30.0, 0.0, None)


def test_each_claim_is_timed_by_whether_it_took_items() -> None:
    _queue("a", "x1")
    before = {outcome: _count(outcome) for outcome in ("taken", "empty")}
    with context.using(context.Context(project_id="a")):
        assert len(work_items.claim(work_items.Claim("q"))) == 1
        assert work_items.claim(work_items.Claim("q")) == []
    assert {outcome: _count(outcome) - before[outcome] for outcome in before} == {"taken": 1, "empty": 1}


def _count(outcome: str) -> float:
    """How many claims the histogram has seen with ``outcome``, from its exposition."""
    (metric,) = series.WORK_CLAIMS.collect()
    counts = (s for s in metric.samples if s.name.endswith("_count") and s.labels["outcome"] == outcome)
    return next(s.value for s in counts)
