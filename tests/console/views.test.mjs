import assert from "node:assert/strict";
import { test } from "node:test";

import { fakeCtx, installFakeDom, newRoot, settle } from "./fake_dom.mjs";

installFakeDom();
const definitions = await import("../../mistral/api/console/static/js/views/definitions.js");
const start = await import("../../mistral/api/console/static/js/views/start.js");
const triggers = await import("../../mistral/api/console/static/js/views/triggers.js");

const YAML = "version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.noop\n";
const WORKFLOW = {
  id: "w1", name: "wf", namespace: "", scope: "private", tags: ["nightly"], definition: YAML,
  input: 'a, b="2"', interface: JSON.stringify({ input: ["a", { b: 2 }], output: [] }),
  created_at: "2026-11-30 03:00:00", updated_at: "2026-11-30 03:00:00",
};
const PROBLEM = "Invalid DSL: 1 problem(s):\n  - wf.tasks.a.x: unknown keyword 'x' (line 4)";
const named = (root, tag, name) => root.findAll((el) => el.tagName === tag && el.getAttribute("name") === name)[0];
const buttonNamed = (root, text) => root.findAll((el) => el.tagName === "BUTTON" && el.textContent === text)[0];

test("the definitions list: a row per definition, linked by id, paged and sorted by name", async () => {
  const ctx = fakeCtx({ "GET /workflows": { workflows: [WORKFLOW] } });
  const root = newRoot();
  await definitions.render(root, { kind: "workflows" }, ctx);
  const [row] = root.all("def-row");
  assert.equal(root.all("def-row").length, 1);
  assert.equal(row.findAll((el) => el.tagName === "A")[0].getAttribute("href"), "#/workflows/w1");
  assert.match(row.textContent, /nightly/);
  assert.deepEqual(ctx.calls[0].arg, {
    fields: "id,name,namespace,scope,tags,created_at,updated_at", limit: 100, sort_keys: "name",
    sort_dirs: "asc", marker: undefined, name: undefined,
  });
});

test("one definition: its YAML, validated at once, each problem with its line", async () => {
  const ctx = fakeCtx({
    "GET /workflows/w1": WORKFLOW,
    "POST /workflows/validate": (text) => (text === YAML ? { valid: false, error: PROBLEM } : { valid: true }),
  });
  const root = newRoot();
  const dispose = await definitions.render(root, { kind: "workflows", id: "w1" }, ctx);
  const editor = root.find("yaml-editor");
  assert.equal(editor.value, YAML);
  await settle(10);
  assert.deepEqual(ctx.calls[1], { method: "POST", path: "/workflows/validate", arg: YAML });
  const [problem] = root.all("validate-error");
  assert.equal(problem.getAttribute("data-line"), "4");
  assert.match(problem.textContent, /unknown keyword 'x'/);

  await problem.children[0].click();
  assert.equal(editor.selectionStart, YAML.indexOf("    a:"));
  assert.ok(editor.focused);

  editor.value = YAML.replace("a:", "b:");
  await editor.dispatch("input");
  await settle(450);
  assert.equal(ctx.calls.length, 3);
  assert.equal(root.all("validate-error").length, 0);
  assert.match(root.find("validate-errors").textContent, /Valid/);
  dispose();
});

test("edits typed quickly are validated once, after the pause", async () => {
  const ctx = fakeCtx({ "GET /workflows/w1": WORKFLOW, "POST /workflows/validate": { valid: true } });
  const root = newRoot();
  const dispose = await definitions.render(root, { kind: "workflows", id: "w1" }, ctx);
  await settle(10);
  const editor = root.find("yaml-editor");
  for (const text of ["x", "xy", "xyz"]) {
    editor.value = text;
    await editor.dispatch("input");
    await settle(50);
  }
  await settle(450);
  const posts = ctx.calls.filter((c) => c.method === "POST");
  assert.deepEqual(posts.map((c) => c.arg), [YAML, "xyz"]);
  dispose();
});

test("Save puts the text as the client does; a refusal is a toast", async () => {
  let refuse = false;
  const ctx = fakeCtx({
    "GET /workflows/w1": WORKFLOW,
    "POST /workflows/validate": { valid: true },
    "PUT /workflows": () => {
      if (refuse) throw new Error("Can not modify a system workflow");
      return { workflows: [WORKFLOW] };
    },
  });
  const root = newRoot();
  const dispose = await definitions.render(root, { kind: "workflows", id: "w1" }, ctx);
  await root.find("save-button").click();
  const put = ctx.calls.find((c) => c.method === "PUT");
  assert.deepEqual(put, { method: "PUT", path: "/workflows?namespace=&scope=private", arg: YAML });
  assert.equal(ctx.toasts.at(-1).kind, "success");
  refuse = true;
  await root.find("save-button").click();
  assert.deepEqual(ctx.toasts.at(-1), { message: "Can not modify a system workflow", kind: "error" });
  const startLink = root.findAll((el) => el.tagName === "A" && el.textContent === "Start")[0];
  assert.equal(startLink.getAttribute("href"), "#/start/wf");
  dispose();
});

test("a workbook is found by name, in the default namespace first", async () => {
  const book = { ...WORKFLOW, name: "book", namespace: "" };
  const ctx = fakeCtx({
    "GET /workbooks": { workbooks: [{ ...book, namespace: "other" }, book] },
    "POST /workbooks/validate": { valid: true },
  });
  const root = newRoot();
  const dispose = await definitions.render(root, { kind: "workbooks", id: "book" }, ctx);
  assert.deepEqual(ctx.calls[0].arg, { name: "eq:book" });
  assert.doesNotMatch(root.textContent, /namespace other/);
  assert.equal(root.findAll((el) => el.textContent === "Start").length, 0);
  dispose();
});

