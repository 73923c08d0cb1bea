// The console's task store: what a poll changed, and what the next poll asks for.
import { test } from "node:test";
import assert from "node:assert/strict";

import { TaskStore, runtimeOf, supersededBy, updatedSince } from "../../mistral/api/console/static/js/task_store.js";

const task = (id, name, state, created, updated, runtime) => ({
  id,
  name,
  state,
  created_at: created,
  updated_at: updated,
  runtime_context: runtime,
});

test("a poll reports only the tasks that changed", () => {
  const store = new TaskStore();
  let changed = store.merge([task("1", "a", "RUNNING", "2024-01-01 00:00:00", "2024-01-01 00:00:00")]);
  assert.deepEqual([...changed.ids], ["1"]);
  changed = store.merge([task("1", "a", "RUNNING", "2024-01-01 00:00:00", "2024-01-01 00:00:00")]);
  assert.equal(changed.ids.size, 0);
  changed = store.merge([task("1", "a", "RUNNING", "2024-01-01 00:00:00", "2024-01-01 00:00:01", '{"with_items": {"done": 1}}')]);
  assert.deepEqual([...changed.names], ["a"]);
  assert.equal(store.maxUpdated, "2024-01-01 00:00:01");
});

test("the latest run of a name is what its node shows", () => {
  const store = new TaskStore();
  store.merge([
    task("2", "loop", "RUNNING", "2024-01-01 00:00:05", "2024-01-01 00:00:05"),
    task("1", "loop", "SUCCESS", "2024-01-01 00:00:01", "2024-01-01 00:00:04"),
    task("3", "other", "ERROR", "2024-01-01 00:00:02", "2024-01-01 00:00:03"),
  ]);
  assert.equal(store.latest("loop").id, "2");
  assert.deepEqual(store.byName.get("loop").map((t) => t.id), ["1", "2"]);
  assert.deepEqual(store.all().map((t) => t.id), ["1", "3", "2"]);
  assert.equal(store.latest("missing"), undefined);
  store.merge([task("2", "loop", "SUCCESS", "2024-01-01 00:00:05", "2024-01-01 00:00:09")]);
  assert.equal(store.latest("loop").state, "SUCCESS");
  assert.equal(store.byName.get("loop").length, 2);
});

test("the next poll asks for changes since the latest, less the slack", () => {
  assert.equal(updatedSince("", 5), "");
  assert.equal(updatedSince("2024-01-01 00:00:03", 5), "gte:2023-12-31 23:59:58");
});

test("a superseded run names the re-run task; anything else is not superseded", () => {
  assert.equal(supersededBy({ runtime_context: '{"superseded_by": "t-9"}' }), "t-9");
  assert.equal(supersededBy({ runtime_context: { superseded_by: "t-9" } }), "t-9");
  assert.equal(supersededBy({ runtime_context: "{}" }), null);
  assert.equal(supersededBy({ runtime_context: "not json" }), null);
  assert.equal(supersededBy({ runtime_context: '["x"]' }), null);
  assert.equal(supersededBy({}), null);
  assert.deepEqual(runtimeOf({ runtime_context: '{"with_items": {"count": 3}}' }), { with_items: { count: 3 } });
});
