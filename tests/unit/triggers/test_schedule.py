"""The pure rules of cron triggers: patterns, next times, firing plans, ids and descriptions."""

from __future__ import annotations

import datetime
import json
from types import SimpleNamespace

import pytest

from mistral.exceptions import InputError
from mistral.services import cron_triggers as ct

T0 = datetime.datetime(2030, 1, 1, 12, 0, 0)


def _m(minutes: float) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("pattern", "after", "expected"),
    [
        ("* * * * *", T0, _m(1)),
        ("* * * * *", T0 + datetime.timedelta(seconds=59, microseconds=5), _m(1)),
        ("*/15 * * * *", _m(1), _m(15)),
        ("0 2 * * *", T0, datetime.datetime(2030, 1, 2, 2, 0)),
        ("@hourly", T0, _m(60)),
    ],
)
def test_next_tick_is_strictly_after(
    pattern: str, after: datetime.datetime, expected: datetime.datetime
) -> None:
    assert ct.next_tick(pattern, after) == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("61 * * * *", "Invalid cron pattern '61 \\* \\* \\* \\*'"),
        ("* * * *", "needs 5 fields"),
        ("* * * * * *", "needs 5 fields"),
        ("every minute", "Invalid cron pattern 'every minute'"),
        ("0 0 31 2 *", "Invalid cron pattern '0 0 31 2 \\*'"),
        ("", "non-empty string"),
        (5, "non-empty string"),
    ],
)
def test_bad_patterns_are_named(pattern: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ct.check_pattern(pattern)  # type: ignore[arg-type]


def test_good_pattern_is_normalized() -> None:
    assert ct.check_pattern("  */5   *  * * * ") == "*/5 * * * *"


@pytest.mark.parametrize(
    "text", ["2030-01-01 12:00", "2030-01-01 12:00:00", "2030-01-01T12:00", " 2030-01-01 12:00 "]
)
def test_parse_time(text: str) -> None:
    assert ct.parse_time(text) == T0


@pytest.mark.parametrize("value", ["tomorrow", "2030-13-01 12:00", 1893499200, None])
def test_parse_time_refuses(value: object) -> None:
    with pytest.raises(InputError, match="'first_execution_time' must look like 'YYYY-MM-DD HH:MM'"):
        ct.parse_time(value)


def test_a_firing_on_time_moves_to_the_next_tick_and_counts_down() -> None:
    firing = ct.plan_firing("* * * * *", T0, 3, T0 + datetime.timedelta(seconds=2))
    assert (firing.due, firing.next_time, firing.remaining, firing.missed) == (T0, _m(1), 2, 0)


def test_unlimited_stays_unlimited() -> None:
    firing = ct.plan_firing("* * * * *", T0, None, T0)
    assert (firing.next_time, firing.remaining) == (_m(1), None)


def test_the_last_firing_deletes_the_trigger() -> None:
    assert ct.plan_firing("* * * * *", T0, 1, T0).next_time is None
    assert ct.plan_firing(None, T0, 1, T0).next_time is None


def test_missed_ticks_fire_once_and_move_past_now() -> None:
    # Due at 12:00, engines back at 12:05:30: ticks 12:01..12:05 were missed too.
    firing = ct.plan_firing("* * * * *", T0, 10, _m(5.5))
    assert (firing.next_time, firing.remaining, firing.missed, firing.last_missed) == (_m(6), 9, 5, _m(5))
    assert not firing.missed_at_least


def test_a_tick_exactly_at_now_counts_as_missed() -> None:
    firing = ct.plan_firing("* * * * *", T0, None, _m(1))
    assert (firing.missed, firing.next_time) == (1, _m(2))


def test_very_many_missed_ticks_are_counted_up_to_a_cap() -> None:
    now = T0 + datetime.timedelta(days=30)
    firing = ct.plan_firing("* * * * *", T0, None, now)
    assert firing.missed == ct.MAX_COUNTED_TICKS and firing.missed_at_least
    assert firing.next_time == now + datetime.timedelta(minutes=1)


def test_execution_id_is_a_function_of_trigger_and_due_time() -> None:
    a = ct.execution_id("t1", T0)
    assert a == ct.execution_id("t1", T0)
    assert a != ct.execution_id("t1", _m(1)) and a != ct.execution_id("t2", T0)


def test_description_is_mistrals_json_string() -> None:
    trigger = SimpleNamespace(id="abc", name="nightly")
    body = json.loads(ct.execution_description(trigger, ct.plan_firing("* * * * *", T0, None, T0)))
    assert body == {
        "description": "Workflow execution created by cron trigger '(abc)'.",
        "triggered_by": {"type": "cron_trigger", "id": "abc", "name": "nightly"},
    }


def test_description_tells_of_missed_ticks() -> None:
    trigger = SimpleNamespace(id="abc", name="nightly")
    body = json.loads(ct.execution_description(trigger, ct.plan_firing("* * * * *", T0, None, _m(3))))
    assert body["description"].startswith("Workflow execution created by cron trigger '(abc)'. ")
    assert "3 later tick(s) up to 2030-01-01 12:03:00 were missed" in body["description"]
    assert body["missed_ticks"] == 3