test("the start form: a field per input, defaults filled, posted as the client posts", async () => {
  const ctx = fakeCtx({ "GET /workflows/wf": WORKFLOW, "POST /executions": { id: "ex1" } });
  const root = newRoot();
  await start.render(root, { workflow: "wf" }, ctx);
  assert.equal(root.find("input-a").value, "");
  assert.equal(root.find("input-b").value, "2");
  root.find("input-a").value = "[1, 2]";
  named(root, "TEXTAREA", "env").value = '{"region": "north"}';
  named(root, "INPUT", "description").value = "by hand";
  const event = await root.find("start-form").dispatch("submit");
  assert.ok(event.defaultPrevented);
  const post = ctx.calls.find((c) => c.method === "POST");
  assert.deepEqual(post.arg, {
    workflow_name: "wf", workflow_namespace: "", input: '{"a":[1,2]}', description: "by hand",
    params: '{"env":{"region":"north"}}',
  });
  assert.deepEqual(ctx.navigations, ["#/executions/ex1"]);
});

test("the start form shows the API's error, and a bad env before any request", async () => {
  const ctx = fakeCtx({
    "GET /workflows/wf": WORKFLOW,
    "POST /executions": () => {
      throw new Error("Invalid input [name=wf, class=Workflow, missing=['a']]");
    },
  });
  const root = newRoot();
  await start.render(root, { workflow: "wf" }, ctx);
  const error = root.findAll((el) => el.getAttribute("role") === "alert")[0];
  named(root, "TEXTAREA", "env").value = "[1]";
  await root.find("start-form").dispatch("submit");
  assert.equal(error.hidden, false);
  assert.match(error.textContent, /env is not a JSON object/);
  assert.equal(ctx.calls.filter((c) => c.method === "POST").length, 0);
  named(root, "TEXTAREA", "env").value = "";
  await root.find("start-form").dispatch("submit");
  assert.match(error.textContent, /missing=\['a'\]/);
  // An empty required field is not sent: the server names it missing.
  assert.equal(ctx.calls.find((c) => c.method === "POST").arg.input, "{}");
  assert.deepEqual(ctx.navigations, []);
});

function triggerRoutes() {
  const next = new Date(Date.now() + 5 * 60_000).toISOString().slice(0, 19).replace("T", " ");
  const cron = [{
    id: "c1", name: "nightly", workflow_name: "wf", pattern: "0 2 * * *", next_execution_time: next,
    remaining_executions: 3,
  }];
  return {
    cron,
    routes: {
      "GET /workflows": { workflows: [{ id: "w1", name: "wf", namespace: "" }] },
      "GET /cron_triggers": () => ({ cron_triggers: structuredClone(cron) }),
      "GET /event_triggers": {
        event_triggers: [{ id: "e1", name: "", workflow_id: "w1", exchange: "nova", topic: "n", event: "x.y" }],
      },
      "POST /cron_triggers": (body) => {
        cron.push({ id: "c2", workflow_name: "wf", ...body });
        return cron.at(-1);
      },
      "DELETE /cron_triggers/c1": () => {
        cron.splice(0, 1);
        return null;
      },
    },
  };
}

test("triggers: both lists, the next run, create and delete", async () => {
  const { routes } = triggerRoutes();
  const ctx = fakeCtx(routes);
  const root = newRoot();
  const stop = await triggers.render(root, {}, ctx);
  await settle(10);
  const rows = root.all("trigger-row");
  assert.equal(rows.length, 2);
  assert.match(root.find("trigger-next").textContent, /\(in [45]m/);
  assert.match(rows[1].textContent, /wf.*nova/);

  const form = root.findAll((el) => el.tagName === "FORM")[0];
  named(form, "INPUT", "name").value = "hourly";
  named(form, "INPUT", "pattern").value = "0 * * * *";
  named(form, "INPUT", "remaining_executions").value = "5";
  named(form, "SELECT", "workflow_id").value = "w1";
  await form.dispatch("submit");
  const post = ctx.calls.find((c) => c.method === "POST");
  assert.deepEqual(post.arg, { name: "hourly", pattern: "0 * * * *", remaining_executions: 5, workflow_id: "w1" });
  assert.equal(root.all("trigger-row").length, 3);

  const first = root.all("trigger-row")[0];
  await buttonNamed(first, "Delete").click();
  await first.find("confirm-delete").click();
  assert.ok(ctx.calls.some((c) => c.method === "DELETE" && c.path === "/cron_triggers/c1"));
  assert.equal(root.all("trigger-row").length, 2);
  assert.ok(!root.all("trigger-row").includes(first));
  stop();
});

test("triggers: a row is updated in place between polls", async () => {
  const { routes, cron } = triggerRoutes();
  const ctx = fakeCtx(routes);
  const root = newRoot();
  const stop = await triggers.render(root, {}, ctx);
  await settle(10);
  const row = root.all("trigger-row")[0];
  cron[0].remaining_executions = 2;
  await settle(2100);
  assert.equal(root.all("trigger-row")[0], row);
  assert.match(row.textContent, /0 2 \* \* \*.*2/);
  stop();
});
