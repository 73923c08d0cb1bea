"""The console clicked through in Chromium, each test on a real execution of the server it watches.

The workflows are in tests/fixtures/workflows/console.yaml. Screenshots of the named moments
(graph-running, graph-done, task-failed, task-rerun-success, timeline, start-form, validation,
phone-list) go to the artifacts directory (conftest.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.gate import Gates
from tests.browser.servers import Rest, unique
from tests.functional.tenancy import PROJECT_A, PROJECT_B, Tenant
from tests.polling import wait_for

if TYPE_CHECKING:
    from tests.browser.page import Page  # Selenium: imported once the browser is known to be there

GRAPH_TASKS = {"begin", "left", "middle", "right", "joined", "items"}
GRAPH_EDGES = {
    ("begin", "left", "success"),
    ("begin", "middle", "success"),
    ("begin", "right", "success"),
    ("left", "joined", "success"),
    ("middle", "joined", "success"),
    ("right", "joined", "success"),
    ("joined", "items", "success"),
}
#: Line 6 holds the misspelt keyword; the validate endpoint names it "(line 6)".
INVALID_WORKFLOW = """\
version: '2.0'
console_invalid:
  tasks:
    one:
      action: std.noop
      on-sucess: two
    two:
      action: std.noop
"""
#: The focus ring's colour (style.css ``--focus``).
FOCUS = "rgb(240, 165, 0)"
PHONE = {"width": 375, "height": 800, "deviceScaleFactor": 2, "mobile": True}

# The computed fill and stroke colours of a graph node and of the shapes inside it.
_NODE_COLOURS = """
var node = arguments[0];
var colours = [];
[node].concat(Array.from(node.querySelectorAll('*'))).forEach(function (el) {
    var style = getComputedStyle(el);
    colours.push(style.fill, style.stroke, style.backgroundColor);
});
return colours;
"""


# The timeline's bars: the task each element naming one stands for, and the fill of its bar.
_TIMELINE_BARS = """
var bars = {};
document.querySelectorAll('[data-test="timeline"] [data-task]').forEach(function (el) {
    var bar = el.querySelector('rect');
    if (bar) bars[el.dataset.task] = getComputedStyle(bar).fill;
});
return bars;
"""


def nodes(page: Page) -> dict[str, dict[str, str]]:
    return {node["task"]: node for node in page.datasets("graph-node")}


def exec_state(page: Page) -> str:
    """The execution state the page shows: its ``data-state`` or, without one, its text."""
    shown = page.datasets("exec-state")
    if not shown:
        return ""
    return (shown[0].get("state") or shown[0]["text"]).strip().upper()


def row_states(page: Page) -> dict[str, str]:
    return {row["id"]: row["state"] for row in page.datasets("exec-row")}


def greenish(colour: str) -> bool:
    match = re.match(r"rgba?\((\d+), (\d+), (\d+)", colour)
    if not match:
        return False
    red, green, blue = (int(part) for part in match.groups())
    return green > red + 30 and green > blue + 10


def json_field(value: Any) -> Any:
    """Mistral's list resources give ``input`` and ``output`` as JSON text."""
    return json.loads(value) if isinstance(value, str) else value


def test_a_browser_at_the_root_gets_the_console(page: Page, rest: Rest) -> None:
    ex = rest.start("console_inputs", name="root")
    page.load("/")
    page.one("exec-row", id=ex["id"])
    assert "/ui/" in page.url


def test_the_list_shows_a_new_execution_live_and_filters_by_state(page: Page, rest: Rest) -> None:
    failed = rest.start("console_flaky", url=f"{rest.url}/v2/environments/{unique('absent')}")
    rest.wait(failed["id"], "ERROR")
    page.open("/executions")
    page.one("exec-row", id=failed["id"])

    ex = rest.start("console_inputs", name="list")
    page.one("exec-row", id=ex["id"])
    page.wait("the new execution to show SUCCESS", lambda: row_states(page).get(ex["id"]) == "SUCCESS")
    assert page.not_reloaded(), "the list reloaded the page to show the new execution"

    page.select("state-filter", "ERROR")
    page.wait(
        "only ERROR executions, the failed one among them",
        lambda: failed["id"] in (rows := row_states(page)) and set(rows.values()) == {"ERROR"},
    )
    page.select("state-filter", "SUCCESS")
    page.wait(
        "only SUCCESS executions, the new one among them",
        lambda: ex["id"] in (rows := row_states(page)) and set(rows.values()) == {"SUCCESS"},
    )


