"""bench/console.py: its options, and the script runs outside the package (no browser is started)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

from bench import console

CONSOLE_PY = pathlib.Path(__file__).resolve().parents[3] / "bench" / "console.py"


def test_console_py_as_a_script_reads_the_options() -> None:
    done = subprocess.run(
        [sys.executable, str(CONSOLE_PY), "--help"], capture_output=True, text=True, timeout=60, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    for option in ("--deploy", "--url", "--runs", "--items", "--overhead-runs", "--screenshots"):
        assert option in done.stdout


def test_the_defaults_measure_a_10000_item_with_items_and_keep_the_executions() -> None:
    args = console.parse_args([])
    assert args.items == "with_items_10000"
    assert (args.deploy, args.runs, args.overhead_runs) == ("url", 3, 3)
    # Bench.cleanup reads these: the workflows go, the executions stay.
    assert (args.keep, args.delete_executions) == (False, False)


def test_only_with_items_workloads_are_offered() -> None:
    args = console.parse_args(["--items", "with_items_10000_c50"])
    assert args.items == "with_items_10000_c50"
