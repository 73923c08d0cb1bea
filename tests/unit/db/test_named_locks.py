"""db_api.hold_named_lock: one holder at a time, across connections as across processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mistral import config
from mistral.db import api as db_api
from mistral.db import models, session
from tests.conftest import use_database

SERVERS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
LOCKS = models.NamedLock.__table__


@pytest.fixture(params=SERVERS)
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    before = config.CONF.database.connection
    url = request.getfixturevalue(f"{request.param}_url")
    if request.param == "mysql":
        # NOTE: the MySQL test database is not migrated (tests bring their own tables).
        config.CONF.set_override("connection", url, group="database")
        LOCKS.create(session.get_engine(), checkfirst=True)
    else:
        use_database(url)
    with session.get_engine().begin() as conn:
        conn.execute(LOCKS.delete())
    yield request.param
    config.CONF.set_override("connection", before, group="database")


def test_a_second_holder_waits_until_the_first_transaction_has_ended(database: str) -> None:
    first_holds, let_go = threading.Event(), threading.Event()
    events: list[str] = []
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with db_api.transaction():
                db_api.hold_named_lock("probe")
                events.append("first holds")
                first_holds.set()
                let_go.wait(10)
                events.append("first ends")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            first_holds.set()

    def second() -> None:
        first_holds.wait(10)
        try:
            with db_api.transaction():
                db_api.hold_named_lock("probe")
                events.append("second holds")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_holds.wait(10)
    time.sleep(0.5)  # NOTE: room for the second to take the lock, were it not held
    let_go.set()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert events == ["first holds", "first ends", "second holds"]
    with session.get_engine().connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(LOCKS)).scalar() == 1


def test_holding_a_lock_twice_in_one_transaction_is_harmless(database: str) -> None:
    with db_api.transaction():
        db_api.hold_named_lock("probe")
        db_api.hold_named_lock("probe")
        db_api.hold_named_lock("other")
    with session.get_engine().connect() as conn:
        names = sorted(conn.execute(sa.select(LOCKS.c.name)).scalars())
    assert names == ["other", "probe"]
