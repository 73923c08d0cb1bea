/**
 * #/executions/:id — one execution: its state and controls, the task graph (or the timeline), the
 * task list and the panel of the task opened; all of it kept up to date by polling.
 */

import { h, clear } from "../dom.js";
import { FINAL_STATES, formatDuration, formatTime, parseTime } from "../format.js";
import { drawGraph } from "../graph_view.js";
import { startPolling } from "../poller.js";
import { showTask } from "../task_panel.js";
import { TaskStore, runtimeOf, supersededBy, updatedSince } from "../task_store.js";
import { valueBlock } from "../values.js";
import { workflowGraph } from "../workflow_graph.js";

const POLL_MS = 1000;
/** A finished execution is only watched (for a rerun made elsewhere) at this pace. */
const IDLE_POLL_MS = 5000;
/** Every so often the whole task list is read again, in case an incremental poll missed a row. */
const RESYNC_MS = 30000;
/** Seconds subtracted from the latest updated_at seen: a row may commit after the time written in it. */
const SLACK_SECONDS = 5;
const TIMELINE_REFRESH_MS = 3000;
const TASK_FIELDS = "id,name,type,state,runtime_context,created_at,updated_at,started_at,finished_at";
const ACTION_FIELDS = "id,name,state,task_execution_id,created_at,updated_at";
const PAGE = 1000;
/** Tasks whose actions one request asks for (the ids travel in the URL). */
const IDS_PER_REQUEST = 40;
const LEGEND = ["NOT_STARTED", "IDLE", "WAITING", "RUNNING", "RUNNING_DELAYED", "PAUSED", "SUCCESS", "ERROR", "CANCELLED"];

/**
 * @param {HTMLElement} root
 * @param {{id: string}} params
 * @param {{api: Object, navigate: function(string): void, toast: function(string, string=): void}} ctx
 * @returns {Promise<function(): void>} stops the polling
 */
