/**
 * Cron and event triggers: live lists (next run, remaining runs), create forms, delete with a confirm.
 */

import { h } from "../dom.js";
import { startPolling } from "../poller.js";
import { formatDuration } from "../format.js";
import { parseApiTime } from "../time_scale.js";

const POLL_MS = 2000;
const WORKFLOW_LIMIT = 1000;

/**
 * @param {HTMLElement} root
 * @param {Object} params
 * @param {{api: Object, navigate: function(string): void, toast: function(string, string=): void}} ctx
 * @returns {Promise<function(): void>} dispose: stops polling
 */
export async function render(root, params, ctx) {
  const page = await ctx.api.get("/workflows", {
    fields: "id,name,namespace", limit: WORKFLOW_LIMIT, sort_keys: "name", sort_dirs: "asc",
  });
  const workflows = page.workflows || [];
  const sections = [cronSection(ctx, workflows), eventSection(ctx, workflows)];
  const refresh = () => Promise.all(sections.map((section) => section.refresh()));
  root.append(h("section", { class: "trg" }, h("h1", {}, "Triggers"), sections.map((section) => section.el)));
  return startPolling(refresh, POLL_MS);
}

// -- cron triggers --------------------------------------------------------------------------------

function cronSection(ctx, workflows) {
  const columns = [
    { title: "Workflow", text: (t) => t.workflow_name || "" },
    { title: "Pattern", text: (t) => t.pattern || "" },
    { title: "Next run (UTC)", text: nextRun, test: "trigger-next" },
    { title: "Remaining", text: (t) => (t.remaining_executions ?? "no limit").toString() },
  ];
  const form = triggerForm(ctx, workflows, "Create a cron trigger", [
    textField("name", "Name", { required: true }),
    textField("pattern", "Pattern", { placeholder: "*/5 * * * *" }),
    textField("first_execution_time", "First time (UTC)", { placeholder: "YYYY-MM-DD HH:MM" }),
    textField("remaining_executions", "Count", { type: "number", min: 1 }),
  ], "/cron_triggers", (values) => ({ ...values, remaining_executions: optionalNumber(values.remaining_executions) }));
  return listSection(ctx, {
    title: "Cron triggers",
    path: "/cron_triggers",
    plural: "cron_triggers",
    columns,
    label: (t) => t.name,
    form,
  });
}

function nextRun(trigger) {
  const next = parseApiTime(trigger.next_execution_time);
  if (next === null) return "—";
  const now = Date.now();
  const when = next > now ? `in ${formatDuration(now, next)}` : "due";
  return `${trigger.next_execution_time} (${when})`;
}

function optionalNumber(text) {
  return text === "" ? undefined : Number(text);
}

// -- event triggers -------------------------------------------------------------------------------

function eventSection(ctx, workflows) {
  const names = new Map(workflows.map((w) => [w.id, w.name]));
  const columns = [
    { title: "Workflow", text: (t) => names.get(t.workflow_id) || t.workflow_id },
    { title: "Exchange", text: (t) => t.exchange },
    { title: "Topic", text: (t) => t.topic },
    { title: "Event", text: (t) => t.event },
  ];
  const form = triggerForm(ctx, workflows, "Create an event trigger", [
    textField("name", "Name"),
    textField("exchange", "Exchange", { required: true, placeholder: "nova" }),
    textField("topic", "Topic", { required: true, placeholder: "notifications" }),
    textField("event", "Event", { required: true, placeholder: "compute.instance.create.end" }),
  ], "/event_triggers", (values) => values);
  return listSection(ctx, {
    title: "Event triggers",
    path: "/event_triggers",
    plural: "event_triggers",
    columns,
    label: (t) => t.name || t.id,
    form,
  });
}

// -- shared: a live list with its create form -----------------------------------------------------

/**
 * A section listing triggers, updated in place (a row keeps its focus and confirm state across polls).
 */
