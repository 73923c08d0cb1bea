"""with-items: the pure decisions of items_progress, then with_items applying them on a database."""

from __future__ import annotations

from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.engine import items_progress, outbox, task_records, tasks, with_items
from mistral.engine.items_progress import ItemsStep
from mistral.engine.run import lock_run
from mistral.engine.task_records import WithItemsProgress
from mistral.engine.task_work import Completed, Failed
from mistral.workflow import states
from tests.conftest import Override
from tests.unit.engine.conftest import actions_sent, new_run, step, task_of, tasks_of

# -- decisions, no database ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "concurrency", "launched"),
    [(5, 0, [0, 1, 2, 3, 4]), (5, 2, [0, 1]), (2, 10, [0, 1]), (0, 0, []), (0, 3, [])],
)
def test_the_first_launch_is_every_item_or_as_many_as_the_concurrency(
    count: int, concurrency: int, launched: list[int]
) -> None:
    progress, indexes = items_progress.first_launch(count, concurrency)
    assert indexes == launched
    assert progress == WithItemsProgress(count, 0, 0, len(launched), concurrency)


def test_with_concurrency_an_item_that_succeeds_makes_room_for_the_next() -> None:
    step = items_progress.next_step(WithItemsProgress(5, 0, 0, 2, 2), succeeded=True)
    assert step == ItemsStep(WithItemsProgress(5, 1, 0, 3, 2), launch=range(2, 3), finished=False)


def test_a_failed_item_taken_back_runs_again_and_its_end_decides_anew() -> None:
    ended = WithItemsProgress(count=3, done=3, failed=1, next=3)
    again = items_progress.take_back(ended)
    assert again == WithItemsProgress(count=3, done=2, failed=0, next=3)
    finished = ItemsStep(WithItemsProgress(3, 3, 0, 3, 0), range(0), True)
    assert items_progress.next_step(again, succeeded=True) == finished


def test_without_concurrency_nothing_is_launched_and_the_last_item_finishes_the_task() -> None:
    was = WithItemsProgress(3, 0, 0, 3, 0)
    steps = []
    for _ in range(3):
        step = items_progress.next_step(was, succeeded=True)
        steps.append((list(step.launch), step.finished))
        was = step.progress
    assert steps == [([], False), ([], False), ([], True)]
    assert was == WithItemsProgress(3, 3, 0, 3, 0)


def test_a_failed_item_launches_nothing_more_and_the_task_ends_when_the_running_ones_do() -> None:
    first = items_progress.next_step(WithItemsProgress(10, 0, 0, 2, 2), succeeded=False)
    assert first == ItemsStep(WithItemsProgress(10, 1, 1, 2, 2), launch=range(0), finished=False)
    second = items_progress.next_step(first.progress, succeeded=True)
    assert second == ItemsStep(WithItemsProgress(10, 2, 1, 2, 2), launch=range(0), finished=True)


def test_the_last_launch_is_not_the_end_until_every_item_is_back() -> None:
    step = items_progress.next_step(WithItemsProgress(3, 0, 0, 2, 2), succeeded=True)
    assert step == ItemsStep(WithItemsProgress(3, 1, 0, 3, 2), launch=range(2, 3), finished=False)
    step = items_progress.next_step(step.progress, succeeded=True)
    assert (list(step.launch), step.finished) == ([], False)
    step = items_progress.next_step(step.progress, succeeded=True)
    assert (list(step.launch), step.finished) == ([], True)


@pytest.mark.parametrize("concurrency", [1, 2, 3, 7])
def test_a_whole_run_launches_each_item_once_in_order_and_finishes_once(concurrency: int) -> None:
    progress, running = items_progress.first_launch(7, concurrency)
    launched, finishes = list(running), 0
    while running:
        running.pop(0)
        step = items_progress.next_step(progress, succeeded=True)
        progress = step.progress
        running += step.launch
        launched += step.launch
        finishes += step.finished
    assert launched == list(range(7)) and finishes == 1 and progress.done == 7


