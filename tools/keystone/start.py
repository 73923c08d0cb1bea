"""Install, configure and start a Keystone for the tests, with the identities they use.

Run by the system ``python3`` from anywhere: ``python3 tools/keystone/start.py`` (``--stop`` stops it).
Keystone goes into its own virtualenv (``.keystone-venv``) and keeps its SQLite database, fernet and
credential keys, configuration and logs under ``.keystone/``, both git-ignored. Idempotent: when
Keystone already answers it only checks the identities; an existing virtualenv and database are reused.
A Keystone this tool started from a folder since deleted (a CI clone's) still answers, with 500 to every
token request: it is stopped first, and a new one started.

The address and password come from the same variables the tests read (README.rst, "Run the tests"):
``MISTRAL_TEST_KEYSTONE_URL`` (``http://127.0.0.1:5000/v3``) and ``MISTRAL_TEST_KEYSTONE_PASSWORD``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import seed

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DEFAULT_URL = "http://127.0.0.1:5000/v3"
DEFAULT_PASSWORD = "mistral-test"
#: Pinned so that a CI run from nothing installs what was tried.
PACKAGES = ("keystone==30.0.0", "gunicorn==27.0.1")
START_TIMEOUT = 120


def log(message: str) -> None:
    print(f"keystone: {message}", flush=True)


def install(venv: Path) -> None:
    if (venv / "bin" / "keystone-manage").exists() and (venv / "bin" / "gunicorn").exists():
        return
    log(f"installing {' '.join(PACKAGES)} into {venv}")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *PACKAGES], check=True)


def write_config(state: Path, url: str) -> Path:
    conf = state / "keystone.conf"
    conf.write_text(
        "[DEFAULT]\n"
        f"log_file = {state / 'keystone.log'}\n"
        # NOTE: Tempest sets up test classes side by side, each making users and projects: SQLite's
        # default 5 s lock wait gave "database is locked" 500s on a loaded machine.
        "[database]\n"
        f"connection = sqlite:///{state / 'keystone.db'}?timeout=60\n"
        # NOTE: a test Keystone only: bcrypt's cheapest cost, as every test token starts with a password.
        "[identity]\n"
        "password_hash_rounds = 4\n"
        "[token]\n"
        "provider = fernet\n"
        "[fernet_tokens]\n"
        f"key_repository = {state / 'fernet-keys'}\n"
        "[credential]\n"
        f"key_repository = {state / 'credential-keys'}\n"
    )
    return conf


def bootstrap(venv: Path, state: Path, url: str, password: str) -> None:
    """A database with the admin user, project and role, and the keys; once per ``state`` folder."""
    done = state / "bootstrapped"
    if done.exists():
        return
    log(f"bootstrapping {state}")
    (state / "keystone.db").unlink(missing_ok=True)
    for keys in ("fernet-keys", "credential-keys"):
        (state / keys).mkdir(mode=0o700, exist_ok=True)
    conf = write_config(state, url)
    manage = [str(venv / "bin" / "keystone-manage"), "--config-file", str(conf)]
    owner = ["--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid())]
    with open(state / "keystone-manage.log", "a") as out:
        for command in (
            ["db_sync"],
            ["fernet_setup", *owner],
            ["credential_setup", *owner],
            ["bootstrap", "--bootstrap-password", password, "--bootstrap-region-id", "RegionOne",
             "--bootstrap-admin-url", url, "--bootstrap-public-url", url, "--bootstrap-internal-url", url],
        ):  # fmt: skip
            subprocess.run([*manage, *command], check=True, stdout=out, stderr=subprocess.STDOUT)
    done.touch()


def serve(venv: Path, state: Path, url: str) -> subprocess.Popen:
    """gunicorn in its own session, detached from our output so that callers do not wait on it."""
    address = urllib.parse.urlsplit(url)
    pidfile = state / "gunicorn.pid"
    if pidfile.exists() and not alive(int(pidfile.read_text().strip() or -1)):
        pidfile.unlink()  # left by a crash or a reboot
    log(f"starting on {address.netloc}")
    env = {**os.environ, "OS_KEYSTONE_CONFIG_FILES": str(state / "keystone.conf")}
    # NOTE: one worker: two processes on one SQLite file can each hold a read lock and want the
    # write lock, and one of them then fails at once with "database is locked" (no timeout helps);
    # a Tempest run's cleanup got a 500 from Keystone that way.
    command = [
        str(venv / "bin" / "gunicorn"),
        "--bind", address.netloc, "--workers", "1", "--timeout", "120",
        "--pid", str(pidfile), "--error-logfile", str(state / "gunicorn.log"),
        "--no-control-socket", "--pythonpath", str(HERE), "keystone_wsgi:application",
    ]  # fmt: skip
    return subprocess.Popen(
        command,
        env=env,
        cwd=state,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(state / "gunicorn.log", "a"),  # noqa: SIM115 - the child keeps it
        start_new_session=True,
    )


def wait_until_up(url: str, state: Path, gunicorn: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not seed.answers(url):
        # NOTE: gunicorn exits at once when the port is taken by something that is not Keystone.
        if gunicorn.poll() is not None or time.monotonic() > deadline:
            tail = (state / "gunicorn.log").read_text()[-3000:]
            raise SystemExit(f"keystone: no answer from {url}; gunicorn.log ends with:\n{tail}")
        time.sleep(1)


def stop(state: Path) -> None:
    pidfile = state / "gunicorn.pid"
    if not pidfile.exists():
        log("not running (no gunicorn.pid)")
        return
    pid = int(pidfile.read_text())
    log(f"stopping gunicorn {pid}")
    # NOTE: gunicorn removes its pid file last; a start before that would refuse to run.
    terminate(pid)
    pidfile.unlink(missing_ok=True)


def terminate(pid: int, wait: float = 30.0) -> None:
    """SIGTERM ``pid`` and wait up to ``wait`` seconds for it to end; then SIGKILL it."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def keystone_state(argv: list[str]) -> Path | None:
    """The state folder of a Keystone that ``serve`` started, from its command line; None for others."""
    if "keystone_wsgi:application" not in argv or "--pid" not in argv[:-1]:
        return None
    return Path(argv[argv.index("--pid") + 1]).parent


