"""Deployments the benchmark starts itself, as command lines: it never imports the servers it measures.

- ``embedded``: our ``mistral-server --server all`` on a fresh SQLite data dir.
- ``distributed``: our api (or several, ``--apis``), N engines and 2 executors as separate
  processes on a fresh PostgreSQL database and a RabbitMQ virtual host of their own.
- ``reference-distributed``: OpenStack Mistral 23.0.0 (installed into its own venv on
  first use) in the same shape, on its own database and virtual host, auth off.
- ``url``: nothing is started; the server at ``--url`` is measured as it is.

Every process gets its own session (process group), so stopping it also stops
whatever it forked; ``stop()`` is safe to call twice and after a failed start.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable

import requests

KINDS = ("url", "embedded", "distributed", "reference-distributed")
REFERENCE_PACKAGES = ("mistral==23.0.0", "psycopg2-binary")
DEFAULT_REF_VENV = pathlib.Path("~/.cache/mistral-bench/ref-venv").expanduser()


class DeployError(Exception):
    """A deployment could not be prepared or did not come up; the message says which step."""


@dataclasses.dataclass(frozen=True)
class Role:
    """One server process: its label, its ``--server`` value and, for our executors, its host name."""

    name: str
    server: str
    executor_host: str | None = None
    #: an API process after the first listens on the deployment's port + this
    port_offset: int = 0
    #: an engine of ours serves its Prometheus series on the deployment's port + this ([metrics] port)
    metrics_port_offset: int = 0


@dataclasses.dataclass(frozen=True)
class Settings:
    kind: str
    port: int
    workdir: pathlib.Path
    engines: int = 1
    executors: int = 2
    apis: int = 1
    ours_bin: pathlib.Path | None = None
    ref_venv: pathlib.Path = DEFAULT_REF_VENV
    pg_admin_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    rabbit_url: str = "rabbit://guest:guest@127.0.0.1:5672/"
    start_timeout: float = 180.0

    @property
    def reference(self) -> bool:
        return self.kind == "reference-distributed"

    @property
    def label(self) -> str:
        """Names the database and the virtual host, so two runs on different ports never share them."""
        return f"bench_{'ref' if self.reference else 'ours'}_{self.port}"

    @property
    def bin_dir(self) -> pathlib.Path:
        if self.reference:
            return self.ref_venv / "bin"
        if self.ours_bin is None:
            raise DeployError("the directory of our mistral-server is unknown (use --ours-venv)")
        return self.ours_bin


#: Ports between two API processes of one deployment (the reference listens on the first port + 1).
API_PORT_STEP = 10
#: The first engine's [metrics] port, above the deployment's port: each engine's hops are read there
#: (GET /v2/engine_stats answers for the one engine its RPC call reaches).
ENGINE_METRICS_PORT_OFFSET = 100


def roles(kind: str, engines: int = 1, executors: int = 2, apis: int = 1) -> list[Role]:
    """The processes of a deployment, in start order."""
    if kind == "url":
        return []
    if kind == "embedded":
        return [Role("all", "all")]
    if engines < 1 or executors < 1 or apis < 1:
        raise DeployError("a distributed deployment needs at least one api, one engine and one executor")
    if apis > 1 and kind != "distributed":
        raise DeployError("only our distributed deployment runs several api processes")
    out = [Role("api", "api")]
    out += [Role(f"api-{i}", "api", port_offset=(i - 1) * API_PORT_STEP) for i in range(2, apis + 1)]
    out += [
        Role(f"engine-{i}", "engine", metrics_port_offset=ENGINE_METRICS_PORT_OFFSET + i - 1)
        for i in range(1, engines + 1)
    ]
    out += [Role(f"executor-{i}", "executor", f"bench-exec-{i}") for i in range(1, executors + 1)]
    return out


def find_ours_bin(venv: str | None) -> pathlib.Path | None:
    """Where our ``mistral-server`` is: ``<venv>/bin``, else next to the running interpreter."""
    candidates = [pathlib.Path(venv) / "bin"] if venv else [pathlib.Path(sys.executable).parent]
    for bin_dir in candidates:
        if (bin_dir / "mistral-server").exists():
            return bin_dir
    return None


# --------------------------------------------------------------------------
# Command lines and configuration files (pure: tested offline)


def server_argv(bin_dir: pathlib.Path, configs: list[pathlib.Path], server: str) -> list[str]:
    argv = [str(bin_dir / "mistral-server")]
    for path in configs:
        argv += ["--config-file", str(path)]
    return argv + ["--server", server]


def db_manage_argv(bin_dir: pathlib.Path, config: pathlib.Path, *command: str) -> list[str]:
    return [str(bin_dir / "mistral-db-manage"), "--config-file", str(config), *command]


def pg_database_url(admin_url: str, database: str) -> str:
    """The SQLAlchemy URL of ``database`` on the server of ``admin_url`` (psycopg2 driver)."""
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(("postgresql+psycopg2", parts.netloc, f"/{database}", "", ""))


def psql_session_argv(admin_url: str) -> list[str]:
    """``psql`` connected as ``admin_url`` says, quiet and stopping at the first error; SQL to add."""
    parts = urllib.parse.urlsplit(admin_url)
    return [
        "psql",
        "-h",
        parts.hostname or "127.0.0.1",
        "-p",
        str(parts.port or 5432),
        "-U",
        urllib.parse.unquote(parts.username or "postgres"),
        "-d",
        parts.path.lstrip("/") or "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-q",
    ]


def psql_argv(admin_url: str, sql: str) -> list[str]:
    return psql_session_argv(admin_url) + ["-c", sql]


def transport_url(rabbit_url: str, vhost: str) -> str:
    """``rabbit_url`` with its virtual host replaced by ``vhost``."""
    parts = urllib.parse.urlsplit(rabbit_url)
    return urllib.parse.urlunsplit(
        (parts.scheme, parts.netloc, "/" + urllib.parse.quote(vhost, safe=""), "", "")
    )


def config_sections(settings: Settings, db_url: str | None, transport: str | None) -> dict[str, dict]:
    """The configuration file shared by every process of the deployment."""
    api = {"host": "127.0.0.1", "port": settings.port}
    if settings.reference:
        # NOTE: its api runs one worker (api_workers is deprecated and ignored in 23.0.0), in a
        # child process of its own: the process table shows it as api/<pid>.
        return {
            "DEFAULT": {"transport_url": transport},
            "database": {"connection": db_url},
            "api": api,
            "pecan": {"auth_enable": False},
        }
    sections: dict[str, dict] = {
        "DEFAULT": {},
        "api": api,
        # Importing ~1200 OpenStack client actions (when mistral-extra is installed) costs seconds of
        # start and much memory; the workloads use std actions only.
        "legacy_action_provider": {"load_action_generators": False},
        # with_items_input_100000 runs ten times the items a with-items task may have by default.
        "engine": {"max_with_items": 100000},
    }
    if settings.kind == "embedded":
        sections["DEFAULT"]["data_dir"] = str(settings.workdir / "data")
    else:
        sections["DEFAULT"].update({"transport_url": transport, "control_exchange": settings.label})
        sections["database"] = {"connection": db_url}
    return sections


def role_sections(settings: Settings, role: Role) -> dict[str, dict]:
    """What one process's configuration adds to the shared file: an executor's host, an API's port, an
    engine's [metrics] port."""
    if settings.reference:
        return {}
    if role.executor_host:
        return {"executor": {"host": role.executor_host}}
    if role.port_offset:
        return {"api": {"port": settings.port + role.port_offset}}
    if role.metrics_port_offset:
        return {"metrics": {"host": "127.0.0.1", "port": settings.port + role.metrics_port_offset}}
    return {}


