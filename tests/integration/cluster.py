"""The distributed service as separate ``mistral-server`` processes, importable outside pytest.

api, engines and executors share one PostgreSQL database and talk over RabbitMQ, on
a virtual host of their own when ``rabbitmqctl`` can make one (queue names do not
depend on the exchange, so two runs on one virtual host would take each other's
messages), and always on an exchange of their own (``[DEFAULT] control_exchange``).
The integration tests (conftest.py) and the crash trials (tests/chaos) both use it.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import urllib.parse
import uuid
from typing import Any

import requests
import sqlalchemy as sa
from mistralclient.api import client as mistral_client

from tests.integration import processes
from tests.integration.processes import Process
from tests.polling import wait_for

RABBIT_URL = os.environ.get("MISTRAL_TEST_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
EXECUTORS = ("exec-a", "exec-b")
#: How long a process may take to come up, and a workflow to finish, before the test fails.
START_TIMEOUT = 45.0
RUN_TIMEOUT = 30.0

PING = """\
version: '2.0'
it_ping:
  tasks:
    anywhere:
      action: std.echo output=any
    on_a:
      action: std.echo output=a
      target: exec-a
    on_b:
      action: std.echo output=b
      target: exec-b
"""


class Rabbit:
    """Where the processes find the broker: URL parts, the virtual host and the exchange of this run."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 5672
        self.user = urllib.parse.unquote(parts.username or "guest")
        self.password = urllib.parse.unquote(parts.password or "guest")
        self.vhost = urllib.parse.unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        self.exchange = f"mistral_it_{uuid.uuid4().hex[:10]}"
        self.own_vhost: str | None = None

    def transport_url(self) -> str:
        vhost = urllib.parse.quote(self.vhost, safe="")
        user, password = urllib.parse.quote(self.user, safe=""), urllib.parse.quote(self.password, safe="")
        return f"rabbit://{user}:{password}@{self.host}:{self.port}/{vhost}"

    def kombu_connection(self) -> Any:
        import kombu

        return kombu.Connection(
            hostname=self.host,
            port=self.port,
            userid=self.user,
            password=self.password,
            virtual_host=self.vhost,
            transport="pyamqp",
            connect_timeout=5,
        )

    def check(self) -> None:
        """A TCP connect, then an AMQP login (both raise when the broker is not there)."""
        processes.tcp_reachable(self.host, self.port)
        with self.kombu_connection() as conn:
            conn.ensure_connection(max_retries=1, timeout=5)

    def make_vhost(self) -> None:
        """A virtual host for this run when the broker is local and rabbitmqctl may make one."""
        ctl = shutil.which("rabbitmqctl")
        if ctl is None or self.host not in ("127.0.0.1", "localhost", "::1"):
            return
        name = self.exchange
        try:
            for args in (["add_vhost", name], ["set_permissions", "-p", name, self.user, ".*", ".*", ".*"]):
                subprocess.run([ctl, *args], check=True, capture_output=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            self.drop_vhost(name)
            return
        self.own_vhost = self.vhost = name

    def drop_vhost(self, name: str | None = None) -> None:
        name = name or self.own_vhost
        ctl = shutil.which("rabbitmqctl")
        if name and ctl:
            subprocess.run([ctl, "delete_vhost", name], capture_output=True, timeout=30, check=False)


class Cluster:
    """The four processes, their configuration files and logs, and ways to reach them."""

    def __init__(self, workdir: pathlib.Path, db_url: str, rabbit: Rabbit,
                 options: dict[str, dict[str, Any]] | None = None) -> None:  # fmt: skip
        """``options`` adds to (or overrides) the sections of the shared configuration file."""
        self.workdir = workdir
        self.db_url = db_url
        self.rabbit = rabbit
        self.port = processes.free_port()
        self.v2 = f"http://127.0.0.1:{self.port}/v2"
        sections: dict[str, dict[str, Any]] = {
            "DEFAULT": {"transport_url": rabbit.transport_url(), "control_exchange": rabbit.exchange},
            "database": {"connection": db_url},
            "api": {"host": "127.0.0.1", "port": self.port},
            "engine": {"action_batch_size": 10},
            # Seconds of OpenStack client imports at every process start; their tests run embedded.
            "legacy_action_provider": {"load_action_generators": False},
        }
        for section, values in (options or {}).items():
            sections[section] = {**sections.get(section, {}), **values}
        self.config = processes.write_config(workdir / "mistral.conf", sections)
        self.processes: dict[str, Process] = {}
        #: the [metrics] port of each daemon: an engine or executor alone has no API to serve its series
        self.metrics_ports = {name: processes.free_port() for name in ("engine", *EXECUTORS)}
        self.add("api", "api")
        engine_conf = {"metrics": self._metrics("engine")}
        self.add("engine", "engine", processes.write_config(workdir / "engine.conf", engine_conf))
        for host in EXECUTORS:
            extra = {"executor": {"host": host}, "metrics": self._metrics(host)}
            self.add(host, "executor", processes.write_config(workdir / f"{host}.conf", extra))

    def _metrics(self, name: str) -> dict[str, Any]:
        return {"port": self.metrics_ports[name], "host": "127.0.0.1"}

    def add(self, name: str, server: str, extra_config: pathlib.Path | None = None) -> None:
        argv = [processes.MISTRAL_SERVER, "--config-file", str(self.config)]
        if extra_config is not None:
            argv += ["--config-file", str(extra_config)]
        argv += ["--server", server]
        self.processes[name] = Process(name, argv, self.workdir / f"{name}.log", self.workdir)

    # -- life cycle --------------------------------------------------------------------------------

    def migrate(self) -> None:
        processes.migrate(self.config)

    def start(self) -> None:
        for process in self.processes.values():
            process.start()
        self.wait_ready()

    def check_alive(self) -> None:
        for process in self.processes.values():
            process.check_alive()

    def wait_logged(self, name: str, text: str, timeout: float = START_TIMEOUT) -> None:
        process = self.processes[name]
        wait_for(f"{name} to log {text!r}", lambda: process.logged(text), timeout, check=process.check_alive)

    def wait_ready(self) -> None:
        """The API answers, every process says it listens, and a workflow runs on each executor."""
        wait_for(
            f"GET {self.v2}",
            lambda: requests.get(self.v2, timeout=2).status_code == 200,
            START_TIMEOUT,
            check=self.check_alive,
        )
        self.wait_logged("engine", "Engine started")
        for host in EXECUTORS:
            self.wait_executor(host)
        client = self.client()
        if not any(w.name == "it_ping" for w in client.workflows.list()):
            client.workflows.create(PING)
        self.run_ping()

    def wait_executor(self, host: str) -> None:
        self.wait_logged(host, f"Executor {host} listening")

    def run_ping(self) -> None:
        """Run a task on each executor (it fails when one of them does not answer)."""
        ex = self.client().executions.create("it_ping")
        ex = self.wait_execution(ex.id, timeout=START_TIMEOUT)
        assert ex.state == "SUCCESS", f"it_ping ended {ex.state}: {ex.state_info}"

    def restart(self, name: str) -> None:
        self.processes[name].kill()
        self.processes[name].start()
        if name in EXECUTORS:
            self.wait_executor(name)
            self.run_ping()

    def stop(self) -> None:
        processes.stop_all(self.processes.values(), timeout=10)

    # -- helpers for the tests -----------------------------------------------------------------------

    def client(self) -> Any:
        return mistral_client.client(mistral_url=self.v2)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.v2}{path}", timeout=30, **kwargs)

    def wait_execution(self, ex_id: str, timeout: float = RUN_TIMEOUT, stuck: Any = None) -> Any:
        """The execution once it has finished; ``stuck()`` may raise to fail before the timeout."""
        client = self.client()

        def check() -> None:
            self.check_alive_except_killed()
            if stuck is not None:
                stuck()

        def finished() -> Any:
            ex = client.executions.get(ex_id)
            return ex if ex.state in ("SUCCESS", "ERROR", "CANCELLED") else None

        return wait_for(f"execution {ex_id} to finish", finished, timeout, check=check)

    def check_alive_except_killed(self) -> None:
        for process in self.processes.values():
            if process.popen is not None and process.popen.returncode is None:
                process.check_alive()

    def tails(self) -> str:
        return "".join(p.tail() for p in self.processes.values())


def create_database(admin_url: str, prefix: str = "mistral_test") -> str:
    """A fresh, empty PostgreSQL database; its URL (raises sqlalchemy OperationalError when unreachable)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(admin_url: str, url: str) -> None:
    name = sa.engine.make_url(url).database
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()
