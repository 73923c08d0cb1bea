"""bench/cli.py: the options, and which deployments run in which order."""

from __future__ import annotations

import pytest

from bench import cli, workloads


def test_defaults_measure_a_url() -> None:
    args = cli.parse_args([])
    assert args.deploy == "url" and not args.compare
    assert cli.deploy_kinds(args) == ["url"]


def test_compare_runs_ours_then_the_reference() -> None:
    assert cli.deploy_kinds(cli.parse_args(["--compare"])) == ["distributed", "reference-distributed"]
    args = cli.parse_args(["--compare", "--deploy", "embedded"])
    assert cli.deploy_kinds(args) == ["embedded", "reference-distributed"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--compare", "--deploy", "reference-distributed"],
        ["--engines", "0"],
        ["--port-base", "80"],
        ["--deploy", "kubernetes"],
        ["--skip", "no_such_workload"],
        # The offline self-check became the tests of tests/unit/bench.
        ["--self-check"],
    ],
)
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        cli.parse_args(argv)


def test_workloads_run_in_the_canonical_order() -> None:
    args = cli.parse_args(["--workload", "polling_load", "--workload", "chain_50"])
    assert cli.selected_workloads(args) == ["chain_50", "polling_load"]
    assert cli.selected_workloads(cli.parse_args([])) == workloads.WORKLOADS