def test_the_graph_draws_every_task_and_edge_and_turns_green_live(
    page: Page, rest: Rest, gates: Gates
) -> None:
    gate = unique("graph")
    ex = rest.start("console_graph", gate=gates.url_of(gate))
    page.open(f"/executions/{ex['id']}")
    page.one("graph")
    page.one("graph-node", task="begin", state="RUNNING")
    assert set(nodes(page)) == GRAPH_TASKS
    edges = {(e["from"], e["to"], e["kind"]) for e in page.datasets("graph-edge")}
    assert edges == GRAPH_EDGES
    by_tags = {(e["from"], e["to"], e.get("tags")) for e in page.datasets("graph-edge") if e.get("tags")}
    assert by_tags == {("right", "joined", "late")}, "the join by tags draws its implicit edge"
    page.screenshot("graph-running")

    gates.open(gate)

    page.wait(
        "every node SUCCESS",
        lambda: {n["state"] for n in nodes(page).values()} == {"SUCCESS"},
        timeout=30,
    )
    page.wait("the with-items node to show 3/3", lambda: nodes(page)["items"].get("progress") == "3/3")
    page.wait("the execution state SUCCESS", lambda: exec_state(page) == "SUCCESS")
    assert page.not_reloaded(), "the page reloaded to show the new states"
    colours = page.script(_NODE_COLOURS, page.one("graph-node", task="joined"))
    assert any(greenish(colour) for colour in colours), f"a SUCCESS node is not green: {colours}"
    page.screenshot("graph-done")


def fail_then_open(page: Page, rest: Rest, workflow: str) -> tuple[dict[str, Any], str]:
    """An execution of ``workflow`` failed at its task ``check``, open in the console; and the name of
    the environment whose creation makes ``check`` succeed."""
    dependency = unique("console_dependency")
    ex = rest.start(workflow, url=f"{rest.url}/v2/environments/{dependency}")
    rest.wait(ex["id"], "ERROR")
    page.open(f"/executions/{ex['id']}")
    page.one("graph-node", task="check", state="ERROR")
    page.wait("the execution state ERROR", lambda: exec_state(page) == "ERROR")
    return ex, dependency


def fix_and_rerun(page: Page, rest: Rest, dependency: str) -> None:
    """Create what ``check`` asks for, then press the open task panel's rerun button."""
    created = rest.request("POST", "/environments", json={"name": dependency, "variables": {}})
    assert created.status_code == 201, created.text
    page.click("rerun")
    page.one("graph-node", task="check", state="SUCCESS", timeout=30)


def test_a_failed_task_shows_why_and_its_rerun_succeeds(page: Page, rest: Rest) -> None:
    ex, dependency = fail_then_open(page, rest, "console_flaky")
    page.click("graph-node", task="check")
    page.one("task-panel")
    page.wait("the state_info of the 404", lambda: "404" in page.one("task-state-info").text)
    page.screenshot("task-failed")

    fix_and_rerun(page, rest, dependency)
    page.one("graph-node", task="finish", state="SUCCESS")
    page.wait("the execution state SUCCESS", lambda: exec_state(page) == "SUCCESS")
    assert page.not_reloaded()
    page.screenshot("task-rerun-success")
    assert rest.wait(ex["id"])["state"] == "SUCCESS"

    # NOTE: a re-run of the succeeded check supersedes the finish that followed it: history, marked.
    tasks = {t["name"]: t for t in rest.request("GET", f"/executions/{ex['id']}/tasks").json()["tasks"]}
    # NOTE: the API's times have whole seconds: a re-run in the second its last run ended would look
    # unchanged to the page's polls (state and updated_at as before).
    time.sleep(1.1)
    rerun = rest.request("PUT", f"/tasks/{tasks['check']['id']}", json={"state": "RUNNING"})
    assert rerun.status_code == 200, rerun.text
    assert rest.wait(ex["id"], "SUCCESS")["state"] == "SUCCESS"
    page.wait(
        "the first finish marked superseded, and no other row",
        lambda: _superseded_rows(page) == {tasks["finish"]["id"]} and len(page.all("task-row")) == 4,
    )
    page.one("graph-node", task="finish", state="SUCCESS")
    page.wait(
        "the open panel of check to list its third action",
        lambda: page.script(_ACTIONS_IN_PANEL) == 3,
    )
    page.screenshot("task-superseded")


