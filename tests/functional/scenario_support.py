"""Scenario documents: load them, run them over the public REST API, compare the outcome.

A scenario is one YAML file in ``tests/fixtures/scenarios/``::

    description: one line saying what the scenario shows
    workflow: |        # a workflow list (POST /v2/workflows), and/or
    workbook: |        # a workbook (POST /v2/workbooks), and/or
    actions: |         # ad-hoc actions (POST /v2/actions), uploaded first
    start: wf          # the workflow to run (``<workbook>.<name>`` inside a workbook)
    input: {}          # optional execution input
    params: {}         # optional execution params (env, task_name, ...)
    expect: {...}      # see ``Expect``

Every run uploads its definitions into a fresh namespace, so runs never share names.
The runner speaks only HTTP (``requests``), like any client of the service would.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
import yaml

SCENARIOS = pathlib.Path(__file__).parent.parent / "fixtures" / "scenarios"
TEXT = {"Content-Type": "text/plain"}
COMPLETED = frozenset({"SUCCESS", "ERROR", "CANCELLED"})
TIMESTAMP = "%Y-%m-%d %H:%M:%S"
POLL_INTERVAL = 0.1
HTTP_TIMEOUT = 30


class ScenarioError(ValueError):
    """A scenario file is malformed (a fixture bug, not an engine bug)."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: ``Expect.output`` when the scenario does not state an exact output (``null`` is a valid output).
MISSING: Any = _Missing()