def render_config(sections: dict[str, dict]) -> str:
    lines: list[str] = []
    for section, options in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in options.items() if value is not None)
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Running it


def _clean_env() -> dict[str, str]:
    """No OpenStack credentials reach the servers (they run with auth off)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OS_")}


def _run(argv: list[str], what: str, timeout: float = 300) -> None:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=_clean_env())
    except (OSError, subprocess.SubprocessError) as e:
        raise DeployError(f"{what}: {e}") from e
    if result.returncode != 0:
        raise DeployError(f"{what} failed ({result.returncode}):\n{(result.stderr + result.stdout)[-2000:]}")


def ensure_reference_venv(venv: pathlib.Path, log: Callable[[str], None] = print) -> None:
    """Install OpenStack Mistral 23.0.0 into ``venv`` unless it is there already."""
    if (venv / "bin" / "mistral-server").exists():
        return
    log(f"installing {' '.join(REFERENCE_PACKAGES)} into {venv} (once; a few minutes)")
    venv.parent.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-m", "venv", str(venv)], "python -m venv")
    _run([str(venv / "bin" / "pip"), "install", "-q", *REFERENCE_PACKAGES], "pip install", timeout=1800)


def _answers(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port`` (a socket in TIME_WAIT does not)."""
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Deployment:
    """Starts the processes of one deployment and stops all of them."""

    def __init__(self, settings: Settings, log: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.log = log
        self.url = f"http://127.0.0.1:{settings.port}"
        self.roles = roles(settings.kind, settings.engines, settings.executors, settings.apis)
        #: every API process's root, the first one (``url``) first
        self.urls = [
            f"http://127.0.0.1:{settings.port + r.port_offset}" for r in self.roles if r.server == "api"
        ] or [self.url]
        #: the Prometheus pages of our engines (their [metrics] ports); none for the reference
        self.engine_metrics_urls = [
            f"http://127.0.0.1:{settings.port + r.metrics_port_offset}/metrics"
            for r in self.roles
            if r.metrics_port_offset and not settings.reference
        ]
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, pathlib.Path] = {}
        self._db_made = False
        self._vhost_made = False

    # -- life cycle

    def ports(self) -> list[int]:
        """The ports this deployment's processes will listen on: every API's, then every engine's metrics."""
        apis = [urllib.parse.urlsplit(url).port for url in self.urls]
        metrics = [urllib.parse.urlsplit(url).port for url in self.engine_metrics_urls]
        return [port for port in apis + metrics if port is not None]

    def start(self) -> None:
        s = self.settings
        for port in self.ports():
            if _answers(port):
                # NOTE: the readiness probe would find that server, and the benchmark would measure it.
                raise DeployError(
                    f"port {port} already answers on 127.0.0.1: stop that server or pass --port-base"
                )
        if s.reference:
            ensure_reference_venv(s.ref_venv, self.log)
        s.workdir.mkdir(parents=True, exist_ok=True)
        db_url = transport = None
        if s.kind != "embedded":
            db_url = self._make_database()
            transport = self._make_vhost()
        else:
            shutil.rmtree(s.workdir / "data", ignore_errors=True)
        config = s.workdir / "server.conf"
        config.write_text(render_config(config_sections(s, db_url, transport)))
        _run(db_manage_argv(s.bin_dir, config, "upgrade", "head"), "mistral-db-manage upgrade head")
        if s.reference:
            _run(db_manage_argv(s.bin_dir, config, "populate"), "mistral-db-manage populate")
        for role in self.roles:
            configs = [config]
            own = role_sections(s, role)
            if own:
                extra = s.workdir / f"{role.name}.conf"
                extra.write_text(render_config(own))
                configs.append(extra)
            self._spawn(role.name, server_argv(s.bin_dir, configs, role.server))
        self.wait_ready()

    def _spawn(self, name: str, argv: list[str]) -> None:
        path = self.settings.workdir / f"{name}.log"
        self.logs[name] = path
        with open(path, "ab") as out:
            out.write(f"\n===== {' '.join(argv)}\n".encode())
            out.flush()
            self.procs[name] = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.settings.workdir,
                env=_clean_env(),
                start_new_session=True,
            )

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise DeployError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def wait_ready(self) -> None:
        """The API answers a database-backed request, and our processes say they listen."""
        deadline = time.monotonic() + self.settings.start_timeout
        for url in self.urls:
            self._wait_answering(f"{url}/v2/workflows", deadline)
        for role in self.roles:
            marker = self.ready_marker(role)
            while marker and marker not in self.tail(role.name, 400):
                self.check_alive()
                if time.monotonic() > deadline:
                    raise DeployError(f"{role.name} did not log {marker!r}:\n{self.tail(role.name)}")
                time.sleep(0.2)

    def _wait_answering(self, probe: str, deadline: float) -> None:
        while True:
            self.check_alive()
            try:
                if requests.get(probe, params={"limit": 1}, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise DeployError(f"the API at {probe} did not answer in {self.settings.start_timeout:g} s")
            time.sleep(0.3)

    def ready_marker(self, role: Role) -> str | None:
        """A line our processes log once they take work; the reference is probed by a warm-up instead."""
        if self.settings.reference:
            return None
        if role.server == "engine":
            return "Engine started"
        if role.server == "executor":
            return f"Executor {role.executor_host} listening"
        return None

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM every process group, SIGKILL what is left after ``timeout``; drop database and vhost."""
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)
            # NOTE: what it forked may outlive it; its group goes too.
            _signal_group(proc, signal.SIGKILL)
        self.procs.clear()
        if self._db_made:
            self._drop_database()
        if self._vhost_made:
            self._drop_vhost()

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs.get(name)
        if path is None or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # -- PostgreSQL and RabbitMQ

    def _make_database(self) -> str:
        self._drop_database()
        _run(
            psql_argv(self.settings.pg_admin_url, f'CREATE DATABASE "{self.settings.label}"'),
            "create database",
        )
        self._db_made = True
        return pg_database_url(self.settings.pg_admin_url, self.settings.label)

    def _drop_database(self) -> None:
        sql = f'DROP DATABASE IF EXISTS "{self.settings.label}" WITH (FORCE)'
        _run(psql_argv(self.settings.pg_admin_url, sql), "drop database")
        self._db_made = False

    def _make_vhost(self) -> str:
        """A virtual host of its own: queue names do not depend on the exchange, so runs would mix."""
        vhost = self.settings.label
        user = urllib.parse.unquote(urllib.parse.urlsplit(self.settings.rabbit_url).username or "guest")
        ctl = shutil.which("rabbitmqctl")
        if ctl is None:
            raise DeployError("rabbitmqctl is not on PATH: a virtual host of its own cannot be made")
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True, timeout=60, check=False)
        _run([ctl, "add_vhost", vhost], "rabbitmqctl add_vhost")
        self._vhost_made = True
        _run([ctl, "set_permissions", "-p", vhost, user, ".*", ".*", ".*"], "rabbitmqctl set_permissions")
        return transport_url(self.settings.rabbit_url, vhost)

    def _drop_vhost(self) -> None:
        ctl = shutil.which("rabbitmqctl")
        if ctl:
            subprocess.run([ctl, "delete_vhost", self.settings.label], capture_output=True, timeout=60)
        self._vhost_made = False


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