def test_a_rerun_of_a_failed_branch_completes_its_join(page: Page, rest: Rest) -> None:
    ex, dependency = fail_then_open(page, rest, "console_flaky_join")
    page.click("graph-node", task="check")
    fix_and_rerun(page, rest, dependency)
    final = rest.wait(ex["id"])
    assert final["state"] == "SUCCESS", final["state_info"]
    page.wait("every node SUCCESS", lambda: {n["state"] for n in nodes(page).values()} == {"SUCCESS"})
    page.wait("the with-items node to show 3/3", lambda: nodes(page)["items"].get("progress") == "3/3")
    page.wait("the execution state SUCCESS", lambda: exec_state(page) == "SUCCESS")
    # A fan-out, a join, a with-items and a task that failed, then succeeded on its rerun.
    page.screenshot("graph-rerun-join")
    page.click("tab-timeline")
    page.wait("a bar for every task", lambda: set(nodes(page)) <= set(page.script(_TIMELINE_BARS)))
    page.screenshot("timeline-rerun-join")


def test_pause_and_resume_show_in_the_execution_state(page: Page, rest: Rest, gates: Gates) -> None:
    # NOTE: its gate stays closed: the task runs until the test ends (the gates open then).
    ex = rest.start("console_sleepy", gate=gates.url_of(unique("sleepy")))
    page.open(f"/executions/{ex['id']}")
    page.one("graph-node", task="nap", state="RUNNING")

    page.click("pause")
    page.wait("the execution state PAUSED", lambda: exec_state(page) == "PAUSED")
    assert rest.wait(ex["id"], "PAUSED")["state"] == "PAUSED"
    page.click("resume")
    page.wait("the execution state RUNNING", lambda: exec_state(page) == "RUNNING")
    assert rest.wait(ex["id"], "RUNNING")["state"] == "RUNNING"

    page.confirm_everything()
    page.click("cancel")
    page.wait("the execution state CANCELLED", lambda: exec_state(page) == "CANCELLED")
    assert rest.wait(ex["id"], "CANCELLED")["state"] == "CANCELLED"


@pytest.fixture(scope="module")
def finished_graph(console_url: str, gates: Gates) -> dict[str, Any]:
    """An execution of console_graph, finished."""
    gate = unique("finished")
    gates.open(gate)
    rest = Rest(console_url)
    return rest.wait(rest.start("console_graph", gate=gates.url_of(gate))["id"], "SUCCESS")


def test_the_timeline_draws_a_bar_per_task(page: Page, finished_graph: dict[str, Any]) -> None:
    page.open(f"/executions/{finished_graph['id']}")
    page.click("tab-timeline")
    page.one("timeline")
    page.wait("a bar for every task", lambda: GRAPH_TASKS <= set(page.script(_TIMELINE_BARS)))
    page.screenshot("timeline")


def test_the_timeline_colours_its_bars_by_state(page: Page, finished_graph: dict[str, Any]) -> None:
    page.open(f"/executions/{finished_graph['id']}")
    page.click("tab-timeline")
    page.one("timeline")
    bars = page.wait("the bars", lambda: page.script(_TIMELINE_BARS))
    assert all(greenish(fill) for fill in bars.values()), f"SUCCESS bars that are not green: {bars}"


def test_the_keyboard_reaches_a_task_shows_the_focus_and_opens_it(
    page: Page, finished_graph: dict[str, Any]
) -> None:
    page.open(f"/executions/{finished_graph['id']}")
    page.one("graph-node", task="begin", state="SUCCESS")
    node = page.tab_to("graph-node")
    colours = page.script(_NODE_COLOURS, node)
    assert FOCUS in colours, f"the focused node shows no focus ring: {colours}"
    page.press("ENTER")
    task = node.get_attribute("data-task") or ""
    page.wait("the panel of the focused task", lambda: task in page.one("task-panel").text)


def test_the_start_form_asks_the_inputs_and_starts_the_workflow(page: Page, rest: Rest) -> None:
    page.open("/start/console_inputs")
    page.one("start-form")
    for name in ("name", "count", "loud"):
        page.one(f"input-{name}")
    who = unique("browser")
    page.type("input-name", who)
    page.screenshot("start-form")
    page.click("start-submit")

    def started() -> dict[str, Any] | None:
        listed = rest.request("GET", "/executions", params={"workflow_name": "console_inputs"}).json()
        return next((e for e in listed["executions"] if json_field(e["input"]).get("name") == who), None)

    ex = wait_for("the execution the form started", started)
    assert json_field(rest.wait(ex["id"])["output"]) == {"said": f"hello {who}"}


