"""bench/workloads.py: every workload names its documents, and the inputs of the single runs."""

from __future__ import annotations

from bench import workflows, workloads


def test_every_workload_names_its_documents() -> None:
    assert set(workloads.WORKLOAD_WFS) == set(workloads.WORKLOADS)
    for keys in workloads.WORKLOAD_WFS.values():
        assert set(keys) <= set(workflows.WF_BUILDERS)


def test_single_runs_use_a_document_they_upload() -> None:
    for name, spec in workloads.workload_specs().items():
        assert name in workloads.WORKLOADS
        assert workloads.WORKLOAD_WFS[name] == [spec["wf"]]


def test_inputs_of_the_with_items_workloads() -> None:
    assert workloads.workload_input("with_items_input_1000") == {"nums": list(range(1000))}
    records = workloads.workload_input("with_items_dicts_10000")["records"]
    assert len(records) == 10000 and set(records[0]) == {"id", "name", "size"}
    assert workloads.workload_input("with_items_published_10000") == {"n": 10000}