@dataclass(frozen=True)
class Expect:
    """What the scenario claims about the finished execution. Every field is optional.

    * ``state``: the final execution state; PAUSED makes the runner stop polling once paused.
    * ``start_error``: the HTTP status POST /v2/executions must answer (nothing runs then);
      ``message_contains`` then lists substrings of the response body.
    * ``output``: the exact execution output; ``output_contains``: a recursive subset of it
      (dicts compare key by key, anything else by equality); ``output_keys``: keys it must have.
    * ``state_info_contains``: substrings of the execution ``state_info``.
    * ``tasks``: task name → state; every execution of that task must be in that state.
    * ``absent``: tasks that must have no execution at all.
    * ``task_counts``: task name → number of its task executions (cycles, join one).
    * ``action_counts``: task name → number of action executions of its single run (retry, with-items).
    * ``published``: task name → its exact ``published`` dict.
    * ``results``: task name → its exact ``result`` (GET /v2/tasks/{id}); null when not kept.
    * ``task_state_info_contains``: task name → substrings of its ``state_info``.
    * ``order``: groups of task names; every member of a group started no earlier than every
      member of the previous group finished (the API gives whole seconds, so ties pass).
    * ``min_seconds``: the execution took at least this long (wall clock seen by the client).
    * ``timeout``: seconds to wait for the execution to finish (default 30).

    ``published``, ``results`` and ``action_counts`` read the latest execution of the task,
    so use them on tasks that run once.
    """

    state: str | None = None
    start_error: int | None = None
    message_contains: list[str] = field(default_factory=list)
    output: Any = MISSING
    output_contains: dict[str, Any] = field(default_factory=dict)
    output_keys: list[str] = field(default_factory=list)
    state_info_contains: list[str] = field(default_factory=list)
    tasks: dict[str, str] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    task_counts: dict[str, int] = field(default_factory=dict)
    action_counts: dict[str, int] = field(default_factory=dict)
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    task_state_info_contains: dict[str, list[str]] = field(default_factory=dict)
    order: list[list[str]] = field(default_factory=list)
    min_seconds: float = 0
    timeout: float = 30

    def task_names(self) -> set[str]:
        """Every task name the expectations mention."""
        names = set(self.absent) | {n for group in self.order for n in group}
        for mapping in (self.tasks, self.task_counts, self.action_counts, self.published, self.results):
            names |= set(mapping)
        return names | set(self.task_state_info_contains)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    start: str
    expect: Expect
    workflow: str | None = None
    workbook: str | None = None
    actions: str | None = None
    input: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What the API reported. JSON-string fields (output, published, result, ...) are decoded."""

    namespace: str
    start_status: int
    start_body: Any
    execution: dict[str, Any] | None = None
    tasks: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    action_counts: dict[str, int] = field(default_factory=dict)
    timed_out: bool = False
    elapsed: float = 0.0

    def executions_of(self, name: str) -> list[dict[str, Any]]:
        """The task executions named ``name``, oldest first."""
        found = [t for t in self.tasks if t.get("name") == name]
        return sorted(found, key=lambda t: (t.get("created_at") or "", t.get("finished_at") or ""))

    def latest(self, name: str) -> dict[str, Any] | None:
        found = self.executions_of(name)
        return found[-1] if found else None


# Loading


_SCENARIO_KEYS = {f.name for f in dataclasses.fields(Scenario)} - {"name"}
_EXPECT_KEYS = {f.name for f in dataclasses.fields(Expect)}
_STRING_LISTS = ("message_contains", "state_info_contains")


def all_scenario_names() -> list[str]:
    return sorted(path.stem for path in SCENARIOS.glob("*.yaml"))


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _expect(name: str, data: Any) -> Expect:
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}: 'expect' must be a mapping")
    unknown = set(data) - _EXPECT_KEYS
    if unknown:
        raise ScenarioError(f"{name}: unknown expect keys {sorted(unknown)}")
    if ("state" in data) == ("start_error" in data):
        raise ScenarioError(f"{name}: expect needs exactly one of 'state' and 'start_error'")
    values = dict(data)
    for key in _STRING_LISTS:
        if key in values:
            values[key] = _as_list(values[key])
    if "task_state_info_contains" in values:
        values["task_state_info_contains"] = {
            task: _as_list(texts) for task, texts in values["task_state_info_contains"].items()
        }
    return Expect(**values)


def load_scenario(name: str) -> Scenario:
    """Read ``tests/fixtures/scenarios/<name>.yaml``; raises ScenarioError when malformed."""
    path = SCENARIOS / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}: the scenario must be a mapping")
    unknown = set(data) - _SCENARIO_KEYS
    if unknown:
        raise ScenarioError(f"{name}: unknown keys {sorted(unknown)}")
    for key in ("description", "start", "expect"):
        if not data.get(key):
            raise ScenarioError(f"{name}: '{key}' is required")
    if not any(data.get(key) for key in ("workflow", "workbook", "actions")):
        raise ScenarioError(f"{name}: needs 'workflow', 'workbook' or 'actions'")
    for key in ("input", "params"):
        if not isinstance(data.get(key, {}), dict):
            raise ScenarioError(f"{name}: '{key}' must be a mapping")
    values = {**data, "expect": _expect(name, data["expect"])}
    return Scenario(name=name, **values)


# Running


def _decode(value: Any) -> Any:
    """A JSON-string field as a Python value (WSME serialises jsontype fields as strings)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _upload(session: requests.Session, url: str, path: str, text: str, namespace: str) -> None:
    answer = session.post(
        f"{url}{path}", params={"namespace": namespace}, data=text, headers=TEXT, timeout=HTTP_TIMEOUT
    )
    if answer.status_code != 201:
        raise ScenarioError(f"POST {path} answered {answer.status_code}: {answer.text}")