@pytest.mark.parametrize(("window", "most_running"), [(4, 4), (5, 5), (1, 1), (0, 11), (20, 11)])
@pytest.mark.parametrize("fails", [False, True])
def test_without_concurrency_a_window_launches_every_item_once_never_more_than_it_at_once(
    window: int, most_running: int, fails: bool
) -> None:
    progress, running = items_progress.first_launch(11, 0, window)
    launched, finishes, most = list(running), 0, len(running)
    while running:
        running.pop(0)
        step = items_progress.next_step(progress, succeeded=not fails, window=window)
        progress = step.progress
        running += step.launch
        launched += step.launch
        most = max(most, len(running))
        finishes += step.finished
    assert launched == list(range(11)) and finishes == 1 and most == most_running
    assert progress == WithItemsProgress(11, 11, 11 if fails else 0, 11, 0)


def test_a_window_refills_by_half_once_half_of_it_has_ended() -> None:
    progress, first = items_progress.first_launch(10, 0, window=4)
    assert first == [0, 1, 2, 3]
    step = items_progress.next_step(progress, succeeded=True, window=4)
    assert list(step.launch) == []  # 3 run: more than half the window
    step = items_progress.next_step(step.progress, succeeded=True, window=4)
    assert list(step.launch) == [4, 5]  # 2 run: half the window
    assert step.progress == WithItemsProgress(10, 2, 0, 6, 0)


def test_items_left_by_a_window_that_is_now_0_are_all_launched_at_the_next_end() -> None:
    step = items_progress.next_step(WithItemsProgress(10, 0, 0, 4, 0), succeeded=True, window=0)
    assert list(step.launch) == [4, 5, 6, 7, 8, 9] and not step.finished


def test_a_rerun_of_some_items_counts_the_others_done_and_launches_no_more() -> None:
    progress = items_progress.relaunch(WithItemsProgress(5, 5, 2, 5, 2), 5, [1, 3])
    assert progress == WithItemsProgress(5, 3, 0, 5, 2)
    assert items_progress.relaunch(None, 4, [0]) == WithItemsProgress(4, 3, 0, 4, 0)
    step = items_progress.next_step(progress, succeeded=True)
    assert (list(step.launch), step.finished) == ([], False)
    assert items_progress.next_step(step.progress, succeeded=True).finished


# -- applied, on a database ---------------------------------------------------------------------------

WORKFLOWS = """
version: '2.0'
items:
  input: [xs, ys, concurrency]
  tasks:
    t:
      with-items:
        - x in <% $.xs %>
        - y in <% $.ys %>
      concurrency: <% $.concurrency %>
      action: std.echo output=<% $.x %>
      publish:
        all: <% task().result %>
picky:
  input: [names]
  tasks:
    t:
      with-items: name in <% $.names %>
      concurrency: 1
      action: <% $.name %>
"""


def _start(wf_input: dict[str, Any]) -> tuple[str, Any]:
    """Start the with-items task; its workflow's id and what ``with_items.start`` answered."""
    with step():
        run = new_run("items", {"concurrency": 0, **wf_input})
        task_ex = tasks.create(run, run.task_spec("t"), {}, states.RUNNING)
        return run.wf_ex.id, with_items.start(run, task_ex, run.task_spec("t"))


def _item_done(wf_ex_id: str, index: int, state: str, value: Any) -> Any:
    with step():
        run = lock_run(wf_ex_id)
        task_ex = task_of(run, "t")
        return with_items.on_item_done(run, task_ex, run.task_spec("t"), index, state, value)


@pytest.fixture
def items_workflow(define: Any) -> None:
    define(WORKFLOWS)


uses_items = pytest.mark.usefixtures("items_workflow")


@uses_items
def test_an_empty_list_completes_at_once_with_no_result(sent: list[outbox.Outbox]) -> None:
    _, outcome = _start({"xs": [], "ys": []})
    assert outcome == Completed(states.SUCCESS, [])
    assert actions_sent(sent) == []


