"""bench/workflows.py: the generated documents."""

from __future__ import annotations

from bench import workflows


def test_with_items_input_document_is_the_issue_shape() -> None:
    task = workflows.with_items_input_wf()["tasks"]["items"]
    assert task["with-items"] == "x in <% $.nums %>"
    assert task["input"] == {"output": "<% $.x * 3 %>"}
    assert task["publish"] == {"r": "<% task().result %>"}