def _body(answer: requests.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return answer.text


def _decode_execution(execution: dict[str, Any]) -> dict[str, Any]:
    fields = ("input", "output", "params", "published_global")
    return {**execution, **{k: _decode(execution[k]) for k in fields if k in execution}}


def _poll(session: requests.Session, url: str, ex_id: str, expect: Expect) -> tuple[dict[str, Any], bool]:
    """The execution once it completed (or paused, when PAUSED is expected), and whether time ran out."""
    deadline = time.monotonic() + expect.timeout
    while True:
        answer = session.get(f"{url}/executions/{ex_id}", timeout=HTTP_TIMEOUT)
        answer.raise_for_status()
        execution = answer.json()
        state = execution.get("state")
        if state in COMPLETED or (state == "PAUSED" and expect.state == "PAUSED"):
            return execution, False
        if time.monotonic() > deadline:
            return execution, True
        time.sleep(POLL_INTERVAL)


def _task_list(session: requests.Session, url: str, ex_id: str) -> list[dict[str, Any]]:
    answer = session.get(f"{url}/executions/{ex_id}/tasks", timeout=HTTP_TIMEOUT)
    answer.raise_for_status()
    tasks = answer.json()["tasks"]
    fields = ("published", "published_global", "runtime_context", "env")
    return [{**t, **{k: _decode(t[k]) for k in fields if k in t}} for t in tasks]


def _collect_task_details(session: requests.Session, url: str, outcome: Outcome, expect: Expect) -> None:
    for name in expect.results:
        task = outcome.latest(name)
        if task:
            answer = session.get(f"{url}/tasks/{task['id']}", timeout=HTTP_TIMEOUT)
            answer.raise_for_status()
            outcome.results[name] = _decode(answer.json().get("result"))
    for name in expect.action_counts:
        task = outcome.latest(name)
        if task:
            answer = session.get(f"{url}/tasks/{task['id']}/action_executions", timeout=HTTP_TIMEOUT)
            answer.raise_for_status()
            outcome.action_counts[name] = len(answer.json()["action_executions"])


def _stop(session: requests.Session, url: str, execution: dict[str, Any]) -> None:
    """Cancel an execution left paused or running so it does not outlive the test (best effort)."""
    if execution.get("state") in COMPLETED:
        return
    try:
        session.put(
            f"{url}/executions/{execution['id']}",
            json={"state": "CANCELLED", "state_info": "scenario finished"},
            timeout=HTTP_TIMEOUT,
        )
    except requests.RequestException:
        pass


def run_scenario(url: str, scenario: Scenario, *, session: requests.Session | None = None) -> Outcome:
    """Upload the definitions, start the execution, wait for it and read back what the API reports.

    ``url`` is the API's ``/v2`` root.
    """
    session = session or requests.Session()
    namespace = f"scenario_{scenario.name}_{uuid.uuid4().hex[:8]}"
    for key, path in (("actions", "/actions"), ("workbook", "/workbooks"), ("workflow", "/workflows")):
        text = getattr(scenario, key)
        if text:
            _upload(session, url, path, text, namespace)
    body = {
        "workflow_name": scenario.start,
        "workflow_namespace": namespace,
        "input": json.dumps(scenario.input),
        "params": json.dumps(scenario.params),
    }
    started = time.monotonic()
    answer = session.post(f"{url}/executions", json=body, timeout=HTTP_TIMEOUT)
    outcome = Outcome(namespace=namespace, start_status=answer.status_code, start_body=_body(answer))
    if answer.status_code != 201:
        return outcome
    execution, outcome.timed_out = _poll(session, url, answer.json()["id"], scenario.expect)
    outcome.elapsed = time.monotonic() - started
    outcome.execution = _decode_execution(execution)
    outcome.tasks = _task_list(session, url, execution["id"])
    _collect_task_details(session, url, outcome, scenario.expect)
    _stop(session, url, execution)
    return outcome


# Checking


def contains(actual: Any, expected: Any) -> bool:
    """``expected`` is a recursive subset of ``actual``: dicts by key, anything else by equality."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and contains(actual[key], value) for key, value in expected.items()
        )
    return actual == expected


def _check_start_error(outcome: Outcome, expect: Expect) -> list[str]:
    problems = []
    if outcome.start_status != expect.start_error:
        problems.append(f"POST /executions answered {outcome.start_status}, expected {expect.start_error}")
    text = outcome.start_body if isinstance(outcome.start_body, str) else json.dumps(outcome.start_body)
    problems += [
        f"start error {text!r} lacks {part!r}" for part in expect.message_contains if part not in text
    ]
    return problems


def _check_output(execution: dict[str, Any], expect: Expect) -> list[str]:
    output = execution.get("output")
    problems = []
    if expect.output is not MISSING and output != expect.output:
        problems.append(f"output {output!r} != expected {expect.output!r}")
    if expect.output_contains and not contains(output, expect.output_contains):
        problems.append(f"output {output!r} does not contain {expect.output_contains!r}")
    missing = [k for k in expect.output_keys if not isinstance(output, dict) or k not in output]
    if missing:
        problems.append(f"output {output!r} lacks keys {missing}")
    info = execution.get("state_info") or ""
    problems += [
        f"state_info {info!r} lacks {part!r}" for part in expect.state_info_contains if part not in info
    ]
    return problems


def _check_task_states(outcome: Outcome, expect: Expect) -> list[str]:
    problems = []
    for name, state in expect.tasks.items():
        states = [t.get("state") for t in outcome.executions_of(name)]
        if not states or any(s != state for s in states):
            problems.append(f"task {name}: states {states}, expected {state}")
    for name in expect.absent:
        if outcome.executions_of(name):
            problems.append(f"task {name} ran but should not have")
    for name, count in expect.task_counts.items():
        found = len(outcome.executions_of(name))
        if found != count:
            problems.append(f"task {name} ran {found} times, expected {count}")
    for name, parts in expect.task_state_info_contains.items():
        task = outcome.latest(name)
        info = (task or {}).get("state_info") or ""
        problems += [f"task {name} state_info {info!r} lacks {p!r}" for p in parts if p not in info]
    return problems


def _check_task_data(outcome: Outcome, expect: Expect) -> list[str]:
    problems = []
    for name, published in expect.published.items():
        task = outcome.latest(name)
        actual = task.get("published") if task else MISSING
        if actual != published:
            problems.append(f"task {name} published {actual!r}, expected {published!r}")
    for name, result in expect.results.items():
        actual = outcome.results.get(name, MISSING)
        if actual != result:
            problems.append(f"task {name} result {actual!r}, expected {result!r}")
    for name, count in expect.action_counts.items():
        actual = outcome.action_counts.get(name)
        if actual != count:
            problems.append(f"task {name} had {actual} action executions, expected {count}")
    return problems


def _stamp(task: dict[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        if task.get(key):
            return datetime.strptime(task[key], TIMESTAMP)
    return None


def _check_order(outcome: Outcome, expect: Expect) -> list[str]:
    problems = []
    for before, after in zip(expect.order, expect.order[1:], strict=False):
        ends = [_stamp(t, "finished_at", "updated_at") for n in before for t in outcome.executions_of(n)]
        starts = [_stamp(t, "started_at", "created_at") for n in after for t in outcome.executions_of(n)]
        if None in ends or None in starts or not ends or not starts:
            problems.append(f"order {before} -> {after}: missing tasks or timestamps")
        elif min(starts) < max(ends):
            problems.append(f"order {before} -> {after}: a task of {after} started before {before} finished")
    return problems


def check(outcome: Outcome, scenario: Scenario) -> list[str]:
    """Every way ``outcome`` differs from ``scenario.expect``; empty when it matches."""
    expect = scenario.expect
    if expect.start_error is not None:
        return _check_start_error(outcome, expect)
    if outcome.execution is None:
        return [f"POST /executions answered {outcome.start_status}: {outcome.start_body!r}"]
    execution = outcome.execution
    if outcome.timed_out:
        return [f"not finished within {expect.timeout}s: state {execution.get('state')}"]
    problems = []
    if execution.get("state") != expect.state:
        problems.append(
            f"state {execution.get('state')} ({execution.get('state_info')!r}), expected {expect.state}"
        )
    if outcome.elapsed < expect.min_seconds:
        problems.append(f"took {outcome.elapsed:.2f}s, expected at least {expect.min_seconds}s")
    problems += _check_output(execution, expect)
    problems += _check_task_states(outcome, expect)
    problems += _check_task_data(outcome, expect)
    problems += _check_order(outcome, expect)
    return problems
