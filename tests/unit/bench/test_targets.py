"""bench/targets.py: issue 14's figures, judged for our deployments only."""

from __future__ import annotations

from bench import targets


def ok(wall: float, **kw: object) -> dict:
    return {"state": "SUCCESS", "wall_s": wall, **kw}


def embedded_results(scale: float = 1.0) -> dict:
    return {
        "chain_50": ok(0.09 * scale, output_ok=True, hop_ms={"p50": 0.8}),
        "concurrent_50": ok(0.3 * scale, failed_requests=0, post_ms={"p50": 10.0}),
        "fanout_1000": ok(0.6 * scale),
        "with_items_input_1000": ok(0.12 * scale, start_request_s=0.02),
        "with_items_input_10000": ok(1.2 * scale, start_request_s=0.03),
        "with_items_input_100000": ok(14.0 * scale, start_request_s=0.05),
        "polling_load": ok(0.7 * scale, get_ms={"p50": 40.0}, open_loop={"p50": 1.2 * scale}),
    }


def verdicts(results: dict) -> dict:
    return {name: r["target"]["pass"] for name, r in results.items() if "target" in r}


def test_embedded_targets_pass_when_every_figure_is_within() -> None:
    results = embedded_results()
    targets.evaluate(results, "embedded")
    assert verdicts(results) == dict.fromkeys(results, True)


def test_embedded_targets_fail_when_slower() -> None:
    results = embedded_results(scale=2.0)
    targets.evaluate(results, "embedded")
    assert not any(verdicts(results)[n] for n in ("chain_50", "concurrent_50", "fanout_1000", "polling_load"))


def test_polling_is_judged_by_the_open_loop_figure_not_the_closed_loop_one() -> None:
    results = {"polling_load": ok(1.0, get_ms={"p50": 1.0}, open_loop={"p50": 2.0})}
    targets.evaluate(results, "embedded")
    assert verdicts(results) == {"polling_load": False}
    results = {"polling_load": ok(1.0, get_ms={"p50": 50.0}, open_loop={"p50": 1.0})}
    targets.evaluate(results, "embedded")
    assert verdicts(results) == {"polling_load": True}


def test_with_items_fails_on_a_slow_post_or_a_super_linear_ratio() -> None:
    results = embedded_results()
    results["with_items_input_10000"]["start_request_s"] = 0.5
    targets.evaluate(results, "embedded")
    assert verdicts(results)["with_items_input_10000"] is False
    results = embedded_results()
    results["with_items_input_1000"]["wall_s"] = 0.1
    results["with_items_input_10000"]["wall_s"] = 1.4  # 14x the 1000-item run
    targets.evaluate(results, "embedded")
    assert verdicts(results)["with_items_input_10000"] is False


def test_a_timeout_is_a_fail() -> None:
    results = {"fanout_1000": {"state": "TIMEOUT", "wall_s": None}}
    targets.evaluate(results, "distributed")
    assert verdicts(results) == {"fanout_1000": False}


def test_distributed_targets() -> None:
    results = {
        "fanout_1000": ok(1.9),
        "chain_50": ok(0.31, output_ok=True),
        "concurrent_50": ok(0.9, failed_requests=0),
    }
    targets.evaluate(results, "distributed")
    assert verdicts(results) == {"fanout_1000": True, "chain_50": False, "concurrent_50": True}


def test_the_distributed_chain_shows_the_engines_hop_without_judging_it() -> None:
    results = {"chain_50": ok(0.29, output_ok=True, engine_hop_ms={"p50_ms": 4.2, "engines": 2})}
    targets.evaluate(results, "distributed")
    assert verdicts(results) == {"chain_50": True}
    assert "(engine hop 4.2)" in results["chain_50"]["target"]["text"]


def test_the_reference_is_never_judged() -> None:
    results = embedded_results()
    targets.evaluate(results, "reference-distributed")
    assert verdicts(results) == {}


def test_rss_failures_and_reference_factors() -> None:
    samples = [
        {"name": "api", "rss_mb": 120.0},
        {"name": "engine-1", "rss_mb": 151.0},
        {"name": "x", "rss_mb": None},
    ]
    assert targets.rss_failures(samples) == ["engine-1 151 MB"]
    ours = {"fanout_1000": ok(1.0), "chain_50": ok(0.2)}
    ref = {"fanout_1000": ok(40.0), "chain_50": {"state": "TIMEOUT"}}
    assert targets.reference_factors(ours, ref) == {"fanout_1000": 40.0, "chain_50": None}


def test_a_chain_without_task_hops_is_judged_by_the_engines_own_result_to_next_send_figure() -> None:
    for engine_p50, passed in ((0.9, True), (1.3, False)):
        results = embedded_results()
        results["chain_50"] = ok(0.09, output_ok=True, hop_ms=None, engine_hop_ms={"p50_ms": engine_p50})
        targets.evaluate(results, "embedded")
        judged = results["chain_50"]["target"]
        assert (judged["pass"], f"engine hop {engine_p50}" in judged["text"]) == (passed, True)


def test_task_hops_are_judged_first_and_a_chain_with_no_hop_figure_at_all_on_its_time() -> None:
    results = embedded_results()
    results["chain_50"] = ok(0.09, output_ok=True, hop_ms={"p50": 0.8}, engine_hop_ms={"p50_ms": 1.3})
    targets.evaluate(results, "embedded")
    assert results["chain_50"]["target"]["pass"]
    results = embedded_results()
    results["chain_50"] = ok(0.09, output_ok=True, hop_ms=None, engine_hop_ms={"error": "404"})
    targets.evaluate(results, "embedded")
    assert results["chain_50"]["target"]["pass"] and "hop n/a" in results["chain_50"]["target"]["text"]