function listSection(ctx, { title, path, plural, columns, label, form }) {
  const body = h("tbody");
  const status = h("p", { class: "trg-status", role: "status" });
  const rows = new Map();

  async function remove(trigger) {
    await ctx.api.del(`${path}/${encodeURIComponent(trigger.id)}`);
    ctx.toast(`Deleted ${label(trigger)}`, "success");
    await refresh();
  }

  function rowFor(trigger) {
    const cells = columns.map((column) => h("td", { "data-test": column.test, "data-label": column.title }));
    const name = h("th", { scope: "row" });
    const el = h("tr", { "data-test": "trigger-row", "data-id": trigger.id },
      name, cells, h("td", {}, deleteControl(label(trigger), () => remove(trigger), ctx)));
    return { el, update(t) {
      setText(name, label(t));
      el.dataset.name = label(t);
      columns.forEach((column, i) => setText(cells[i], column.text(t)));
    } };
  }

  let running = null;
  let again = false;

  // One request at a time: a refresh asked for during one (after a delete) runs once it ends.
  function refresh() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await load();
      } while (again);
    })().finally(() => {
      running = null;
    });
    return running;
  }

  async function load() {
    let triggers;
    try {
      triggers = (await ctx.api.get(path))[plural] || [];
    } catch (error) {
      status.textContent = `Could not list ${title.toLowerCase()}: ${error.message}`;
      return;
    }
    status.textContent = triggers.length ? "" : `No ${title.toLowerCase()}.`;
    const seen = new Set();
    triggers.forEach((trigger, i) => {
      seen.add(trigger.id);
      if (!rows.has(trigger.id)) rows.set(trigger.id, rowFor(trigger));
      const row = rows.get(trigger.id);
      row.update(trigger);
      if (body.children[i] !== row.el) body.insertBefore(row.el, body.children[i] || null);
    });
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.el.remove();
        rows.delete(id);
      }
    }
  }

  const heads = [h("th", { scope: "col" }, "Name"), columns.map((column) => h("th", { scope: "col" }, column.title)),
    h("th", { scope: "col" }, h("span", { class: "trg-hidden" }, "Delete"))];
  const el = h("section", { class: "trg-section", "aria-label": title },
    h("h2", {}, title),
    h("div", { class: "trg-scroll" }, h("table", { class: "list stacked" }, h("thead", {}, h("tr", {}, heads)), body)),
    status,
    form.el);
  form.onCreated(refresh);
  return { el, refresh };
}

function setText(el, value) {
  const text = String(value ?? "");
  if (el.textContent !== text) el.textContent = text;
}

/** A Delete button that asks once more, in place, before it deletes. */
function deleteControl(label, onConfirm, ctx) {
  const cell = h("span", { class: "trg-delete" });
  const ask = h("button", { type: "button", "aria-label": `Delete ${label}` }, "Delete");
  const yes = h("button", { type: "button", class: "danger", "data-test": "confirm-delete" }, "Yes, delete");
  const no = h("button", { type: "button" }, "Keep");
  const question = h("span", { class: "trg-confirm", role: "group" }, `Delete ${label}? `, yes, " ", no);
  ask.addEventListener("click", () => {
    cell.replaceChildren(question);
    yes.focus();
  });
  no.addEventListener("click", () => {
    cell.replaceChildren(ask);
    ask.focus();
  });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    try {
      await onConfirm();
    } catch (error) {
      ctx.toast(error.message, "error");
      cell.replaceChildren(ask);
    } finally {
      yes.disabled = false;
    }
  });
  cell.append(ask);
  return cell;
}

/**
 * A create form (folded until opened): the given fields, a workflow, an input JSON; posts to `path`.
 * `shape(values)` turns the field texts into the request body's values.
 */
function triggerForm(ctx, workflows, title, fields, path, shape) {
  const workflow = h("select", { name: "workflow_id", required: true },
    workflows.map((w) => h("option", { value: w.id }, w.namespace ? `${w.name} (${w.namespace})` : w.name)));
  const input = h("textarea", {
    name: "workflow_input", rows: 2, spellcheck: "false", placeholder: '{"name": "value"}',
  });
  const error = h("p", { class: "trg-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Create");
  let created = () => {};
  const form = h("form", { class: "trg-form" },
    fields.map((field) => field.el),
    labelled("Workflow", workflow),
    labelled("Input (JSON object)", input),
    error,
    submit);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const values = Object.fromEntries(fields.map((field) => [field.name, field.input.value.trim()]));
    const body = dropEmpty({ ...shape(values), workflow_id: workflow.value, workflow_input: input.value.trim() });
    submit.disabled = true;
    try {
      await ctx.api.post(path, body);
      form.reset();
      ctx.toast(`Created ${body.name || "the trigger"}`, "success");
      await created();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return {
    el: h("details", { class: "trg-create" }, h("summary", {}, title),
      workflows.length ? form : h("p", { class: "notice" }, "There is no workflow to trigger yet.")),
    onCreated(callback) {
      created = callback;
    },
  };
}

function textField(name, title, attrs = {}) {
  const input = h("input", { type: "text", name, ...attrs });
  return { name, input, el: labelled(title, input) };
}

function labelled(title, control) {
  return h("label", { class: "trg-field" }, h("span", {}, title), control);
}

function dropEmpty(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== "" && v !== undefined && v !== null));
}
