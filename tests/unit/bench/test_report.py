"""bench/report.py: percentiles, hop latencies from timestamps, and the tables."""

from __future__ import annotations

from bench import report


def task(created: str, updated: str) -> dict:
    return {"created_at": created, "updated_at": updated}


def test_percentiles_and_spread() -> None:
    assert report.pct([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert report.pct([float(i) for i in range(1, 101)], 99) == 99.0
    assert report.pct([], 50) is None
    assert report.spread_ms([0.003, 0.001, 0.002]) == {"n": 3, "p50": 2.0, "p95": 3.0, "max": 3.0}


def test_hops_from_subsecond_timestamps_in_creation_order() -> None:
    tasks = [
        task("2026-01-01 00:00:00.010000", "2026-01-01 00:00:00.020000"),
        task("2026-01-01 00:00:00.000000", "2026-01-01 00:00:00.008000"),
        task("2026-01-01 00:00:00.025000", "2026-01-01 00:00:00.030000"),
    ]
    hops = report.hop_latencies(tasks)
    assert hops is not None
    assert [round(h * 1000, 3) for h in hops] == [2.0, 5.0]


def test_hops_are_unknown_with_whole_second_timestamps() -> None:
    tasks = [
        task("2026-01-01 00:00:00", "2026-01-01 00:00:01"),
        task("2026-01-01 00:00:01", "2026-01-01 00:00:01"),
    ]
    assert report.hop_latencies(tasks) is None
    assert report.hop_latencies([]) is None


def test_server_figure_shows_fractions_only_when_there_are_some() -> None:
    assert report.fmt_server(3.0) == "3"
    assert report.fmt_server(0.1234) == "0.123"
    assert report.fmt_server(None) == "-"


def test_summary_table_shows_post_time_targets_and_skips() -> None:
    results = {
        "chain_50": {"state": "SUCCESS", "wall_s": 0.08, "start_request_s": 0.004, "rate": 625.0,
                     "unit": "tasks", "peak_rss_mb": 80.0, "target": {"text": "<= 0.1 s", "pass": True}},
        "with_items_input_100000": {"state": "SKIPPED", "reason": "too slow there"},
    }  # fmt: skip
    text = report.summary_table(results)
    chain = next(line for line in text.splitlines() if line.startswith("chain_50"))
    assert "PASS (<= 0.1 s)" in chain and "4.000" in chain and "80.000" in chain
    assert "too slow there" in text
    assert "SKIPPED" in report.workload_line("with_items_input_100000", results["with_items_input_100000"])


def test_process_matrix_shows_cpu_per_workload_and_totals() -> None:
    def s(name: str, cpu: float, rss: float) -> dict:
        return {"name": name, "pid": 1, "cpu_s": cpu, "rss_mb": rss, "peak_rss_mb": rss + 10}

    rows = [
        ("start", [s("api", 2.0, 50), s("engine-1", 1.0, 60)]),
        ("fanout_1000", [s("api", 2.5, 55), s("engine-1", 4.0, 70)]),
        ("end", [s("api", 3.0, 56), s("engine-1", 4.5, 71)]),
    ]
    lines = report.process_matrix(rows).splitlines()
    assert "api" in lines[1] and "engine-1" in lines[1]
    start, fanout, end = lines[3], lines[4], lines[5]
    assert "2.0/50/60" in start
    assert "0.5/55/65" in fanout and "3.0/70/80" in fanout
    assert "3.0/56/66" in end and "4.5/71/81" in end
    assert report.process_matrix([]) == ""


def test_compare_table_gives_the_ratio_reference_over_ours() -> None:
    ours = {
        "fanout_100": {"state": "SUCCESS", "wall_s": 0.5},
        "chain_50": {"state": "SUCCESS", "wall_s": 1.0},
    }
    ref = {"fanout_100": {"state": "SUCCESS", "wall_s": 20.0}, "chain_50": {"state": "TIMEOUT"}}
    text = report.compare_table(ours, ref, "distributed", "reference")
    fanout = next(line for line in text.splitlines() if line.startswith("fanout_100"))
    chain = next(line for line in text.splitlines() if line.startswith("chain_50"))
    assert fanout.split()[-1] == "x40.0"
    assert "TIMEOUT" in chain and chain.split()[-1] == "-"


def test_process_matrix_keeps_its_columns_under_a_long_workload_label() -> None:
    sample = [{"name": "all", "pid": 1, "cpu_s": 1.0, "rss_mb": 100, "peak_rss_mb": 110}]
    lines = report.process_matrix([("start", sample), ("with_items_published_10000 #2", sample)]).splitlines()
    assert len({len(line) for line in (lines[1], lines[3], lines[4])}) == 1
