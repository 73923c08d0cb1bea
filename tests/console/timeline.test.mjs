import assert from "node:assert/strict";
import { test } from "node:test";

import { renderTimeline } from "../../mistral/api/console/static/js/views/timeline.js";

// renderTimeline reads the container's width and sets its innerHTML: a plain object stands in.
const container = () => ({ clientWidth: 800, innerHTML: "" });
const at = (seconds) => new Date(Date.UTC(2026, 10, 30, 3, 0, seconds)).toISOString().slice(0, 19).replace("T", " ");
const count = (html, pattern) => (html.match(pattern) || []).length;

test("one row per task, started tasks by start time, the others at the end as markers", () => {
  const tasks = [
    { id: "2", name: "second", state: "SUCCESS", started_at: at(5), finished_at: at(9) },
    { id: "3", name: "later", state: "WAITING", created_at: at(1) },
    { id: "1", name: "first", state: "ERROR", started_at: at(0), finished_at: at(3) },
  ];
  const box = container();
  renderTimeline(box, tasks, {});
  const order = [...box.innerHTML.matchAll(/data-task="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(order, ["first", "second", "later"]);
  assert.equal(count(box.innerHTML, /class="tl-bar"/g), 2);
  assert.equal(count(box.innerHTML, /class="tl-marker"/g), 1);
  assert.match(box.innerHTML, /^<svg data-test="timeline"/);
  assert.match(box.innerHTML, /second: SUCCESS\n2026-11-30 03:00:05 → 2026-11-30 03:00:09 UTC \(4s\)/);
});

test("actions are thin bars in their task's row; names are escaped", () => {
  const tasks = [{ id: "t", name: "<b>&", state: "RUNNING", started_at: at(0) }];
  const actions = { t: [{ name: "std.echo", state: "SUCCESS", created_at: at(1), updated_at: at(2) }] };
  const box = container();
  renderTimeline(box, tasks, actions);
  assert.equal(count(box.innerHTML, /class="tl-action"/g), 1);
  assert.ok(!box.innerHTML.includes("<b>"));
  assert.match(box.innerHTML, /data-task="&#60;b&#62;&#38;"/);
});

test("a thousand tasks and a 10 000-item with-items draw quickly, the items merged per state", () => {
  const tasks = Array.from({ length: 1000 }, (_, i) => ({
    id: `t${i}`,
    name: `task_${i}`,
    state: i % 3 ? "SUCCESS" : "RUNNING",
    started_at: at(i % 60),
    finished_at: i % 3 ? at((i % 60) + 1) : null,
  }));
  const items = Array.from({ length: 10000 }, (_, i) => ({
    name: "std.noop",
    state: i % 2 ? "SUCCESS" : "ERROR",
    created_at: at(i % 30),
    updated_at: at((i % 30) + 1),
  }));
  const box = container();
  const began = performance.now();
  renderTimeline(box, tasks, { t0: items });
  assert.ok(performance.now() - began < 500, "rendering took too long");
  assert.equal(count(box.innerHTML, /class="tl-row"/g), 1000);
  assert.ok(count(box.innerHTML, /class="tl-action"/g) <= 2 * 800);
  assert.match(box.innerHTML, /\d+ actions: ERROR/);
});

test("no tasks: an empty chart, not an error", () => {
  const box = container();
  renderTimeline(box, [], {});
  assert.match(box.innerHTML, /aria-label="Timeline of 0 tasks"/);
});
