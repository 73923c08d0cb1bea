"""When the API answers its reads in a reader process: only beside the engine, on a database it can share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mistral.api import reader_process
from mistral.config import CONF


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    yield
    CONF.clear_override("reader_process", group="api")
    CONF.clear_override("connection", group="database")


@pytest.mark.parametrize(
    ("names", "url", "expected"),
    [
        (["api", "engine", "executor"], "sqlite:////tmp/x/mistral.sqlite", True),
        (["api", "engine"], "postgresql://db/mistral", True),
        (["api"], "sqlite:////tmp/x/mistral.sqlite", False),  # the API has a process of its own
        (["engine", "executor"], "sqlite:////tmp/x/mistral.sqlite", False),  # no API
        (["api", "engine"], "sqlite://", False),  # another process cannot see this database
        (["api", "engine"], "sqlite:///file:x?mode=memory&cache=shared&uri=true", False),
    ],
)
def test_wanted(names: list[str], url: str, expected: bool) -> None:
    CONF.set_override("connection", url, group="database")
    assert reader_process.wanted(names) is expected


def test_turned_off() -> None:
    CONF.set_override("connection", "sqlite:////tmp/x/mistral.sqlite", group="database")
    CONF.set_override("reader_process", False, group="api")
    assert not reader_process.wanted(["api", "engine", "executor"])
