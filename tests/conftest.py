"""Test-wide setup: configuration, a migrated database per backend, clean tables per test."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from mistral import config, context
from mistral.db import models, session
from mistral.db.migration import cli
from mistral.engine import sender
from mistral.rpc import clients, transport

PG_ADMIN_URL = os.environ.get("MISTRAL_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
MYSQL_ADMIN_URL = os.environ.get(
    "MISTRAL_TEST_MYSQL_URL", "mysql+pymysql://mistral_test:mistral_test@127.0.0.1:3306/"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
#: Test processes of ``pytest -n auto`` on a machine with many CPUs. NOTE: each runs servers with
#: database pools of their own on the one PostgreSQL server (100 connections by default).
MOST_TEST_PROCESSES = 4

config.parse_args([])
# NOTE: mistral-extra (a test dependency) generates ~1200 OpenStack actions: importing their client
# libraries takes seconds and every API start stores them. Only the tests of those actions need
# them, and they turn this on (tests/unit/actions/test_generators.py and
# tests/functional/test_openstack_actions.py).
config.CONF.set_default("load_action_generators", False, group="legacy_action_provider")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """How many test processes ``-n auto`` starts: one a CPU this process may use, up to a few."""
    return max(1, min(len(os.sched_getaffinity(0)), MOST_TEST_PROCESSES))


def service_missing(what: str, error: Exception) -> None:
    """Locally a missing service skips its tests; in CI it fails them."""
    message = f"{what} is not reachable: {error}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


_migrated: set[str] = set()


def use_database(url: str) -> None:
    """Point the service at ``url``, migrating it the first time."""
    config.CONF.set_override("connection", url, group="database")
    if url not in _migrated:
        cli.upgrade("head")
        _migrated.add(url)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'mistral.sqlite'}"


@contextlib.contextmanager
def scratch_postgres(prefix: str = "mistral_test") -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards (a missing server: see above)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        service_missing("PostgreSQL", error)
    try:
        yield sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with scratch_postgres() as url:
        yield url
        session.dispose_engines()


@pytest.fixture(scope="session")
def mysql_url() -> Iterator[str]:
    """A fresh, empty MariaDB/MySQL database (not migrated: the tests using it bring their tables)."""
    name = f"mistral_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(MYSQL_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    except (sa.exc.OperationalError, ImportError) as error:
        service_missing("MariaDB/MySQL", error)
    url = sa.engine.make_url(MYSQL_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    session.dispose_engines()
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    admin.dispose()


def _clean_tables() -> None:
    with session.get_engine().begin() as conn:
        for table in reversed(models.Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database: every test using it runs on SQLite and on PostgreSQL."""
    url = request.getfixturevalue(f"{request.param}_url")
    use_database(url)
    _clean_tables()
    yield request.param
    _clean_tables()


@pytest.fixture(autouse=True)
def _fresh_context() -> Iterator[None]:
    token = context.set_current(context.Context())
    yield
    context.reset(token)


Override = Callable[[str, str, Any], None]


@pytest.fixture
def override_conf() -> Iterator[Override]:
    """``override_conf(group, name, value)`` sets an option for one test."""
    done: list[tuple[str, str]] = []

    def override(group: str, name: str, value: Any) -> None:
        config.CONF.set_override(name, value, group=group)
        done.append((group, name))

    yield override
    for group, name in done:
        config.CONF.clear_override(name, group=group)


@pytest.fixture
def rpc() -> Iterator[None]:
    """A fresh in-process transport and fresh clients for one test."""
    transport.reset()
    clients.reset()
    yield
    clients.reset()
    transport.reset()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Outboxes the engine would send after commit (nothing leaves in these tests)."""
    boxes: list[Any] = []
    monkeypatch.setattr(sender, "send", boxes.append)
    return boxes


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """The machine's RabbitMQ as an amqp:// URL (``MISTRAL_TEST_RABBIT_URL``; a missing broker: see above)."""
    import kombu

    url = os.environ.get("MISTRAL_TEST_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
    url = "amqp://" + url.split("://", 1)[1]
    try:
        with kombu.Connection(url, connect_timeout=2) as conn:
            conn.connect()
    except Exception as error:  # noqa: BLE001 - any failure to connect means no broker
        service_missing("RabbitMQ", error)
    return url
