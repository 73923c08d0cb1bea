"""Run Mistral's own Tempest API tests against this service, behind a real Keystone.

Run by the system ``python3`` from anywhere (stdlib only), with Keystone up (``tools/keystone/start.py``):

    python3 tools/tempest/run.py                 # install if needed, run, print and save the outcome
    python3 tools/tempest/run.py --install-only  # only make .tempest-venv (CI does this after Keystone)
    python3 tools/tempest/run.py --serve         # the server as Tempest sees it, until Ctrl-C

Steps: tempest and mistral-tempest-tests (pinned) go into ``.tempest-venv``, reused when present; the
service user and the ``workflowv2`` endpoints are registered in Keystone (the endpoints moved to this
run's port); an embedded server (``mistral-server --server all``, SQLite in the run folder, Keystone auth
on) starts on a free port; ``tempest run`` runs the API tests; the outcome goes to ``results.json``.
Everything of the last run (both configuration files, server.log, tempest.log, the subunit stream) stays
in ``.tempest/last`` (git-ignored). Keystone's address and password come from the variables the tests
read: ``MISTRAL_TEST_KEYSTONE_URL`` and ``MISTRAL_TEST_KEYSTONE_PASSWORD``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import catalog
import results
import settings

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_URL = "http://127.0.0.1:5000/v3"
DEFAULT_PASSWORD = "mistral-test"
#: Pinned: the suite and the Tempest it was released against (issue 10).
PACKAGES = ("tempest==47.0.0", "mistral-tempest-tests==2.10.0")
REGEX = r"^mistral_tempest_tests\.tests\.api\."
#: These three reach wiki.openstack.org, google.ru and httpbingo.org: CI has no internet.
INTERNET_TESTS = (
    "test_run_action_std_http",
    "test_run_action_std_http_error",
    "test_run_action_std_http_non_utf8_response",
)
EXCLUDE = r"\.test_action_executions\.ActionExecutionTestsV2\.(" + "|".join(INTERNET_TESTS) + r")\b"
START_TIMEOUT = 90
STOP_TIMEOUT = 30


def log(message: str) -> None:
    print(f"tempest: {message}", flush=True)


def install(venv: Path) -> None:
    """``venv`` with :data:`PACKAGES`; a venv already holding exactly these is kept as it is."""
    stamp = venv / "mistral-tempest-packages.txt"
    wanted = "\n".join(PACKAGES)
    if (venv / "bin" / "tempest").exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    log(f"installing {' '.join(PACKAGES)} into {venv}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *PACKAGES], check=True)
    stamp.write_text(wanted)


@contextmanager
def keystone_lock(keystone_url: str) -> Iterator[None]:
    """One run at a time per Keystone: each moves the same catalog endpoints to its own server."""
    name = re.sub(r"[^A-Za-z0-9]+", "-", keystone_url).strip("-")
    with open(f"/tmp/mistral-tempest-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(run: settings.Run, mistral_server: Path) -> subprocess.Popen:
    """A fresh run folder with both configuration files, and the server started in it."""
    shutil.rmtree(run.workdir, ignore_errors=True)
    (run.workdir / "data").mkdir(parents=True)
    (run.workdir / "locks").mkdir()
    (run.workdir / "mistral.conf").write_text(settings.mistral_conf(run))
    (run.workdir / "etc").mkdir()
    (run.workdir / "etc" / "tempest.conf").write_text(settings.tempest_conf(run))
    log(f"starting {mistral_server} --server all on port {run.api_port}")
    return subprocess.Popen(
        [str(mistral_server), "--config-file", str(run.workdir / "mistral.conf"), "--server", "all"],
        cwd=run.workdir,
        stdin=subprocess.DEVNULL,
        stdout=open(run.workdir / "server.log", "w"),  # noqa: SIM115 - the child keeps it
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_until_up(run: settings.Run, server: subprocess.Popen) -> None:
    """Any HTTP answer (401 without a token) says the API serves."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{run.api_port}/", timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            tail = (run.workdir / "server.log").read_text()[-3000:]
            raise SystemExit(f"tempest: the server did not answer on port {run.api_port}:\n{tail}")
        time.sleep(0.5)


