"""bench/run.py: arguments, which deployments run, skip lists and the offline self-check."""

from __future__ import annotations

import pathlib

import pytest

from bench import run, workflows


def test_defaults_measure_a_url() -> None:
    args = run.parse_args([])
    assert args.deploy == "url" and not args.compare
    assert run.deploy_kinds(args) == ["url"]
    assert run.deployment_settings("url", args) is None


def test_compare_runs_ours_then_the_reference() -> None:
    assert run.deploy_kinds(run.parse_args(["--compare"])) == ["distributed", "reference-distributed"]
    args = run.parse_args(["--compare", "--deploy", "embedded"])
    assert run.deploy_kinds(args) == ["embedded", "reference-distributed"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--compare", "--deploy", "reference-distributed"],
        ["--engines", "0"],
        ["--port-base", "80"],
        ["--deploy", "kubernetes"],
        ["--skip", "no_such_workload"],
    ],
)
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        run.parse_args(argv)


def test_settings_give_the_reference_the_next_port(tmp_path: pathlib.Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "mistral-server").write_text("")
    argv = ["--port-base", "9101", "--engines", "2", "--ours-venv", str(tmp_path), "--workdir", "/tmp/w"]
    args = run.parse_args(argv)
    ours = run.deployment_settings("distributed", args)
    ref = run.deployment_settings("reference-distributed", args)
    assert ours is not None and ref is not None
    assert (ours.port, ours.engines, ours.bin_dir) == (9101, 2, tmp_path / "bin")
    assert (ref.port, ref.workdir) == (9102, pathlib.Path("/tmp/w/reference-distributed"))


def test_skips_combine_the_deployment_list_and_the_option() -> None:
    args = run.parse_args(["--skip", "polling_load"])
    ref = run.skipped_workloads("reference-distributed", args)
    assert "with_items_input_100000" in ref and ref["polling_load"] == "skipped by --skip"
    assert run.skipped_workloads("distributed", run.parse_args([])) == {}


def test_workloads_run_in_the_canonical_order() -> None:
    args = run.parse_args(["--workload", "polling_load", "--workload", "chain_50"])
    assert run.selected_workloads(args) == ["chain_50", "polling_load"]
    assert run.selected_workloads(run.parse_args([])) == run.WORKLOADS


def test_every_workload_names_its_documents() -> None:
    assert set(run.WORKLOAD_WFS) == set(run.WORKLOADS)
    for keys in run.WORKLOAD_WFS.values():
        assert set(keys) <= set(workflows.WF_BUILDERS)


def test_inputs_of_the_with_items_workloads() -> None:
    assert run.workload_input("with_items_input_1000") == {"nums": list(range(1000))}
    records = run.workload_input("with_items_dicts_10000")["records"]
    assert len(records) == 10000 and set(records[0]) == {"id", "name", "size"}
    assert run.workload_input("with_items_published_10000") == {"n": 10000}


def test_with_items_input_document_is_the_issue_shape() -> None:
    task = workflows.with_items_input_wf()["tasks"]["items"]
    assert task["with-items"] == "x in <% $.nums %>"
    assert task["input"] == {"output": "<% $.x * 3 %>"}
    assert task["publish"] == {"r": "<% task().result %>"}


def test_self_check_passes() -> None:
    assert run.self_check() == []
    assert run.main(["--self-check"]) == 0
