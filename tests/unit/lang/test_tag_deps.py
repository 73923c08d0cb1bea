"""``requires: {tags: [...]}`` and ``join: {tags: [...]}``: what they resolve to and what is reported."""

from __future__ import annotations

import pytest

from mistral.exceptions import InvalidSpecError
from mistral.lang import parse_workflows


def problems_of(text: str) -> list[str]:
    with pytest.raises(InvalidSpecError) as info:
        parse_workflows("version: '2.0'\n" + text)
    return [str(p) for p in info.value.problems]


def test_requires_by_tags_resolves_to_every_carrier_of_all_tags_in_definition_order() -> None:
    wf = parse_workflows(
        """
version: '2.0'
wf:
  type: reverse
  tasks:
    db: {tags: [Deployment]}
    web: {tags: [Deployment, Web]}
    smoke: {tags: [Deployment], requires: {tags: [Deployment]}}
    report: {requires: [smoke, {tags: [Deployment, Web]}, web]}
"""
    ).workflows[0]
    assert wf.tasks["smoke"].requires == ["db", "web"], "itself excluded"
    assert wf.tasks["report"].requires == ["smoke", "web"], "mixed form, no duplicates"
    assert wf.tasks["report"].requires_tags == [["Deployment", "Web"]]
    assert wf.tasks["report"].to_dict()["requires"][1] == {"tags": ["Deployment", "Web"]}


def test_join_by_tags_is_a_join_all_over_the_carriers() -> None:
    wf = parse_workflows(
        """
version: '2.0'
wf:
  tasks:
    go: {on-success: [a, b]}
    a: {tags: [t]}
    b: {tags: [t]}
    j: {join: {tags: [t]}, tags: [t]}
"""
    ).workflows[0]
    assert (wf.tasks["j"].join, wf.tasks["j"].join_tags) == ("all", ["t"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "wf:\n  type: reverse\n  tasks:\n    a: {tags: [x]}\n    b: {requires: {tags: [x, nope]}}\n",
            ["wf.tasks.b.requires.tags[1]: no task carries the tag 'nope' (line 6)"],
            id="requires-unknown-tag",
        ),
        pytest.param(
            "wf:\n  type: reverse\n  tasks:\n    a: {tags: [x]}\n    b: {tags: [y]}\n"
            "    c: {requires: [a, {tags: [x, y]}]}\n",
            ["wf.tasks.c.requires[1]: no task other than 'c' carries all of the tags ['x', 'y'] (line 7)"],
            id="requires-no-task-carries-all",
        ),
        pytest.param(
            "wf:\n  type: reverse\n  tasks:\n    a: {tags: [x], requires: {tags: [x]}}\n",
            ["wf.tasks.a.requires: no task other than 'a' carries all of the tags ['x'] (line 5)"],
            id="requires-only-itself",
        ),
        pytest.param(
            "wf:\n  type: reverse\n  tasks:\n    a: {tags: [x], requires: {tags: [x]}}\n"
            "    b: {tags: [x], requires: {tags: [x]}}\n",
            [
                "wf.tasks.a.requires: requiring the tags ['x'] makes a cycle: a -> b -> a (line 5)",
                "wf.tasks.b.requires: requiring the tags ['x'] makes a cycle: b -> a -> b (line 6)",
            ],
            id="requires-cycle",
        ),
        pytest.param(
            "wf:\n  type: reverse\n  task-defaults:\n    requires: {tags: [x]}\n  tasks:\n"
            "    a: {tags: [x]}\n    b: {tags: [x]}\n",
            [
                "wf.task-defaults.requires: requiring the tags ['x'] makes a cycle: a -> b -> a (line 5)",
                "wf.task-defaults.requires: requiring the tags ['x'] makes a cycle: b -> a -> b (line 5)",
            ],
            id="task-defaults-cycle",
        ),
        pytest.param(
            "wf:\n  type: reverse\n  tasks:\n    a: {requires: {tags: []}}\n",
            ["wf.tasks.a.requires.tags: [] should be non-empty (line 5)"],
            id="requires-empty-tags",
        ),
        pytest.param(
            "wf:\n  tasks:\n    s: {on-success: j}\n    j: {join: {tags: [zz]}}\n",
            ["wf.tasks.j.join.tags[0]: no task carries the tag 'zz' (line 5)"],
            id="join-unknown-tag",
        ),
        pytest.param(
            "wf:\n  tasks:\n    s: {on-success: j}\n    j: {join: {tags: [t]}, tags: [t]}\n",
            ["wf.tasks.j.join: no task other than 'j' carries all of the tags ['t'] (line 5)"],
            id="join-only-itself",
        ),
        pytest.param(
            "wf:\n  tasks:\n    s: {on-success: j}\n    j: {join: {tags: [t]}, on-success: [a]}\n"
            "    a: {tags: [t], on-success: [b]}\n    b: {tags: [t]}\n",
            [
                "wf.tasks.j.join: task 'a' carries the tags ['t'] but comes after 'j' (j -> a): "
                "the join would wait for its own successor (line 5)",
                "wf.tasks.j.join: task 'b' carries the tags ['t'] but comes after 'j' (j -> a -> b): "
                "the join would wait for its own successor (line 5)",
            ],
            id="join-waits-for-its-successor",
        ),
        pytest.param(
            "wf:\n  tasks:\n    s: {on-success: j}\n    j: {join: {tag: [t]}}\n",
            [
                "wf.tasks.j.join: missing required keyword 'tags' (line 5)",
                "wf.tasks.j.join.tag: unknown keyword 'tag' (line 5)",
            ],
            id="join-misspelt-selector",
        ),
    ],
)
def test_bad_tag_dependencies_are_reported_with_their_path(text: str, expected: list[str]) -> None:
    assert problems_of(text) == expected
