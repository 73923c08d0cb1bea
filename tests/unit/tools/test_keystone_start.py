"""``tools/keystone/start.py`` stops a Keystone of ours whose folder is gone before it starts its own.

NOTE: a CI clone deleted while its Keystone ran leaves a gunicorn that still answers on the port, with
500 to every token request; reusing it failed the next CI run before any test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

# NOTE: tools/ is no package (system python3 runs it); its folder is on the path only for this import.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools" / "keystone"))
try:
    import start
finally:
    sys.path.pop(0)


def _fake_keystone(state: Path, bind: str) -> subprocess.Popen:
    """A process whose command line is the one ``start.serve`` runs (it only sleeps)."""
    pidfile = state / "gunicorn.pid"
    argv = ["--bind", bind, "--pid", str(pidfile), "keystone_wsgi:application"]
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *argv])


def test_a_keystone_whose_folder_is_gone_is_found_and_stopped(tmp_path: Path) -> None:
    gone = tmp_path / "gone" / ".keystone"
    gone.mkdir(parents=True)
    kept = tmp_path / "kept" / ".keystone"
    kept.mkdir(parents=True)
    orphan = _fake_keystone(gone, "127.0.0.1:5999")
    live = _fake_keystone(kept, "127.0.0.1:5999")
    elsewhere = _fake_keystone(tmp_path / "missing-too", "127.0.0.1:5998")
    try:
        gone.rmdir()
        time.sleep(0.2)
        assert start.orphaned_keystones("127.0.0.1:5999") == [orphan.pid]
        start.stop_orphans("127.0.0.1:5999")
        assert orphan.wait(10) is not None
        assert live.poll() is None and elsewhere.poll() is None, "only the orphan on that address"
    finally:
        for process in (orphan, live, elsewhere):
            process.kill()
            process.wait()


@pytest.mark.parametrize("args", [[], ["--bind", "127.0.0.1:5999"], ["--pid"]])
def test_other_command_lines_are_not_keystones(args: list[str]) -> None:
    assert start.keystone_state(["gunicorn", *args]) is None
