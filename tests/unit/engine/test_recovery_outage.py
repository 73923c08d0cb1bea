"""After an outage of every engine, heartbeats wait in the broker: a new engine judges no silence at once."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from mistral.db import api as db_api
from mistral.db.types import utcnow
from mistral.engine import recovery

PERIOD = datetime.timedelta(seconds=15 * 20)  # [action_heartbeat] max_missed_heartbeats x check_interval


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    def find_silent_actions(silent_since: datetime.datetime, limit: int) -> list[Any]:
        calls.append(silent_since)
        return []

    monkeypatch.setattr(db_api, "find_silent_actions", find_silent_actions)
    return calls


def test_an_engine_that_just_started_judges_no_action_silent(
    looked_up: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    started = utcnow()
    monkeypatch.setattr(recovery, "_engine_started_at", started)
    recovery.handle_silent_actions(now=started + PERIOD - datetime.timedelta(seconds=1))
    assert looked_up == []
    recovery.handle_silent_actions(now=started + PERIOD + datetime.timedelta(seconds=1))
    assert looked_up == [started + datetime.timedelta(seconds=1)]


def test_without_an_engine_start_in_this_process_silence_is_judged(
    looked_up: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recovery, "_engine_started_at", None)
    now = utcnow()
    recovery.handle_silent_actions(now=now)
    assert looked_up == [now - PERIOD]