export async function render(root, params, ctx) {
  const path = `/executions/${encodeURIComponent(params.id)}`;
  // NOTE: the tasks are read after the execution: when it is finished, so are the tasks read.
  const first = await ctx.api.get(path);
  const [specAnswer, taskList] = await Promise.all([
    ctx.api.get(`${path}/spec`).catch(() => null),
    fetchTasks(ctx.api, path, ""),
  ]);
  const tasks = new TaskStore();
  tasks.merge(taskList);
  let execution = first;

  // NOTE: a control (pause, rerun...) changes the execution: read it again at once.
  const changedHere = () => {
    settled = false;
    polling.wake();
  };
  const header = executionHeader(execution, ctx, path, changedHere);
  const panel = h("aside", { class: "task-panel", "data-test": "task-panel", hidden: true, "aria-label": "Task" });
  const body = h("div", { class: "exec-body no-panel" });
  const graphTab = tabPanel("graph", false);
  const timelineTab = tabPanel("timeline", true);
  const list = taskTable(openTaskId);
  const spec = specAnswer && specAnswer.spec;
  const graph = spec ? workflowGraph(spec) : null;
  let view = null;
  if (graph && graph.nodes.length) {
    const scroll = h("div", { class: "graph-scroll" });
    graphTab.append(legend(), scroll);
    view = drawGraph(scroll, graph, openTaskName);
  } else {
    const missing = "The definition of this execution is not available: its tasks are listed below.";
    graphTab.append(h("p", { class: "notice" }, missing));
  }
  graphTab.append(list.element);

  const timeline = timelineController(ctx, tasks, timelineTab);
  const tabs = tabBar((name) => {
    graphTab.hidden = name !== "graph";
    timelineTab.hidden = name !== "timeline";
    timeline.active = name === "timeline";
    if (timeline.active) timeline.refresh(true);
  });
  body.append(h("div", {}, tabs, graphTab, timelineTab), panel);
  root.append(header.element, body);

  function paint(names, ids) {
    for (const name of names) {
      const task = tasks.latest(name);
      // NOTE: a superseded run is history; its task waits for the re-run to reach it again.
      if (view && task) view.setState(name, supersededBy(task) ? "SUPERSEDED" : task.state, withItems(task));
    }
    for (const id of ids) list.update(tasks.byId.get(id));
  }
  paint(tasks.byName.keys(), tasks.byId.keys());

  // The task panel: which task execution it shows, as of which state and update (it is read again when
  // either changes: a re-run of a SUCCESS task may end SUCCESS again before a poll sees it RUNNING).
  let openId = null;
  let openVersion = null;
  let panelRequest = 0;
  // NOTE: the node or row the panel was opened from gets the focus back when it closes (keyboard users).
  let openedFrom = null;
  async function openTaskId(id, { focus = true } = {}) {
    const task = tasks.byId.get(id);
    if (!task) return;
    if (focus && !panel.contains(document.activeElement)) openedFrom = document.activeElement;
    openId = id;
    openVersion = versionOf(task);
    const mine = ++panelRequest;
    panel.hidden = false;
    body.classList.remove("no-panel");
    if (view) view.select(task.name);
    try {
      await showTask(panel, id, ctx, {
        runs: tasks.byName.get(task.name),
        onRun: openTaskId,
        onChanged: changedHere,
        onClose: closePanel,
        stale: () => mine !== panelRequest || openId === null,
      });
      if (focus && mine === panelRequest) panel.focus();
    } catch (error) {
      ctx.toast(error.message, "error");
    }
  }
  function openTaskName(name) {
    const task = tasks.latest(name);
    if (task) openTaskId(task.id);
    else ctx.toast(`Task ${name} has not started.`);
  }
  function closePanel() {
    openId = null;
    panel.hidden = true;
    body.classList.add("no-panel");
    if (view) view.select(null);
    if (openedFrom && openedFrom.isConnected) openedFrom.focus();
    openedFrom = null;
  }
  panel.setAttribute("tabindex", "-1");
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePanel();
  });

  let lastFull = Date.now();
  // NOTE: the render read every task: a finished execution has nothing left to read until it moves.
  let settled = FINAL_STATES.has(first.state);
  async function tick() {
    const fresh = await ctx.api.get(path);
    const moved = fresh.state !== execution.state || fresh.updated_at !== execution.updated_at;
    execution = fresh;
    if (moved) {
      header.update(execution);
      settled = false;
    }
    const finished = FINAL_STATES.has(execution.state);
    if (finished && settled) return IDLE_POLL_MS;
    // NOTE: once finished, one last full read, so nothing an incremental poll missed stays on screen.
    const full = finished || Date.now() - lastFull > RESYNC_MS;
    const found = await fetchTasks(ctx.api, path, full ? "" : updatedSince(tasks.maxUpdated, SLACK_SECONDS));
    if (full) lastFull = Date.now();
    const changed = tasks.merge(found);
    paint(changed.names, changed.ids);
    // NOTE: awaited, so that a poll is one request at a time, panel and timeline included.
    if (openId && changed.ids.has(openId) && versionOf(tasks.byId.get(openId)) !== openVersion) {
      await openTaskId(openId, { focus: false });
    }
    if (changed.ids.size) await timeline.refresh(false);
    settled = finished;
    return settled ? IDLE_POLL_MS : POLL_MS;
  }
  let lastError = "";
  const polling = startPolling(
    async () => {
      const delay = await tick();
      lastError = "";
      return delay;
    },
    POLL_MS,
    (error) => {
      if (error.message !== lastError && error.status !== 401) ctx.toast(error.message, "error");
      lastError = error.message;
    },
  );
  return polling;
}

/** Every task of the execution (paged), or those updated since `since` ("gte:..."). */
async function fetchTasks(api, path, since) {
  const found = [];
  let marker = "";
  for (;;) {
    const page = await api.get(`${path}/tasks`, {
      fields: TASK_FIELDS,
      limit: PAGE,
      marker,
      sort_keys: "created_at",
      updated_at: since,
    });
    const items = page.tasks || [];
    found.push(...items);
    if (!page.next || !items.length) return found;
    marker = items[items.length - 1].id;
  }
}

function versionOf(task) {
  return `${task.state} ${task.updated_at}`;
}

