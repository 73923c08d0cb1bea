"""A regular install, as a package or container build makes it: sdist, then a wheel built from it.

The wheel goes into a fresh virtualenv without ``-e`` and everything runs from a
directory outside the source tree, so the checkout cannot stand in for a file the
package forgot: ``mistral-db-manage upgrade head`` on SQLite and PostgreSQL, then
``mistral-server --server all`` running ``std.echo`` through REST and the real client.

NOTE: the new virtualenv reuses this test run's installed dependencies through a
``.pth`` line (a plain path: the editable install's own ``.pth`` hooks in that
folder are not run from there), so installing takes seconds and needs no index.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from mistralclient.api import client as mistral_client

from tests import polling
from tests.integration import processes

ROOT = pathlib.Path(__file__).resolve().parents[2]
MIGRATIONS = "mistral/db/migration/alembic_migrations"
#: Files the service opens by path at run time (everything else it imports).
RUNTIME_DATA = (f"{MIGRATIONS}/script.py.mako", f"{MIGRATIONS}/env.py")


class Install:
    """The wheel installed into its own virtualenv, and where it lives."""

    def __init__(self, workdir: pathlib.Path, sdist: pathlib.Path, wheel: pathlib.Path) -> None:
        self.workdir = workdir
        self.sdist = sdist
        self.wheel = wheel
        self.venv = workdir / "venv"
        self.bin = self.venv / "bin"

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, cwd=self.workdir, env=processes.clean_env()
        )


def _build(source: pathlib.Path, out: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    # NOTE: without isolation: the build backend of this test run, so no index is needed.
    # Without --sdist/--wheel, build makes the sdist first and the wheel from the sdist,
    # so a file the sdist leaves out is missing from the wheel too.
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert built.returncode == 0, built.stderr[-4000:] + built.stdout[-4000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def _make_venv(install: Install) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(install.venv)], check=True, timeout=60)
    site = pathlib.Path(
        sysconfig.get_path("purelib", vars={"base": str(install.venv), "platbase": str(install.venv)})
    )
    (site / "reuse_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(install.bin / "python"), "install", "--quiet",
         "--no-deps", "--no-index", str(install.wheel)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    workdir = tmp_path_factory.mktemp("installed")
    # NOTE: from a copy: setuptools reuses a build/ folder or egg-info left in the tree, which
    # can hold files the package data no longer names.
    source = workdir / "source"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__")
    )
    started = time.monotonic()
    sdist, wheel = _build(source, workdir / "dist")
    built = time.monotonic()
    shutil.rmtree(source)
    installed = Install(workdir, sdist, wheel)
    _make_venv(installed)
    print(f"sdist + wheel: {built - started:.1f} s, venv + install: {time.monotonic() - built:.1f} s")
    return installed


def _shipped() -> set[str]:
    """Every file of the package that is not Python source, as git knows them."""
    listed = subprocess.run(
        ["git", "ls-files", "mistral"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return {path for path in listed if not path.endswith(".py")} | set(RUNTIME_DATA)


def test_sdist_and_wheel_carry_every_migration_and_data_file(install: Install) -> None:
    migrations = {p.relative_to(ROOT).as_posix() for p in (ROOT / MIGRATIONS / "versions").glob("*.py")}
    wanted = migrations | _shipped()
    in_wheel = set(zipfile.ZipFile(install.wheel).namelist())
    assert migrations and not wanted - in_wheel, sorted(wanted - in_wheel)
    with tarfile.open(install.sdist) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert not wanted - in_sdist, sorted(wanted - in_sdist)
    # The sample configuration and the README an operator reads come with the source.
    assert {"etc/mistral.conf.sample", "README.rst", "setup.cfg"} <= in_sdist


def test_the_installed_package_is_the_one_that_runs(install: Install) -> None:
    done = install.run(str(install.bin / "python"), "-c", "import mistral; print(mistral.__file__)")
    assert done.returncode == 0, done.stderr
    assert pathlib.Path(done.stdout.strip()).is_relative_to(install.venv), done.stdout


def _config(install: Install, name: str, db_url: str, port: int) -> pathlib.Path:
    return processes.write_config(
        install.workdir / f"{name}.conf",
        {
            "database": {"connection": db_url},
            "api": {"host": "127.0.0.1", "port": port},
            "pecan": {"auth_enable": "false"},
        },
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, install: Install) -> Iterator[str]:
    """``mistral-server --server all`` of the installed package, on a migrated database; its /v2 URL."""
    if request.param == "sqlite":
        db_url = f"sqlite:///{install.workdir / 'mistral.sqlite'}"
    else:
        db_url = request.getfixturevalue("postgres_url")
    port = processes.free_port()
    config = _config(install, request.param, db_url, port)
    started = time.monotonic()
    migrated = install.run(
        str(install.bin / "mistral-db-manage"), "--config-file", str(config), "upgrade", "head"
    )
    assert migrated.returncode == 0, migrated.stderr + migrated.stdout
    print(f"upgrade head on {request.param}: {time.monotonic() - started:.1f} s")
    argv = [str(install.bin / "mistral-server"), "--config-file", str(config), "--server", "all"]
    proc = processes.Process(request.param, argv, install.workdir / f"{request.param}.log", install.workdir)
    proc.start()
    v2 = f"http://127.0.0.1:{port}/v2"
    try:
        polling.wait_for(f"GET {v2}", lambda: requests.get(v2, timeout=2).ok, 45, check=proc.check_alive)
        yield v2
    except BaseException:
        print(proc.tail(80))
        raise
    finally:
        processes.stop_all([proc])


def _wait_execution(client: Any, ex_id: str) -> Any:
    return polling.wait_for(
        f"execution {ex_id}",
        lambda: (ex := client.executions.get(ex_id)).state not in ("IDLE", "RUNNING") and ex,
        30,
    )


def test_the_installed_server_runs_std_echo(server: str) -> None:
    direct = requests.post(
        f"{server}/action_executions", json={"name": "std.echo", "input": {"output": "from REST"}}, timeout=30
    )
    assert direct.status_code == 201, direct.text
    assert direct.json()["output"] == '{"result": "from REST"}'

    client = mistral_client.client(mistral_url=server)
    assert client.action_executions.create("std.echo", {"output": "hi"}).output == '{"result": "hi"}'
    client.workflows.create(
        "version: '2.0'\ninstalled_echo:\n  tasks:\n    say:\n      action: std.echo output=installed\n"
        "      publish:\n        said: <% task().result %>\n"
    )
    ex = _wait_execution(client, client.executions.create("installed_echo").id)
    assert ex.state == "SUCCESS", ex.state_info
    assert '"said": "installed"' in ex.output


def test_the_installed_server_serves_the_console(server: str) -> None:
    base = server.removesuffix("/v2")
    page = requests.get(f"{base}/ui/", timeout=30)
    assert page.status_code == 200 and "static/js/app.js" in page.text
    for script in ("js/app.js", "js/views/execution.js"):
        answer = requests.get(f"{base}/ui/static/{script}", timeout=30)
        assert answer.status_code == 200, script
        assert answer.headers["Content-Type"].startswith("text/javascript"), script


def test_the_installed_server_runs_a_dynamic_action(server: str) -> None:
    """The child process that runs uploaded code starts from the installed package too."""
    client = mistral_client.client(mistral_url=server)
    client.code_sources.create("installed_code", CODE)
    client.dynamic_actions.create("installed_where", "Where", "installed_code")
    ran = client.action_executions.create("installed_where", {})
    assert ran.state == "SUCCESS", ran.output
    assert "/venv/" in ran.output and "/site-packages/mistral/" in ran.output, ran.output


CODE = """\
import mistral
from mistral_lib import actions


class Where(actions.Action):
    def run(self, context):
        return mistral.__file__
"""
