"""bench/run.py: the entry point works when run as a script, outside the package."""

from __future__ import annotations

import pathlib
import subprocess
import sys

RUN_PY = pathlib.Path(__file__).resolve().parents[3] / "bench" / "run.py"


def test_run_py_as_a_script_reads_the_options() -> None:
    # As a script, bench/ is sys.path[0]: a module there named like a standard one would shadow it.
    done = subprocess.run(
        [sys.executable, str(RUN_PY), "--help"], capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    for option in ("--deploy", "--compare", "--workload", "--dry-run", "--dump-dir"):
        assert option in done.stdout
    assert "--self-check" not in done.stdout
