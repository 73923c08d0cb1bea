"""The distributed service for real: api, engine and two executors as separate processes.

The processes themselves are tests/integration/cluster.py; here are the pytest fixtures
that start them once per module and show their logs when a test fails.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import service_missing
from tests.integration import processes
from tests.integration.cluster import RABBIT_URL, Cluster, Rabbit

_active: list[Cluster] = []


@pytest.fixture(scope="module")
def rabbit() -> Iterator[Rabbit]:
    broker = Rabbit(RABBIT_URL)
    try:
        broker.check()
    except Exception as error:  # noqa: BLE001 - any failure to reach the broker means "missing"
        service_missing("RabbitMQ", error)
    broker.make_vhost()
    try:
        broker.check()
    except Exception as error:  # noqa: BLE001
        broker.drop_vhost()
        pytest.fail(f"RabbitMQ virtual host {broker.vhost} is not usable: {error}")
    yield broker
    broker.drop_vhost()


@pytest.fixture(scope="module")
def cluster(postgres_url: str, rabbit: Rabbit, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """api, engine, exec-a and exec-b as four ``mistral-server`` processes."""
    started = Cluster(tmp_path_factory.mktemp("cluster"), postgres_url, rabbit)
    started.migrate()
    _active.append(started)
    try:
        try:
            started.start()
        except BaseException as error:
            raise AssertionError(f"the cluster did not start: {error}\n{started.tails()}") from error
        yield started
    finally:
        started.stop()
        _active.remove(started)


@pytest.fixture(scope="module")
def database(postgres_url: str) -> Iterator[sa.Engine]:
    """The PostgreSQL database the processes share, read directly."""
    engine = sa.create_engine(postgres_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def client(cluster: Cluster) -> Any:
    return cluster.client()


@pytest.fixture
def cli(cluster: Cluster, tmp_path: pathlib.Path) -> Any:
    """Run the real ``mistral`` command against the API process."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = subprocess.run(
            [processes.MISTRAL_CLI, "--os-mistral-url", cluster.v2, *args],
            capture_output=True,
            text=True,
            env=processes.clean_env(),
            cwd=tmp_path,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"mistral {' '.join(args)} exited {result.returncode} after "
                f"{time.monotonic() - started:.1f} s: {result.stderr}{result.stdout}"
            )
        return result

    return run


def cli_json(result: subprocess.CompletedProcess) -> Any:
    return json.loads(result.stdout)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """A failing test here shows the ends of the server logs."""
    report = yield
    if report.failed and _active:
        report.sections.append(("mistral-server logs", _active[-1].tails()))
    return report
