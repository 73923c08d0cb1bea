"""``mistral-server`` logs through oslo.log, as any OpenStack service: ``[DEFAULT] log_file`` and friends.

Each test starts the real command on its own SQLite file and port, stops it with SIGTERM and
reads what it wrote where.
"""

from __future__ import annotations

import pathlib
import signal
import subprocess
from typing import Any

import requests

from tests import polling
from tests.integration import processes

START_TIMEOUT = 60


class Run:
    """One ``mistral-server --server all`` with the given config sections; stdout and stderr kept apart."""

    def __init__(self, workdir: pathlib.Path, sections: dict[str, dict[str, Any]], *args: str) -> None:
        self.workdir = workdir
        port = processes.free_port()
        self.v2 = f"http://127.0.0.1:{port}/v2"
        sections = {
            **sections,
            "DEFAULT": {"data_dir": workdir / "data", **sections.get("DEFAULT", {})},
            "api": {"host": "127.0.0.1", "port": port},
        }
        self.config = processes.write_config(workdir / "mistral.conf", sections)
        self.argv = [processes.MISTRAL_SERVER, "--config-file", str(self.config), "--server", "all", *args]
        self.stdout = workdir / "stdout"
        self.stderr = workdir / "stderr"

    def __enter__(self) -> Run:
        processes.migrate(self.config)
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.process = subprocess.Popen(
                self.argv, stdout=out, stderr=err, cwd=self.workdir, env=processes.clean_env()
            )
        polling.wait_for(
            f"GET {self.v2}",
            lambda: requests.get(self.v2, timeout=2).status_code == 200,
            START_TIMEOUT,
            check=self._check_alive,
        )
        return self

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            code, err = self.process.returncode, self.stderr.read_text()
            raise AssertionError(f"mistral-server exited {code}: {err}")

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def test_log_file_gets_the_log_and_stdout_nothing(tmp_path: pathlib.Path) -> None:
    log_file = tmp_path / "logs" / "mistral-api.log"
    log_file.parent.mkdir()
    with Run(tmp_path, {"DEFAULT": {"log_file": log_file}}) as run:
        requests.get(f"{run.v2}/workflows", timeout=10).raise_for_status()

    assert run.process.returncode == 0
    text = log_file.read_text()
    assert "API listening on http://127.0.0.1:" in text
    assert " INFO mistral.server " in text and "Stopped" in text
    assert run.stdout.read_text() == ""
    assert run.stderr.read_text() == ""


def test_log_dir_and_debug_and_use_stderr(tmp_path: pathlib.Path) -> None:
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    sections = {"DEFAULT": {"log_dir": log_dir, "debug": "true", "use_stderr": "true"}}
    with Run(tmp_path, sections) as run:
        ran = requests.post(f"{run.v2}/action_executions", json={"name": "std.noop"}, timeout=30)
        assert ran.status_code == 201, ran.text

    # oslo.log names the file after the program when only log_dir is given
    text = (log_dir / "mistral-server.log").read_text()
    assert " DEBUG " in text and "API listening" in text
    assert "API listening" in run.stderr.read_text()


def test_without_a_log_file_the_log_goes_to_stdout(tmp_path: pathlib.Path) -> None:
    with Run(tmp_path, {}) as run:
        pass

    assert "API listening" in run.stdout.read_text()
    assert " DEBUG " not in run.stdout.read_text()


def test_log_config_append_takes_over(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "from-logging-conf.log"
    logging_conf = tmp_path / "logging.conf"
    logging_conf.write_text(
        "[loggers]\nkeys=root\n\n[handlers]\nkeys=file\n\n[formatters]\nkeys=plain\n\n"
        "[logger_root]\nlevel=INFO\nhandlers=file\n\n"
        f"[handler_file]\nclass=FileHandler\nformatter=plain\nargs=({str(target)!r},)\n\n"
        "[formatter_plain]\nformat=CUSTOM %(name)s %(message)s\n"
    )
    with Run(tmp_path, {"DEFAULT": {"log_config_append": logging_conf}}) as run:
        pass

    assert "CUSTOM mistral.launcher API listening" in target.read_text()
    assert run.stdout.read_text() == ""


def test_the_oslo_log_options_are_on_the_command_line() -> None:
    shown = subprocess.run(
        [processes.MISTRAL_SERVER, "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for option in ("--log-file", "--log-dir", "--debug", "--log-config-append", "--use-syslog"):
        assert option in shown


BROKEN = """
version: '2.0'
broken:
  tasks:
    t:
      action: std.echo output=<% int('many') %>
"""


def test_a_line_about_a_task_names_its_execution_and_task(tmp_path: pathlib.Path) -> None:
    log_file = tmp_path / "mistral.log"
    with Run(tmp_path, {"DEFAULT": {"log_file": log_file}}) as run:
        text = {"Content-Type": "text/plain"}
        created = requests.post(f"{run.v2}/workflows", data=BROKEN, headers=text, timeout=30)
        assert created.status_code == 201, created.text
        started = requests.post(f"{run.v2}/executions", json={"workflow_name": "broken"}, timeout=30)
        ex_id = started.json()["id"]
        polling.wait_for(
            "the execution to fail",
            lambda: requests.get(f"{run.v2}/executions/{ex_id}", timeout=30).json()["state"] == "ERROR",
        )
        listed = requests.get(f"{run.v2}/tasks", params={"workflow_execution_id": ex_id}, timeout=30)
        (task,) = listed.json()["tasks"]

    lines = log_file.read_text().splitlines()
    (failed,) = [line for line in lines if f"Task t ({task['id']}) failed" in line]
    assert f" [exec={ex_id} task={task['id']}] Task t (" in failed
    (finished,) = [line for line in lines if f"Workflow broken ({ex_id}) finished" in line]
    assert f" [exec={ex_id}] Workflow broken" in finished
