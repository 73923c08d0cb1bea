/**
 * The panel of one task execution: state, state_info, input, published values, result, its action
 * executions or sub-workflow executions, and the re-run buttons of a task in ERROR.
 */

import { h, clear } from "./dom.js";
import { decodeJson, formatDuration, formatTime, parseTime } from "./format.js";
import { valueBlock } from "./values.js";

/** Action executions listed at most (a with-items task may have thousands). */
const ACTIONS_SHOWN = 50;

/**
 * Fill `panel` with the task `taskId` (fetched afresh).
 * @param {HTMLElement} panel
 * @param {string} taskId
 * @param {Object} ctx the view's ctx ({api, toast})
 * @param {{runs: Object[], onRun: function(string): void, onChanged: function(): void,
 *   onClose: function(): void, stale: function(): boolean}} hooks `runs`: every execution of this
 *   task name, oldest first; `stale()`: true when another task was opened meanwhile (nothing is shown)
 * @returns {Promise<Object|null>} the task shown, or null
 */
export async function showTask(panel, taskId, ctx, hooks) {
  const task = await ctx.api.get(`/tasks/${encodeURIComponent(taskId)}`);
  const children = await childrenOf(task, ctx.api);
  // NOTE: another task opened while this one loaded is the one the panel shows.
  if (hooks.stale()) return null;
  clear(panel);
  // NOTE: through h(), which flattens the sections and skips what a task lacks (Element.append does not).
  panel.append(
    h(
      "div",
      { class: "task-body" },
      h("button", { type: "button", class: "close", "aria-label": "Close the task panel", onclick: hooks.onClose }, "×"),
      h("h2", {}, task.name),
      h(
        "p",
        {},
        h("span", { class: "badge", "data-state": task.state, "data-test": "task-state" }, task.state),
        " ",
        h("span", { class: "muted" }, timing(task)),
      ),
      runsPicker(task, hooks),
      task.state === "ERROR" ? rerunButtons(task, ctx, hooks.onChanged) : null,
      section("State info", valueBlock(task.state_info || "—", { "data-test": "task-state-info" }, { fold: false })),
      section("Input", inputBlock(children)),
      section("Published", valueBlock(task.published || "{}", { "data-test": "task-published" })),
      section("Result", valueBlock(task.result === undefined ? null : task.result, { "data-test": "task-result" })),
      children.kind === "workflow" ? subExecutions(children.items) : actionList(children.items, children.more),
    ),
  );
  return task;
}

function section(title, content) {
  return [h("div", { class: "section-title" }, title), content];
}

function timing(task) {
  const start = parseTime(task.started_at || task.created_at);
  const end = task.finished_at ? parseTime(task.finished_at) : Date.now();
  const took = formatDuration(start, end);
  return [formatTime(task.started_at || task.created_at), took && `(${took})`].filter(Boolean).join(" ");
}

async function childrenOf(task, api) {
  const id = encodeURIComponent(task.id);
  if (task.type === "WORKFLOW") {
    const answer = await api.get("/executions", {
      task_execution_id: task.id,
      fields: "id,workflow_name,state,input,created_at",
      sort_keys: "created_at",
    });
    return { kind: "workflow", items: answer.executions || [], more: false };
  }
  const answer = await api.get(`/tasks/${id}/action_executions`, { limit: ACTIONS_SHOWN, include_output: "true" });
  const items = answer.action_executions || [];
  return { kind: "action", items, more: Boolean(answer.next) };
}

function inputBlock(children) {
  if (children.items.length === 1) return valueBlock(children.items[0].input, { "data-test": "task-input" });
  const note = children.items.length ? "One input per run: see each below." : "No input yet.";
  return h("p", { class: "muted", "data-test": "task-input" }, note);
}

function runsPicker(task, hooks) {
  if (!hooks.runs || hooks.runs.length < 2) return null;
  return h(
    "p",
    { class: "actions" },
    h("span", { class: "muted" }, "Runs:"),
    hooks.runs.map((run, i) =>
      h(
        "button",
        { type: "button", "aria-pressed": String(run.id === task.id), onclick: () => hooks.onRun(run.id) },
        `${i + 1} (${run.state})`,
      ),
    ),
  );
}

function rerunButtons(task, ctx, onChanged) {
  const withItems = Boolean((decodeJson(task.runtime_context) || {}).with_items);
  async function rerun(reset, button) {
    button.disabled = true;
    try {
      // NOTE: as python-mistralclient's task-rerun: state RUNNING; reset false (--resume) keeps the
      // items that succeeded, which only a with-items task has.
      await ctx.api.put(`/tasks/${encodeURIComponent(task.id)}`, { id: task.id, state: "RUNNING", reset });
      ctx.toast(`Task ${task.name} is running again.`, "success");
      onChanged();
    } catch (error) {
      ctx.toast(error.message, "error");
      button.disabled = false;
    }
  }
  const again = h(
    "button",
    {
      type: "button",
      class: "primary",
      "data-test": "rerun",
      title: withItems ? "Run again only the items that failed" : "Run the task again",
    },
    withItems ? "Rerun failed items" : "Rerun",
  );
  again.addEventListener("click", () => rerun(!withItems, again));
  const fresh = h(
    "button",
    { type: "button", "data-test": "rerun-reset", title: "Run the task again from the start (all its items)" },
    withItems ? "Rerun all items" : "Rerun from the start",
  );
  fresh.addEventListener("click", () => rerun(true, fresh));
  return h("div", { class: "actions" }, again, fresh);
}

function actionList(actions, more) {
  return section(
    `Action executions (${actions.length}${more ? "+" : ""})`,
    h(
      "div",
      { "data-test": "task-actions" },
      actions.map((action) =>
        h(
          "details",
          { class: "action" },
          h("summary", {}, h("span", { class: "badge", "data-state": action.state }, action.state), " ", action.name),
          action.state_info ? valueBlock(action.state_info, {}, { fold: false }) : null,
          h("div", { class: "section-title" }, "Input"),
          valueBlock(action.input),
          h("div", { class: "section-title" }, "Output"),
          valueBlock(action.output),
        ),
      ),
    ),
  );
}

function subExecutions(executions) {
  return section(
    "Sub-workflow executions",
    h(
      "ul",
      { "data-test": "task-subexecutions" },
      executions.map((ex) =>
        h(
          "li",
          {},
          h("span", { class: "badge", "data-state": ex.state }, ex.state),
          " ",
          h("a", { href: `#/executions/${encodeURIComponent(ex.id)}` }, ex.workflow_name || ex.id),
        ),
      ),
    ),
  );
}