@uses_items
@pytest.mark.parametrize(
    ("wf_input", "message"),
    [
        ({"xs": [1, 2], "ys": [1]}, "Task 't': with-items lists must have the same length, got [1, 2]"),
        ({"xs": 5, "ys": []}, "Task 't': with-items 'x' must be a list, got 5"),
        ({"xs": [1], "ys": [1], "concurrency": "two"}, "Task 't': concurrency must be a whole number"),
    ],
)
def test_items_that_cannot_run_raise_what_fails_the_task(
    sent: list[outbox.Outbox], wf_input: dict[str, Any], message: str
) -> None:
    with step():
        run = new_run("items", {"concurrency": 0, **wf_input})
        tasks.start(run, "t", {})
        task_ex = task_of(run, "t")
        assert task_ex.state == states.ERROR and task_ex.state_info.startswith(message)
    assert actions_sent(sent) == []


@uses_items
def test_more_items_than_the_limit_fail_the_task_naming_the_option(override_conf: Override) -> None:
    override_conf("engine", "max_with_items", 3)
    with step():
        run = new_run("items", {"xs": [1, 2, 3, 4], "ys": [1, 2, 3, 4], "concurrency": 0})
        tasks.start(run, "t", {})
        assert task_of(run, "t").state_info == (
            "Task 't': with-items over 4 items, more than the limit of 3 ([engine] max_with_items)"
        )


@uses_items
def test_concurrency_launches_as_items_end_and_the_results_come_in_index_order(
    sent: list[outbox.Outbox],
) -> None:
    wf_ex_id, outcome = _start({"xs": ["a", "b", "c"], "ys": [1, 2, 3], "concurrency": 2})
    assert outcome is None
    assert [r.input for r in actions_sent(sent)] == [{"output": "a"}, {"output": "b"}]
    _answer_actions(wf_ex_id, sent, {1: "B"})
    assert [r.input for r in actions_sent(sent)][2:] == [{"output": "c"}]
    _answer_actions(wf_ex_id, sent, {0: "A"})
    outcome = _answer_actions(wf_ex_id, sent, {2: "C"})
    assert outcome == Completed(states.SUCCESS, ["A", "B", "C"])
    assert len(actions_sent(sent)) == 3


@uses_items
def test_a_window_launches_more_items_as_others_end_and_every_item_runs(
    sent: list[outbox.Outbox], override_conf: Override
) -> None:
    override_conf("engine", "with_items_window", 2)
    wf_ex_id, outcome = _start({"xs": ["a", "b", "c", "d"], "ys": [1, 2, 3, 4]})
    assert outcome is None
    assert [r.input for r in actions_sent(sent)] == [{"output": "a"}, {"output": "b"}]
    _answer_actions(wf_ex_id, sent, {0: "A"})
    assert [r.input for r in actions_sent(sent)][2:] == [{"output": "c"}]
    outcome = _answer_actions(wf_ex_id, sent, {1: "B", 2: "C"})
    assert outcome is None
    assert [r.input for r in actions_sent(sent)][3:] == [{"output": "d"}]
    outcome = _answer_actions(wf_ex_id, sent, {3: "D"})
    assert outcome == Completed(states.SUCCESS, ["A", "B", "C", "D"])
    assert len(actions_sent(sent)) == 4


def _write_result(task_ex: Any, index: int, value: Any) -> None:
    """Item ``index``'s action succeeded with ``value``, written as the engine writes it."""
    actions = db_api.find_action_executions(task_ex.id)
    (action_ex,) = [a for a in actions if (a.runtime_context or {}).get("index") == index]
    db_api.write_action_results([(action_ex, {"state": states.SUCCESS, "output": {"result": value}})])


def _answer_actions(wf_ex_id: str, sent: list[outbox.Outbox], results: dict[int, Any]) -> Any:
    """Each item's result, one step each, told to with_items; what it answered last."""
    outcome = None
    for index, value in results.items():
        with step():
            run = lock_run(wf_ex_id)
            task_ex = task_of(run, "t")
            _write_result(task_ex, index, value)
            outcome = with_items.on_item_done(run, task_ex, run.task_spec("t"), index, states.SUCCESS, value)
    return outcome


