/**
 * #/executions: the live list of workflow executions, filtered and paged as the v2 API pages.
 */

import { h } from "../dom.js";
import { formatDuration, formatTime, parseTime, FINAL_STATES } from "../format.js";
import { startPolling } from "../poller.js";

const PAGE_SIZE = 50;
const POLL_MS = 2000;
const STATES = ["IDLE", "RUNNING", "PAUSED", "SUCCESS", "ERROR", "CANCELLED"];
const FIELDS = "id,workflow_name,state,state_info,created_at,updated_at,task_execution_id";

/**
 * @param {HTMLElement} root
 * @param {Object} params
 * @param {{api: Object, navigate: function(string): void, toast: function(string, string=): void}} ctx
 * @returns {Promise<function(): void>} stops the polling
 */
export async function render(root, params, ctx) {
  const filters = { state: "", workflow: "", after: "" };
  // Markers of the pages before this one: "Previous" pops, "Next" pushes the last row's id.
  const markers = [];
  let marker = "";

  const stateSelect = h(
    "select",
    { "data-test": "state-filter", id: "state-filter", onchange: () => refilter("state", stateSelect.value) },
    h("option", { value: "" }, "Any state"),
    STATES.map((state) => h("option", { value: state }, state)),
  );
  const nameInput = h("input", { id: "wf-filter", type: "search", placeholder: "name contains…" });
  nameInput.addEventListener("change", () => refilter("workflow", nameInput.value.trim()));
  const afterInput = h("input", { id: "after-filter", type: "datetime-local" });
  afterInput.addEventListener("change", () => refilter("after", afterInput.value));
  const startButton = h(
    "button",
    { type: "button", class: "primary", "data-test": "start-button", onclick: () => ctx.navigate("#/workflows") },
    "Start…",
  );
  const body = h("tbody");
  const empty = h("p", { class: "notice", hidden: true }, "No executions.");
  const prev = h("button", { type: "button", disabled: true, onclick: () => page(markers.pop() || "") }, "Previous");
  const next = h("button", { type: "button", disabled: true }, "Next");
  const rows = new Map();

  root.append(
    h("h1", {}, "Executions"),
    h(
      "div",
      { class: "toolbar" },
      h("label", { for: "state-filter" }, "State", stateSelect),
      h("label", { for: "wf-filter" }, "Workflow", nameInput),
      h("label", { for: "after-filter" }, "Created after (local time)", afterInput),
      h("span", { class: "grow" }),
      startButton,
    ),
    h(
      "table",
      { class: "list" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", {}, "State"),
          h("th", {}, "Workflow"),
          h("th", { class: "wide" }, "ID"),
          h("th", { class: "wide" }, "Created"),
          h("th", { class: "wide" }, "Updated"),
          h("th", {}, "Duration"),
        ),
      ),
      body,
    ),
    empty,
    h("div", { class: "pager" }, prev, next),
  );

  function query() {
    return {
      limit: PAGE_SIZE,
      marker,
      sort_keys: "created_at",
      sort_dirs: "desc",
      fields: FIELDS,
      state: filters.state,
      workflow_name: filters.workflow ? `has:${filters.workflow}` : "",
      created_at: filters.after ? `gte:${apiTime(filters.after)}` : "",
    };
  }

  // NOTE: a poll sent before the filters changed may answer after the new page: only the last request shows.
  let sent = 0;
  async function load() {
    const mine = ++sent;
    const answer = await ctx.api.get("/executions", query());
    if (mine === sent) show(answer.executions || []);
  }

  function show(executions) {
    const seen = new Set();
    executions.forEach((ex, index) => {
      seen.add(ex.id);
      let row = rows.get(ex.id);
      if (!row) {
        row = newRow(ex);
        rows.set(ex.id, row);
      }
      updateRow(row, ex);
      // NOTE: moved only when out of place, so focus and hover stay on rows that did not move.
      if (body.children[index] !== row.tr) body.insertBefore(row.tr, body.children[index] || null);
    });
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.tr.remove();
        rows.delete(id);
      }
    }
    empty.hidden = executions.length > 0;
    prev.disabled = markers.length === 0 && !marker;
    next.disabled = executions.length < PAGE_SIZE;
    next.onclick = () => {
      markers.push(marker);
      page(executions[executions.length - 1].id);
    };
  }

  function newRow(ex) {
    const cells = {
      state: h("span", { class: "badge" }),
      workflow: h("a", { href: `#/executions/${encodeURIComponent(ex.id)}` }, ex.workflow_name || ex.id),
      id: h("td", { class: "wide mono" }, ex.id),
      created: h("td", { class: "wide" }),
      updated: h("td", { class: "wide" }),
      duration: h("td"),
    };
    const tr = h(
      "tr",
      { "data-test": "exec-row", "data-id": ex.id },
      h("td", {}, cells.state),
      h("td", {}, cells.workflow, ex.task_execution_id ? h("span", { class: "muted" }, " (sub-workflow)") : null),
      cells.id,
      cells.created,
      cells.updated,
      cells.duration,
    );
    return { tr, cells };
  }

  function updateRow(row, ex) {
    row.tr.dataset.state = ex.state;
    row.cells.state.dataset.state = ex.state;
    row.cells.state.textContent = ex.state;
    row.cells.state.title = ex.state_info || "";
    row.cells.created.textContent = formatTime(ex.created_at);
    row.cells.updated.textContent = formatTime(ex.updated_at);
    const end = FINAL_STATES.has(ex.state) ? parseTime(ex.updated_at) : Date.now();
    row.cells.duration.textContent = formatDuration(parseTime(ex.created_at), end);
  }

  function refilter(name, value) {
    filters[name] = value;
    markers.length = 0;
    page("");
  }

  function page(newMarker) {
    marker = newMarker;
    load().catch((error) => ctx.toast(error.message, "error"));
  }

  // NOTE: an error while polling (a server restart) shows once, not every two seconds.
  let lastError = "";
  return startPolling(
    async () => {
      await load();
      lastError = "";
    },
    POLL_MS,
    (error) => {
      if (error.message !== lastError && error.status !== 401) ctx.toast(error.message, "error");
      lastError = error.message;
    },
  );
}

/** "2024-01-31T13:00" in the browser's zone → "2024-01-31 12:00:00" in UTC, as the API filters. */
function apiTime(local) {
  return new Date(local).toISOString().slice(0, 19).replace("T", " ");
}