function withItems(task) {
  const runtime = runtimeOf(task);
  return runtime && runtime.with_items ? runtime.with_items : null;
}

function legend() {
  return h(
    "div",
    { class: "legend", "aria-label": "Colours of the task states" },
    LEGEND.map((state) =>
      h("span", {}, h("span", { class: "swatch badge", "data-state": state }), state.replace("_", " ").toLowerCase()),
    ),
  );
}

function tabPanel(name, hidden) {
  return h("div", { class: "tab-panel", role: "tabpanel", id: `panel-${name}`, "aria-labelledby": `tab-${name}`, hidden });
}

function tabBar(onSelect) {
  const buttons = [
    ["graph", "Graph"],
    ["timeline", "Timeline"],
  ].map(([name, label]) =>
    h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${name}`,
        "data-test": `tab-${name}`,
        "aria-controls": `panel-${name}`,
        "aria-selected": String(name === "graph"),
      },
      label,
    ),
  );
  buttons.forEach((button, i) => {
    button.addEventListener("click", () => {
      buttons.forEach((other) => other.setAttribute("aria-selected", String(other === button)));
      onSelect(i === 0 ? "graph" : "timeline");
    });
  });
  return h("div", { class: "tabs", role: "tablist" }, buttons);
}

/** The header: workflow, state, times, input and output, and the pause / resume / cancel buttons. */
function executionHeader(first, ctx, path, onChange) {
  const state = h("span", { class: "badge", "data-test": "exec-state" });
  const updated = h("span");
  const duration = h("span");
  const info = h("div", { class: "error-text" });
  const output = h("div");
  const controls = {
    pause: h("button", { type: "button", "data-test": "pause" }, "Pause"),
    resume: h("button", { type: "button", "data-test": "resume" }, "Resume"),
    cancel: h("button", { type: "button", class: "danger", "data-test": "cancel" }, "Cancel"),
  };
  const wanted = { pause: "PAUSED", resume: "RUNNING", cancel: "CANCELLED" };
  const DONE = { pause: "paused", resume: "resumed", cancel: "cancelled" };
  for (const [name, button] of Object.entries(controls)) {
    button.addEventListener("click", async () => {
      if (name === "cancel" && !window.confirm("Cancel this execution? Its running tasks are cancelled too.")) return;
      button.disabled = true;
      try {
        // NOTE: as python-mistralclient's execution-update -s: a PUT of the new state.
        await ctx.api.put(path, { state: wanted[name] });
        ctx.toast(`Execution ${DONE[name]}.`, "success");
      } catch (error) {
        ctx.toast(error.message, "error");
      }
      onChange();
    });
  }
  const root = `#/executions/${encodeURIComponent(first.root_execution_id || "")}`;
  const parent = first.task_execution_id
    ? h("span", {}, "sub-workflow of ", h("a", { href: root }, "its root execution"))
    : null;
  const element = h(
    "section",
    { class: "exec" },
    h(
      "div",
      { class: "exec-head" },
      h("h1", {}, first.workflow_name || "Execution"),
      state,
      h("div", { class: "actions" }, controls.pause, controls.resume, controls.cancel),
    ),
    h(
      "div",
      { class: "exec-meta" },
      h("span", { class: "mono" }, first.id),
      h("span", {}, `created ${formatTime(first.created_at)}`),
      updated,
      duration,
      parent,
      first.description ? h("span", {}, first.description) : null,
    ),
    info,
    h("details", {}, h("summary", {}, "Input"), valueBlock(first.input || "{}")),
    h("details", {}, h("summary", {}, "Output"), output),
  );
  let shownOutput;
  function update(ex) {
    state.textContent = ex.state;
    state.dataset.state = ex.state;
    updated.textContent = `updated ${formatTime(ex.updated_at)}`;
    const end = FINAL_STATES.has(ex.state) ? parseTime(ex.updated_at) : Date.now();
    duration.textContent = `took ${formatDuration(parseTime(ex.created_at), end)}`;
    info.textContent = ex.state_info || "";
    controls.pause.disabled = ex.state !== "RUNNING";
    controls.resume.disabled = ex.state !== "PAUSED";
    controls.cancel.disabled = FINAL_STATES.has(ex.state);
    if (ex.output !== shownOutput) {
      shownOutput = ex.output;
      output.replaceChildren(valueBlock(ex.output || "{}"));
    }
  }
  update(first);
  return { element, update };
}

/** The task executions as a table, one row each, updated in place. */
function taskTable(onOpen) {
  const rows = new Map();
  const tbody = h("tbody");
  const count = h("span");
  const element = h(
    "details",
    { class: "task-list", open: true },
    h("summary", {}, "Tasks ", count),
    h(
      "table",
      { class: "list" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, "State"), h("th", {}, "Task"), h("th", { class: "wide" }, "Started"), h("th", {}, "Duration")),
      ),
      tbody,
    ),
  );
  function update(task) {
    if (!task) return;
    let row = rows.get(task.id);
    if (!row) {
      row = {
        tr: h("tr", { "data-test": "task-row", "data-id": task.id }),
        state: h("span", { class: "badge" }),
        started: h("td", { class: "wide" }),
        duration: h("td"),
        note: h("span", { class: "note", "data-test": "task-superseded" }),
      };
      const open = h("button", { type: "button", class: "link", onclick: () => onOpen(task.id) }, task.name);
      row.tr.append(h("td", {}, row.state), h("td", {}, open, row.note), row.started, row.duration);
      rows.set(task.id, row);
      tbody.append(row.tr);
      count.textContent = `(${rows.size})`;
    }
    const by = supersededBy(task);
    row.tr.classList.toggle("superseded", Boolean(by));
    row.note.textContent = by ? " superseded" : "";
    row.note.title = by ? `History: the re-run of task ${by} replaced this run` : "";
    row.tr.dataset.state = task.state;
    row.state.dataset.state = task.state;
    row.state.textContent = task.state;
    row.started.textContent = formatTime(task.started_at);
    const end = task.finished_at ? parseTime(task.finished_at) : Date.now();
    row.duration.textContent = formatDuration(parseTime(task.started_at), end);
  }
  return { element, update };
}

