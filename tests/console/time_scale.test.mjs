import assert from "node:assert/strict";
import { test } from "node:test";

import {
  actionSpan,
  formatTick,
  formatUtc,
  niceStep,
  parseApiTime,
  taskSpan,
  timeScale,
} from "../../mistral/api/console/static/js/time_scale.js";

const T0 = Date.UTC(2026, 10, 30, 3, 0, 0);

test("API times are UTC", () => {
  assert.equal(parseApiTime("2026-11-30 03:00:00"), T0);
  assert.equal(parseApiTime("2026-11-30T03:00:00Z"), T0);
  assert.equal(parseApiTime("2026-11-30 03:00:00.250"), T0 + 250);
  assert.equal(parseApiTime("2026-11-30T04:00:00+01:00"), T0);
  assert.equal(parseApiTime(null), null);
  assert.equal(parseApiTime("soon"), null);
  assert.equal(formatUtc(T0), "2026-11-30 03:00:00");
});

test("a finished task spans started_at to finished_at", () => {
  const task = { state: "SUCCESS", started_at: "2026-11-30 03:00:00", finished_at: "2026-11-30 03:00:05" };
  assert.deepEqual(taskSpan(task, T0 + 60000), { start: T0, end: T0 + 5000 });
});

test("a running task ends now; a finished one without finished_at at updated_at", () => {
  const running = { state: "RUNNING", created_at: "2026-11-30 03:00:00" };
  assert.deepEqual(taskSpan(running, T0 + 7000), { start: T0, end: T0 + 7000 });
  const done = { state: "ERROR", created_at: "2026-11-30 03:00:00", updated_at: "2026-11-30 03:00:02" };
  assert.deepEqual(taskSpan(done, T0 + 7000), { start: T0, end: T0 + 2000 });
});

test("a task that has not started has no span", () => {
  assert.equal(taskSpan({ state: "WAITING", created_at: "2026-11-30 03:00:00" }, T0), null);
  assert.equal(taskSpan({ state: "IDLE" }, T0), null);
});

test("an action spans created_at to updated_at, or to now while it runs", () => {
  const action = { state: "SUCCESS", created_at: "2026-11-30 03:00:01", updated_at: "2026-11-30 03:00:03" };
  assert.deepEqual(actionSpan(action, T0 + 9000), { start: T0 + 1000, end: T0 + 3000 });
  assert.deepEqual(actionSpan({ ...action, state: "RUNNING" }, T0 + 9000), { start: T0 + 1000, end: T0 + 9000 });
  assert.equal(actionSpan({ state: "RUNNING" }, T0), null);
});

test("the tick step is a readable one that keeps the ticks few", () => {
  assert.equal(niceStep(10_000, 10), 1000);
  assert.equal(niceStep(45_000, 10), 5000);
  assert.equal(niceStep(3_600_000, 8), 10 * 60_000);
  assert.equal(niceStep(30 * 86_400_000, 5), 7 * 86_400_000);
  assert.equal(niceStep(400 * 86_400_000, 5), 12 * 7 * 86_400_000);
});

test("the scale maps the span onto the pixels, with ticks on whole steps inside it", () => {
  const scale = timeScale(T0 + 500, T0 + 10_500, 100, 600, 10);
  assert.equal(scale.x(T0 + 500), 100);
  assert.equal(scale.x(T0 + 10_500), 600);
  assert.equal(scale.x(T0 + 5_500), 350);
  assert.equal(scale.step, 1000);
  assert.equal(scale.ticks.length, 10);
  assert.equal(scale.ticks[0], T0 + 1000);
  assert.ok(scale.ticks.every((t) => t % 1000 === 0 && t >= scale.start && t <= scale.end));
});

test("a zero-length span still has a width", () => {
  const scale = timeScale(T0, T0, 0, 100, 5);
  assert.equal(scale.end, T0 + 1000);
  assert.equal(scale.x(T0 + 1000), 100);
});

test("tick labels", () => {
  assert.equal(formatTick(T0 + 5000, 1000), "03:00:05");
  assert.equal(formatTick(T0, 60_000), "03:00");
  assert.equal(formatTick(T0, 86_400_000), "11-30");
});
