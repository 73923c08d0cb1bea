"""A steppable clock for cron triggers and expiration, a workflow to trigger, and no RPC after commit."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest

from mistral import config
from mistral.services import cron_triggers, definitions, expiration

WORKFLOW = """
version: '2.0'
ticked:
  input:
    - greeting
    - who: world
  tasks:
    echo:
      action: std.echo output=<% $.greeting %>
"""

T0 = datetime.datetime(2030, 1, 1, 12, 0, 0)


class FakeClock:
    """A clock the test moves by hand, so nothing sleeps."""

    def __init__(self, now: datetime.datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)

    def set(self, now: datetime.datetime) -> None:
        self.now = now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(cron_triggers, "clock", fake)
    monkeypatch.setattr(expiration, "clock", fake)
    return fake


@pytest.fixture
def workflow(db: str) -> Any:
    return definitions.create_workflows(WORKFLOW)[0]


@pytest.fixture
def set_conf() -> Iterator[Any]:
    """Override options of any group for one test."""
    overridden: list[tuple[str, str]] = []

    def _set(group: str, name: str, value: Any) -> None:
        config.CONF.set_override(name, value, group=group)
        overridden.append((group, name))

    yield _set
    for group, name in overridden:
        config.CONF.clear_override(name, group=group)