/** The Timeline tab: views/timeline.js (when shipped) draws tasks and their actions. */
function timelineController(ctx, tasks, container) {
  const actions = new Map();
  const loadedAt = new Map();
  let module;
  let last = 0;
  let busy = false;
  const controller = {
    active: false,
    async refresh(now) {
      if (!controller.active || busy || (!now && Date.now() - last < TIMELINE_REFRESH_MS)) return;
      busy = true;
      try {
        if (module === undefined) module = await import("./timeline.js").catch(() => null);
        if (!module || typeof module.renderTimeline !== "function") {
          container.replaceChildren(h("p", { class: "notice" }, "The timeline is not available."));
          return;
        }
        await loadActions(ctx.api, tasks, actions, loadedAt);
        last = Date.now();
        clear(container);
        module.renderTimeline(container, tasks.all(), Object.fromEntries(actions));
      } catch (error) {
        ctx.toast(error.message, "error");
      } finally {
        busy = false;
      }
    },
  };
  return controller;
}

/**
 * The action executions of each task, read again for the tasks updated since they were read
 * (`loadedAt`: task id → the task's updated_at then).
 */
async function loadActions(api, tasks, actions, loadedAt) {
  const stale = tasks.all().filter((task) => task.type !== "WORKFLOW" && loadedAt.get(task.id) !== task.updated_at);
  for (let i = 0; i < stale.length; i += IDS_PER_REQUEST) {
    const ids = stale.slice(i, i + IDS_PER_REQUEST).map((task) => task.id);
    const answer = await api.get("/action_executions", {
      task_execution_id: `in:${ids.join(",")}`,
      fields: ACTION_FIELDS,
      limit: PAGE,
      sort_keys: "created_at",
    });
    for (const id of ids) {
      actions.set(id, []);
      loadedAt.set(id, tasks.byId.get(id).updated_at);
    }
    for (const action of answer.action_executions || []) actions.get(action.task_execution_id).push(action);
  }
}