def orphaned_keystones(bind: str) -> list[int]:
    """Keystones of ours on ``bind`` ("host:port") whose state folder is gone (a deleted clone's).

    NOTE: such a Keystone still answers, but with 500 to every token request (its database is gone).
    """
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue  # ended meanwhile, or not ours to read
        state = keystone_state(argv)
        if state is not None and "--bind" in argv[:-1] and argv[argv.index("--bind") + 1] == bind:
            if not state.exists():
                found.append(int(proc.name))
    return found


def stop_orphans(bind: str) -> None:
    """Stop the Keystones ``orphaned_keystones`` finds, so that ours can take the port."""
    for pid in orphaned_keystones(bind):
        log(f"stopping gunicorn {pid}: its folder is gone (a deleted clone's), so it cannot issue tokens")
        terminate(pid)


def alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        # NOTE: a process that ended and whose parent has not reaped it yet (a zombie) is not alive.
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("MISTRAL_TEST_KEYSTONE_URL", DEFAULT_URL))
    parser.add_argument(
        "--password", default=os.environ.get("MISTRAL_TEST_KEYSTONE_PASSWORD", DEFAULT_PASSWORD)
    )
    parser.add_argument("--venv", type=Path, default=ROOT / ".keystone-venv")
    parser.add_argument("--state", type=Path, default=ROOT / ".keystone")
    parser.add_argument("--stop", action="store_true", help="stop the Keystone this tool started")
    args = parser.parse_args(argv)
    state = args.state.resolve()
    state.mkdir(parents=True, exist_ok=True)
    if args.stop:
        stop(state)
        return
    started = time.monotonic()
    stop_orphans(urllib.parse.urlsplit(args.url).netloc)
    if seed.answers(args.url):
        log(f"already answering at {args.url}")
    else:
        install(args.venv.resolve())
        bootstrap(args.venv.resolve(), state, args.url, args.password)
        gunicorn = serve(args.venv.resolve(), state, args.url)
        wait_until_up(args.url, state, gunicorn)
    seed.seed(args.url, args.password)
    log(f"ready at {args.url} in {time.monotonic() - started:.0f} s (logs in {state})")


if __name__ == "__main__":
    main()
