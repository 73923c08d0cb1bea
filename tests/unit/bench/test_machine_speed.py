"""bench/machine_speed.py: the machine's pure-Python yardstick, recorded with every run."""

from __future__ import annotations

import pathlib
import sys

from bench import machine_speed


def _fake_python(tmp_path: pathlib.Path, prints: str) -> str:
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\necho '{prints}'\n")
    script.chmod(0o755)
    return str(script)


def test_the_loop_is_timed_in_a_python_of_its_own() -> None:
    seconds = machine_speed.python_loop_s(sys.executable)
    assert seconds is not None and 0 < seconds < machine_speed.TIMEOUT_S


def test_the_fastest_time_the_child_prints_is_the_figure(tmp_path: pathlib.Path) -> None:
    assert machine_speed.python_loop_s(_fake_python(tmp_path, "0.41234")) == 0.412


def test_a_child_that_fails_or_prints_no_number_gives_no_figure(tmp_path: pathlib.Path) -> None:
    assert machine_speed.python_loop_s(str(tmp_path / "missing")) is None
    assert machine_speed.python_loop_s(_fake_python(tmp_path, "Traceback")) is None


def test_the_report_line_names_the_loop_and_both_times() -> None:
    line = machine_speed.summary(0.63, None)
    assert machine_speed.LOOP in line
    assert "0.630 s before the run, - after" in line
