"""The delivery loop against the database: order per stream, retries, giving up, taking over claims."""

from __future__ import annotations

import concurrent.futures
import datetime
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.notifier import delivery, publishers
from mistral.utils import uuids
from tests.conftest import Override
from tests.unit.scheduler.conftest import FakeClock

pytestmark = pytest.mark.usefixtures("db")

HOOK = {"type": "webhook", "url": "http://receiver.invalid/hook"}


class Receiver:
    """Stands in for ``publishers.publish``: records what arrives, refuses while ``down``/``down_for``."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self.refused = 0
        self.down = False
        self.down_for: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, publisher: Any, event_id: str, payload: Any, timeout: float) -> None:
        with self._lock:
            if self.down or payload["stream"] in self.down_for:
                self.refused += 1
                raise publishers.DeliveryError("HTTP 500: down")
            self.got.append((payload["stream"], payload["n"]))


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Receiver:
    fake = Receiver()
    monkeypatch.setattr(publishers, "publish", fake)
    return fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def notifiers(clock: FakeClock) -> Iterator[list[delivery.Notifier]]:
    made: list[delivery.Notifier] = []
    yield made
    for n in made:
        n.stop()


def _new(notifiers: list[delivery.Notifier], clock: FakeClock, name: str) -> delivery.Notifier:
    n = delivery.Notifier(name, clock=clock)
    notifiers.append(n)
    return n


def _add(clock: FakeClock, stream: str, count: int, start: int = 0) -> None:
    with db_api.transaction():
        for n in range(start, start + count):
            db_api.add_notification_event(
                {
                    "id": uuids.generate(),
                    "stream": stream,
                    "execution_id": stream,
                    "project_id": "p",
                    "event": "TASK_LAUNCHED",
                    "publisher": HOOK,
                    "payload": {"stream": stream, "n": n},
                    "next_attempt_at": clock(),
                    "created_at": clock(),
                }
            )


def _look(n: delivery.Notifier) -> int:
    futures = n.dispatch()
    concurrent.futures.wait(futures, timeout=30)
    return len(futures)


def test_every_stream_is_delivered_in_order(
    receiver: Receiver, clock: FakeClock, notifiers: list[delivery.Notifier]
) -> None:
    _add(clock, "a", 5)
    _add(clock, "b", 3)
    _add(clock, "a", 2, start=5)
    _look(_new(notifiers, clock, "n1"))
    assert [n for s, n in receiver.got if s == "a"] == list(range(7))
    assert [n for s, n in receiver.got if s == "b"] == list(range(3))
    assert db_api.count_notification_events() == 0


def test_a_refused_event_holds_its_stream_until_it_is_taken(
    receiver: Receiver, clock: FakeClock, notifiers: list[delivery.Notifier], override_conf: Override
) -> None:
    override_conf("notifier", "retry_initial_delay", 2.0)
    override_conf("notifier", "retry_max_delay", 5.0)
    n = _new(notifiers, clock, "n1")
    _add(clock, "a", 3)
    receiver.down_for = {"a"}
    _look(n)
    assert receiver.refused == 1
    # not due again before its delay; others' streams go on
    _add(clock, "b", 1)
    _look(n)
    assert receiver.refused == 1 and receiver.got == [("b", 0)]
    for expected_delay in (2.0, 4.0, 5.0, 5.0):
        clock.advance(expected_delay - 0.1)
        _look(n)
        assert receiver.got == [("b", 0)]
        clock.advance(0.1)
        refused = receiver.refused
        _look(n)
        assert receiver.refused == refused + 1, f"retried after {expected_delay} s"
    receiver.down_for = set()
    clock.advance(5.0)
    _look(n)
    assert receiver.got == [("b", 0), ("a", 0), ("a", 1), ("a", 2)]
    assert db_api.count_notification_events() == 0


def test_an_event_is_dropped_after_give_up_after_and_its_stream_goes_on(
    receiver: Receiver,
    clock: FakeClock,
    notifiers: list[delivery.Notifier],
    override_conf: Override,
    caplog: pytest.LogCaptureFixture,
) -> None:
    override_conf("notifier", "give_up_after", 10.0)
    override_conf("notifier", "retry_initial_delay", 4.0)
    override_conf("notifier", "retry_max_delay", 4.0)
    n = _new(notifiers, clock, "n1")
    _add(clock, "a", 1)
    clock.advance(5)
    _add(clock, "a", 1, start=1)
    receiver.down = True
    _look(n)
    clock.advance(4)
    _look(n)
    assert receiver.refused == 2 and db_api.count_notification_events() == 2
    clock.advance(4)  # the first event is 13 s old: dropped; the second (8 s) is retried
    with caplog.at_level(logging.ERROR, logger="mistral.notifier.delivery"):
        _look(n)
    dropped = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(dropped) == 1 and "Dropping notification event" in dropped[0]
    assert "http://receiver.invalid/hook" in dropped[0]
    assert db_api.count_notification_events() == 1
    receiver.down = False
    clock.advance(60)
    _look(n)
    assert receiver.got == [("a", 1)]


def test_a_claim_of_a_dead_notifier_is_taken_over_after_claim_timeout(
    receiver: Receiver, clock: FakeClock, notifiers: list[delivery.Notifier], override_conf: Override
) -> None:
    override_conf("notifier", "claim_timeout", 30.0)
    _add(clock, "a", 2)
    (head,) = db_api.find_notification_heads(clock(), 30.0, 10)
    # a notifier took the first event and died before it finished
    assert db_api.claim_notification_event(head.seq, "dead 1", clock(), 30.0)
    n = _new(notifiers, clock, "n2")
    assert _look(n) == 0 and receiver.got == []
    clock.advance(31)
    _look(n)
    assert receiver.got == [("a", 0), ("a", 1)]


def test_a_notifier_whose_claim_was_taken_over_cannot_finish_or_release_it(clock: FakeClock) -> None:
    _add(clock, "a", 1)
    (head,) = db_api.find_notification_heads(clock(), 30.0, 10)
    assert db_api.claim_notification_event(head.seq, "slow 1", clock(), 30.0)
    assert not db_api.claim_notification_event(head.seq, "other 2", clock(), 30.0)
    clock.advance(31)
    assert db_api.claim_notification_event(head.seq, "other 2", clock(), 30.0)
    later = clock() + datetime.timedelta(seconds=5)
    assert not db_api.release_notification_event(head.seq, token="slow 1", next_attempt_at=later, error="x")
    assert not db_api.delete_notification_event(head.seq, token="slow 1")
    assert db_api.delete_notification_event(head.seq, token="other 2")
    assert db_api.count_notification_events() == 0


def test_two_notifiers_deliver_each_event_once_and_in_order(
    receiver: Receiver, clock: FakeClock, notifiers: list[delivery.Notifier]
) -> None:
    streams = [f"s{i}" for i in range(6)]
    for s in streams:
        _add(clock, s, 8)
    one, two = _new(notifiers, clock, "one"), _new(notifiers, clock, "two")
    for _ in range(20):
        threads = [threading.Thread(target=_look, args=(n,)) for n in (one, two)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if not db_api.count_notification_events():
            break
    for s in streams:
        assert [n for got, n in receiver.got if got == s] == list(range(8))
    assert len(receiver.got) == 48


def test_retry_delay_doubles_up_to_the_limit() -> None:
    assert [delivery.retry_delay(a, 1.0, 10.0) for a in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert delivery.retry_delay(10_000, 1.0, 10.0) == 10.0


def test_a_bad_configured_notify_stops_the_notifier_from_starting(override_conf: Override) -> None:
    override_conf("notifier", "notify", '[{"type": "webhook", "url": "file:///etc/passwd"}]')
    with pytest.raises(ValueError, match=r"\[notifier\] notify\[0\].url' must be an http"):
        delivery.Notifier("x")


def test_claim_timeout_must_exceed_request_timeout(override_conf: Override) -> None:
    override_conf("notifier", "request_timeout", 30.0)
    override_conf("notifier", "claim_timeout", 30.0)
    with pytest.raises(ValueError, match="claim_timeout"):
        delivery.Notifier("x")