def stop(server: subprocess.Popen) -> None:
    """SIGTERM stops it gracefully (README.rst); a server that hangs is killed."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def run_tempest(run: settings.Run, venv: Path, concurrency: int, regex: str = REGEX) -> results.Outcome:
    """``tempest run`` in the run folder; its console output goes to ``tempest-run.log``."""
    command = [
        str(venv / "bin" / "tempest"), "run",
        "--config-file", str(run.workdir / "etc" / "tempest.conf"),
        "--regex", regex, "--exclude-regex", EXCLUDE, "--concurrency", str(concurrency),
    ]  # fmt: skip
    log(f"running {regex} (--concurrency {concurrency}); progress in {run.workdir / 'tempest-run.log'}")
    with open(run.workdir / "tempest-run.log", "a") as out:
        # NOTE: the exit status only says whether any test failed; the subunit stream says which.
        subprocess.run(command, cwd=run.workdir, stdout=out, stderr=subprocess.STDOUT, check=False)
    return results.read_last_run(venv, run.workdir)


def run_suite(run: settings.Run, venv: Path, concurrency: int) -> results.Outcome:
    """The API tests, and once more the classes whose setUpClass failed: there Tempest had not reached
    this service yet but was making its users, and a Keystone on SQLite sometimes answers that with a
    500 ("database is locked") when two classes set up at once. A test that ran and failed is not
    retried."""
    outcome = run_tempest(run, venv, concurrency)
    classes = outcome.setup_failures()
    if classes:
        log(f"setUpClass failed for {', '.join(classes)}; running those classes once more")
        regex = "^(" + "|".join(re.escape(name) for name in classes) + r")\."
        outcome = outcome.without_setup_failures().merged(run_tempest(run, venv, 1, regex))
    return outcome


def register(run: settings.Run) -> None:
    keystone = catalog.seed.Keystone(run.keystone_url, run.password)
    catalog.register_service_user(keystone, run.password)
    catalog.register_endpoints(keystone, run.api_url, run.region)
    log(f"{catalog.SERVICE_TYPE} endpoints in {run.region}: {run.api_url}")


def serve_forever(run: settings.Run, server: subprocess.Popen) -> None:
    log(f"serving {run.api_url} (config {run.workdir / 'mistral.conf'}); Ctrl-C stops it")
    print(
        f"export OS_AUTH_URL={run.keystone_url} OS_USERNAME=admin OS_PASSWORD={run.password} "
        "OS_PROJECT_NAME=admin OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default",
        flush=True,
    )
    try:
        server.wait()
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keystone-url", default=os.environ.get("MISTRAL_TEST_KEYSTONE_URL", DEFAULT_URL))
    parser.add_argument(
        "--password", default=os.environ.get("MISTRAL_TEST_KEYSTONE_PASSWORD", DEFAULT_PASSWORD)
    )
    parser.add_argument("--region", default="RegionOne")
    parser.add_argument("--venv", type=Path, default=ROOT / ".tempest-venv")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".tempest" / "last")
    parser.add_argument("--mistral-server", type=Path, default=ROOT / ".venv" / "bin" / "mistral-server")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--install-only", action="store_true", help="only make the Tempest virtualenv")
    parser.add_argument("--no-install", action="store_true", help="fail instead of making the virtualenv")
    parser.add_argument("--serve", action="store_true", help="register and start the server, run nothing")
    args = parser.parse_args(argv)
    venv = args.venv.absolute()
    if args.no_install and not (venv / "bin" / "tempest").exists():
        raise SystemExit(f"tempest: no Tempest in {venv} (python3 tools/tempest/run.py --install-only)")
    started = time.monotonic()
    if not args.no_install:
        install(venv)
    if args.install_only:
        log(f"{venv} ready in {time.monotonic() - started:.0f} s")
        return 0
    run = settings.Run(args.workdir.absolute(), args.keystone_url, args.password, args.region, free_port())
    with keystone_lock(run.keystone_url):
        register(run)
        server = prepare(run, args.mistral_server.absolute())
        try:
            wait_until_up(run, server)
            if args.serve:
                serve_forever(run, server)
                return 0
            tempest_started = time.monotonic()
            outcome = run_suite(run, venv, args.concurrency)
            seconds = time.monotonic() - tempest_started
        finally:
            stop(server)
    (run.workdir / "results.json").write_text(json.dumps(outcome.as_dict(), indent=1))
    log(
        f"{len(outcome.passed)} passed, {len(outcome.failed)} failed, {len(outcome.skipped)} skipped "
        f"in {seconds:.0f} s; {run.workdir / 'results.json'}"
    )
    for test_id in outcome.failed:
        log(f"FAILED {test_id}")
    for test_id in outcome.cleanup_failed:
        log(f"cleanup failed (Keystone users/projects left behind): {test_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