def test_the_definition_editor_marks_the_line_of_an_error(page: Page, rest: Rest) -> None:
    workflow = rest.request("GET", "/workflows/console_inputs").json()
    page.open(f"/workflows/{workflow['id']}")
    editor = page.one("yaml-editor")
    page.wait("the YAML in the editor", lambda: "console_inputs" in (editor.get_attribute("value") or ""))

    page.set_value("yaml-editor", INVALID_WORKFLOW)
    error = page.one("validate-error", line="6")
    assert "on-sucess" in error.text
    page.screenshot("validation")

    page.set_value("yaml-editor", INVALID_WORKFLOW.replace("on-sucess", "on-success"))
    page.wait("the error to go", lambda: not page.all("validate-error"))


@contextlib.contextmanager
def cron_trigger(rest: Rest) -> Iterator[dict[str, Any]]:
    """A yearly cron trigger of console_inputs (it never fires during the tests), deleted afterwards."""
    name = unique("console_yearly")
    body = {"name": name, "workflow_name": "console_inputs", "pattern": "0 0 1 1 *"}
    created = rest.request("POST", "/cron_triggers", json={**body, "workflow_input": '{"name": "cron"}'})
    assert created.status_code == 201, created.text
    try:
        yield created.json()
    finally:
        rest.request("DELETE", f"/cron_triggers/{name}")


def test_the_triggers_page_lists_a_cron_trigger_with_its_next_run(page: Page, rest: Rest) -> None:
    with cron_trigger(rest) as trigger:
        page.open("/triggers")
        row = page.one("trigger-row", id=trigger["id"])
        assert trigger["name"] in row.text
        in_row = f'[data-test="trigger-row"][data-id="{trigger["id"]}"]'

        def next_run() -> str:
            return "".join(cell["text"] for cell in page.datasets("trigger-next", within=in_row))

        page.wait("the next run", lambda: trigger["next_execution_time"] in next_run())


@pytest.mark.parametrize(
    ("route", "hook"),
    [
        ("/executions", "exec-row"),
        ("/executions/{id}", "graph"),
        ("/start/console_inputs", "start-form"),
        pytest.param("/workflows", "def-row"),
        pytest.param("/triggers", "trigger-row"),
    ],
)
def test_the_pages_fit_a_phone_screen(page: Page, rest: Rest, route: str, hook: str) -> None:
    ex = rest.start("console_inputs", name="phone")
    name = "list" if route == "/executions" else route.strip("/").split("/")[0]
    with cron_trigger(rest), page.emulating(PHONE):
        page.open(route.format(id=ex["id"]))
        page.one(hook)
        width = page.script("return document.documentElement.scrollWidth;")
        page.screenshot(f"phone-{name}")
    assert width <= PHONE["width"], f"{route} scrolls sideways on a phone: {width} px wide"


def test_with_auth_the_console_asks_a_token_and_shows_only_its_project(
    page: Page, auth_console_url: str
) -> None:
    a, b = Tenant(auth_console_url, PROJECT_A), Tenant(auth_console_url, PROJECT_B)
    started: dict[str, str] = {}
    for tenant in (a, b):
        name = unique("console_tenant")
        tenant.create_workflow(name)
        resp = tenant.start(workflow_name=name)
        assert resp.status_code == 201, resp.text
        started[tenant.project] = resp.json()["id"]
        tenant.wait_done(started[tenant.project])
    mine = {e["id"] for e in a.request("GET", "/executions").json()["executions"]}

    # NOTE: the console's first call is refused before it has a token; Chromium logs that 401.
    page.expected_errors.append("401")
    page.open("/executions", base=auth_console_url)
    page.type("token-input", a.token)
    page.click("token-submit")
    page.one("exec-row", id=started[PROJECT_A])
    shown = set(row_states(page))
    assert started[PROJECT_B] not in shown
    assert shown <= mine, f"executions of another project are listed: {shown - mine}"


_ACTIONS_IN_PANEL = "return document.querySelectorAll('[data-test=task-actions] > details').length;"
_SUPERSEDED_ROWS = """
return [...document.querySelectorAll('[data-test=task-row]')]
  .filter((row) => row.querySelector('[data-test=task-superseded]').textContent.trim() === 'superseded')
  .map((row) => row.dataset.id);
"""


def _superseded_rows(page: Page) -> set[str]:
    return set(page.script(_SUPERSEDED_ROWS))
