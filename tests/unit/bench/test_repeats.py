"""bench/repeats.py: which run of a workload repeated with --runs is reported."""

from __future__ import annotations

from bench import repeats


def _ok(wall: float, **more: object) -> dict[str, object]:
    return {"state": "SUCCESS", "wall_s": wall, **more}


def test_one_pass_is_reported_as_it_is() -> None:
    results = {"chain_50": _ok(0.1)}
    assert repeats.combine([results]) is results
    assert repeats.runs_text(results["chain_50"]) == ""


def test_the_median_run_by_wall_time_is_reported_whole() -> None:
    passes = [
        {"chain_50": _ok(0.3, post_ms=3)},
        {"chain_50": _ok(0.1, post_ms=1)},
        {"chain_50": _ok(0.2, post_ms=2)},
    ]
    chain = repeats.combine(passes)["chain_50"]
    assert (chain["wall_s"], chain["post_ms"]) == (0.2, 2)
    assert (chain["runs_wall_s"], chain["failed_runs"]) == ([0.3, 0.1, 0.2], 0)
    assert repeats.runs_text(chain) == "runs 0.300 / 0.100 / 0.200 s"


def test_of_an_even_count_the_lower_middle_run() -> None:
    assert repeats.reported_run([_ok(4), _ok(1), _ok(3), _ok(2)])["wall_s"] == 2


def test_a_run_that_failed_is_reported_in_place_of_the_median() -> None:
    failed = {"state": "FAILED", "error": "boom"}
    passes = [{"fanout_1000": _ok(0.6)}, {"fanout_1000": failed}, {"fanout_1000": _ok(0.7)}]
    fanout = repeats.combine(passes)["fanout_1000"]
    assert (fanout["state"], fanout["error"], fanout["failed_runs"]) == ("FAILED", "boom", 1)
    assert repeats.runs_text(fanout) == "runs 0.600 / - / 0.700 s, 1 of 3 not done"


def test_workloads_keep_the_order_they_ran_in_and_a_pass_cut_short_counts_what_ran() -> None:
    passes = [{"fanout_1000": _ok(0.6), "chain_50": _ok(0.1)}, {"fanout_1000": _ok(0.5)}]
    combined = repeats.combine(passes)
    assert list(combined) == ["fanout_1000", "chain_50"]
    assert combined["chain_50"]["runs_wall_s"] == [0.1]
    assert repeats.reported_run([{"state": "SKIPPED", "reason": "x"}])["state"] == "SKIPPED"
