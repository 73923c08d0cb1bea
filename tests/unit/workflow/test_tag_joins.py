"""Dependencies by tag in the pure decisions: direct ``join: {tags}`` and reverse ``requires: {tags}``."""

from __future__ import annotations

from mistral import lang
from mistral.workflow import commands, direct, reverse, states

DIRECT = """
version: '2.0'
wf:
  tasks:
    go:
      on-success: [db, web, docs]
    db:
      tags: [Deployment]
    web:
      tags: [Deployment]
      on-success: [announce]
    docs: {}
    announce:
      join: {tags: [Deployment]}
      tags: [Deployment]
    after_all:
      join: {tags: [Deployment]}
"""


def _always(_: object) -> bool:
    return True


def test_carriers_are_the_inbound_tasks_and_the_join_is_no_start_task() -> None:
    wf = lang.parse_workflows(DIRECT).workflows[0]
    inbound = direct.inbound_tasks(wf)
    assert inbound["announce"] == ["web", "db"], "the written transition and the implicit one, once each"
    assert inbound["after_all"] == ["db", "web", "announce"]
    assert direct.start_tasks(wf) == ["go"]
    assert direct.join_requirement(wf, wf.tasks["after_all"]) == 3


def test_a_carrier_that_succeeds_leads_to_each_join_once() -> None:
    wf = lang.parse_workflows(DIRECT).workflows[0]
    decision = direct.decide(wf, "web", states.SUCCESS, "web-id", _always)
    assert decision.commands == [
        commands.RunTask("announce", "web-id"),
        commands.RunTask("after_all", "web-id"),
    ]
    assert decision.missed_joins == []
    assert direct.decide(wf, "docs", states.SUCCESS, "docs-id", _always).commands == []


def test_a_carrier_that_fails_or_is_skipped_misses_the_joins() -> None:
    wf = lang.parse_workflows(DIRECT).workflows[0]
    for state in (states.ERROR, states.SKIPPED):
        decision = direct.decide(wf, "db", state, "db-id", _always)
        assert decision.commands == []
        assert sorted(m.name for m in decision.missed_joins) == ["after_all", "announce"]


REVERSE = """
version: '2.0'
wf:
  type: reverse
  tasks:
    db: {tags: [Deployment]}
    web: {tags: [Deployment]}
    unrelated: {tags: [Other]}
    smoke: {tags: [PostDeployment], requires: {tags: [Deployment]}}
    report: {requires: [{tags: [PostDeployment]}, db]}
"""


def test_reverse_runs_the_carriers_first() -> None:
    wf = lang.parse_workflows(REVERSE).workflows[0]
    needed = reverse.needed_tasks(wf, "report")
    assert sorted(needed) == ["db", "report", "smoke", "web"]
    assert sorted(reverse.ready_tasks(wf, needed, set(), set())) == ["db", "web"]
    assert reverse.ready_tasks(wf, needed, {"db"}, {"db", "web"}) == []
    assert reverse.ready_tasks(wf, needed, {"db", "web"}, {"db", "web"}) == ["smoke"]
    assert reverse.ready_tasks(wf, needed, {"db", "web", "smoke"}, {"db", "web", "smoke"}) == ["report"]