@uses_items
def test_a_failed_item_ends_the_task_in_error_once_the_others_are_back() -> None:
    wf_ex_id, _ = _start({"xs": [1, 2], "ys": [1, 2]})
    assert _item_done(wf_ex_id, 0, states.ERROR, "boom") is None
    outcome = _item_done(wf_ex_id, 1, states.SUCCESS, 2)
    assert isinstance(outcome, Completed)
    assert (outcome.state, outcome.state_info) == (states.ERROR, "One or more items of with-items failed")


@uses_items
def test_a_bad_input_of_the_next_item_fails_the_task_not_the_step(sent: list[outbox.Outbox]) -> None:
    with step():
        run = new_run("picky", {"names": ["std.noop", 5]})
        tasks.start(run, "t", {})
        wf_ex_id = run.wf_ex.id
    outcome = _item_done(wf_ex_id, 0, states.SUCCESS, None)
    assert outcome == Failed("Task 't': action name must be a string, got 5")
    assert len(actions_sent(sent)) == 1


@uses_items
def test_tasks_applies_the_outcome_of_the_last_item() -> None:
    wf_ex_id, _ = _start({"xs": [1], "ys": [1]})
    with step():
        run = lock_run(wf_ex_id)
        _write_result(task_of(run, "t"), 0, "one")
        tasks.on_action_done(run, task_of(run, "t"), 0, states.SUCCESS, "one")
        assert [t.name for t in run.completed] == ["t"]
    task_ex = tasks_of(wf_ex_id)["t"]
    assert (task_ex.state, task_ex.result, task_ex.published) == (states.SUCCESS, ["one"], {"all": ["one"]})


@uses_items
def test_a_rerun_reads_its_own_items_not_those_an_earlier_run_left_in_the_cache() -> None:
    with step():
        run = new_run("items", {"xs": [1, 2], "ys": [3, 4], "concurrency": 0})
        task_ex = tasks.create(run, run.task_spec("t"), {}, states.RUNNING)
        spec = run.task_spec("t")
        stale = [{"x": "stale", "y": "stale"}]
        with_items._items_cache.put((task_ex.id, 0), stale)  # left by an earlier run of the task
        assert with_items._items(run, task_ex, spec) is stale  # within one run the cache answers
        task_records.reset_for_rerun(task_ex)  # a re-run
        fresh = with_items._items(run, task_ex, spec)
        assert list(fresh) == [{"x": 1, "y": 3}, {"x": 2, "y": 4}]
        assert with_items._items(run, task_ex, spec) is fresh


@uses_items
def test_a_task_whose_items_are_all_back_forgets_them() -> None:
    wf_ex_id, _ = _start({"xs": [1], "ys": [1]})
    task_ex_id = tasks_of(wf_ex_id)["t"].id
    assert with_items._items_cache.get((task_ex_id, 0)) is not None
    assert isinstance(_item_done(wf_ex_id, 0, states.SUCCESS, 1), Completed)
    assert with_items._items_cache.get((task_ex_id, 0)) is None


@uses_items
def test_items_cached_by_a_rolled_back_step_are_never_read_by_its_retry() -> None:
    # NOTE: the retry creates its task anew, under an id nobody used: the entry left behind is not its.
    with pytest.raises(RuntimeError), step():
        run = new_run("items", {"xs": [1, 2], "ys": [1, 2], "concurrency": 0})
        tasks.start(run, "t", {})
        raise RuntimeError("the step fails after the items were cached")
    wf_ex_id, outcome = _start({"xs": [3], "ys": [4]})
    assert outcome is None
    task_ex = tasks_of(wf_ex_id)["t"]
    assert list(with_items._items_cache.get((task_ex.id, 0)) or []) == [{"x": 3, "y": 4}]
