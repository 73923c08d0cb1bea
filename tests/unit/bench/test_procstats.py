"""bench/procstats.py: the /proc parsing and the process table, on a fake /proc."""

from __future__ import annotations

import pathlib

import pytest

from bench import procstats

# A command name with a space and a parenthesis: the fields must be counted from the last ')'.
STAT = "4242 (mistral-server) x) S 4000 4242 4242 0 -1 4194560 1 0 0 0 250 150 0 0 20 0 3 0 100 1 1\n"
STATUS = (
    "Name:\tmistral-server\nVmPeak:\t  500000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t  102400 kB\nThreads:\t3\n"
)


def fake_proc(root: pathlib.Path, pid: int, ppid: int, utime: int = 250, stime: int = 150) -> None:
    d = root / str(pid)
    d.mkdir()
    fields = STAT.split(") S ")[1].split()
    fields[0] = str(ppid)
    fields[10], fields[11] = str(utime), str(stime)
    (d / "stat").write_text(f"{pid} (mistral-server) x) S " + " ".join(fields) + "\n")
    (d / "status").write_text(STATUS)


def test_parse_stat_counts_fields_after_the_last_parenthesis() -> None:
    assert procstats.parse_stat(STAT, clk_tck=100) == (4000, 4.0)


def test_parse_status_reads_rss_and_peak_in_mb() -> None:
    assert procstats.parse_status(STATUS) == {"VmHWM": 150.0, "VmRSS": 100.0}


def test_parse_status_of_a_kernel_thread_has_no_memory() -> None:
    assert procstats.parse_status("Name:\tkthreadd\nState:\tS\n") == {}


def test_sample_all_lists_descendants_under_their_parent(tmp_path: pathlib.Path) -> None:
    fake_proc(tmp_path, 10, 1)
    fake_proc(tmp_path, 11, 10, utime=100, stime=0)
    fake_proc(tmp_path, 12, 11)
    fake_proc(tmp_path, 20, 1)
    samples = procstats.sample_all({"api": 10}, proc_root=str(tmp_path))
    assert [(s.name, s.pid) for s in samples] == [("api", 10), ("api/11", 11), ("api/12", 12)]
    assert samples[1].cpu_s == pytest.approx(100 / procstats.CLK_TCK)
    assert samples[0].rss_mb == 100.0 and samples[0].peak_rss_mb == 150.0


def test_a_process_that_exited_has_no_figures(tmp_path: pathlib.Path) -> None:
    sample = procstats.sample("gone", 99, proc_root=str(tmp_path))
    assert (sample.cpu_s, sample.rss_mb, sample.peak_rss_mb) == (None, None, None)


def test_this_process_can_be_sampled_for_real() -> None:
    import os

    sample = procstats.sample("me", os.getpid())
    assert sample.cpu_s is not None and sample.cpu_s > 0
    assert sample.peak_rss_mb is not None and sample.rss_mb is not None
    assert sample.peak_rss_mb >= sample.rss_mb > 0


def test_peak_rss_and_table() -> None:
    samples = [
        procstats.ProcSample("api", 1, 1.5, 90.0, 120.0).as_dict(),
        procstats.ProcSample("engine-1", 2, None, None, None).as_dict(),
    ]
    assert procstats.peak_rss_mb(samples) == 120.0
    text = procstats.table(samples)
    assert "api" in text and "120.0" in text
    assert text.splitlines()[-1].startswith("total")
    assert procstats.peak_rss_mb([]) is None
