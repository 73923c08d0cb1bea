// The console's pure graph modules: node --test tests/console/ (run by tests/console/test_console_js.py).
import { test } from "node:test";
import assert from "node:assert/strict";

import { layout, crossings } from "../../mistral/api/console/static/js/graph_layout.js";
import { workflowGraph, transitions } from "../../mistral/api/console/static/js/workflow_graph.js";

const edges = (pairs) => pairs.map(([from, to]) => ({ from, to }));
const layerOf = (placed, id) => placed.positions.get(id).layer;

test("a chain goes down one layer per task, in one column", () => {
  const placed = layout(["a", "b", "c"], edges([["a", "b"], ["b", "c"]]));
  assert.deepEqual(["a", "b", "c"].map((id) => layerOf(placed, id)), [0, 1, 2]);
  const xs = new Set(["a", "b", "c"].map((id) => placed.positions.get(id).x));
  assert.equal(xs.size, 1);
  const ys = ["a", "b", "c"].map((id) => placed.positions.get(id).y);
  assert.deepEqual([ys[1] - ys[0], ys[2] - ys[1]], [placed.rowStep, placed.rowStep]);
});

test("a join sits below its deepest branch (longest path)", () => {
  const placed = layout(["a", "b", "c", "d", "j"], edges([["a", "b"], ["b", "c"], ["a", "d"], ["c", "j"], ["d", "j"]]));
  assert.equal(layerOf(placed, "j"), 3);
  assert.equal(layerOf(placed, "d"), 1);
});

test("a cycle is laid out, its closing edge marked as back", () => {
  const placed = layout(["a", "b", "c"], edges([["a", "b"], ["b", "c"], ["c", "a"]]));
  assert.deepEqual(["a", "b", "c"].map((id) => layerOf(placed, id)), [0, 1, 2]);
  assert.deepEqual([...placed.back], [2]);
});

test("self loops and edges to unknown nodes are ignored", () => {
  const placed = layout(["a"], edges([["a", "a"], ["a", "zz"]]));
  assert.equal(layerOf(placed, "a"), 0);
  assert.equal(placed.back.size, 0);
});

test("the barycenter sweeps remove avoidable crossings", () => {
  // Given in this order, a->y and b->x cross: the layout swaps one layer.
  const nodes = ["a", "b", "x", "y", "p", "q"];
  const es = edges([["a", "y"], ["b", "x"], ["y", "p"], ["x", "q"]]);
  const placed = layout(nodes, es);
  const index = new Map(nodes.map((id, i) => [id, i]));
  const numbered = es.map((e) => ({ from: index.get(e.from), to: index.get(e.to) }));
  const layers = [[], [], []];
  for (const id of nodes) layers[placed.positions.get(id).layer][placed.positions.get(id).order] = index.get(id);
  const layerOfIndex = nodes.map((id) => placed.positions.get(id).layer);
  assert.equal(crossings([[0, 1], [2, 3], [4, 5]], layerOfIndex, numbered), 2);
  assert.equal(crossings(layers, layerOfIndex, numbered), 0);
});

test("crossings counts pairs of edges between consecutive layers", () => {
  const es = [{ from: 0, to: 3 }, { from: 1, to: 2 }];
  assert.equal(crossings([[0, 1], [2, 3]], [0, 0, 1, 1], es), 1);
  assert.equal(crossings([[0, 1], [3, 2]], [0, 0, 1, 1], es), 0);
});

test("nodes never overlap, and a wide layer wraps onto rows", () => {
  const leaves = Array.from({ length: 1000 }, (_, i) => `t${i}`);
  const started = performance.now();
  const placed = layout(["start", ...leaves, "end"], edges([...leaves.map((t) => ["start", t]), ...leaves.map((t) => ["end", t])]), {
    maxPerRow: 25,
  });
  assert.ok(performance.now() - started < 1000, "1000 tasks lay out in well under a second");
  const corners = new Set([...placed.positions.values()].map((p) => `${p.x},${p.y}`));
  assert.equal(corners.size, 1002);
  assert.ok(placed.width < 26 * (placed.nodeWidth + 24) + 100);
  const leafRows = new Set(leaves.map((t) => placed.positions.get(t).y));
  assert.equal(leafRows.size, 40);
});

test("a long chain does not overflow the stack", () => {
  const ids = Array.from({ length: 20000 }, (_, i) => `n${i}`);
  const placed = layout(ids, edges(ids.slice(1).map((id, i) => [ids[i], id])));
  assert.equal(layerOf(placed, "n19999"), 19999);
});

test("transitions: every on-* form", () => {
  assert.deepEqual(transitions("b"), [{ name: "b", condition: undefined }]);
  assert.deepEqual(transitions(["b", { c: "<% $.x %>" }]), [
    { name: "b", condition: undefined },
    { name: "c", condition: "<% $.x %>" },
  ]);
  assert.deepEqual(transitions({ publish: { branch: { x: 1 } }, next: [{ d: true }] }), [{ name: "d", condition: true }]);
  assert.deepEqual(transitions({ publish: { global: {} } }), []);
  assert.deepEqual(transitions(null), []);
});

test("a direct workflow: edges by kind, engine commands skipped, flags on nodes", () => {
  const graph = workflowGraph({
    tasks: {
      a: { action: "std.noop", "on-success": ["b", { c: "<% $.go %>" }], "on-error": "fail msg='no'" },
      b: { "with-items": "x in <% $.xs %>", "on-complete": { next: "j" } },
      c: { workflow: "child", "on-success": "j", "on-error": ["noop"] },
      j: { join: "all" },
    },
  });
  assert.equal(graph.type, "direct");
  assert.deepEqual(graph.edges, [
    { from: "a", to: "b", kind: "success" },
    { from: "a", to: "c", kind: "success", condition: "<% $.go %>" },
    { from: "b", to: "j", kind: "complete" },
    { from: "c", to: "j", kind: "success" },
  ]);
  const byId = Object.fromEntries(graph.nodes.map((n) => [n.id, n]));
  assert.equal(byId.b.withItems, true);
  assert.equal(byId.c.subworkflow, true);
  assert.equal(byId.j.join, true);
  assert.equal(byId.a.join, false);
});

test("task-defaults apply to tasks without their own clause, never back to the task itself", () => {
  const graph = workflowGraph({
    "task-defaults": { "on-error": "handler" },
    tasks: { a: { "on-success": "b" }, b: { "on-error": [] }, handler: {} },
  });
  assert.deepEqual(graph.edges, [
    { from: "a", to: "b", kind: "success" },
    { from: "a", to: "handler", kind: "error" },
  ]);
});

test("a task named like an engine command is a task", () => {
  const graph = workflowGraph({ tasks: { a: { "on-success": "noop" }, noop: {} } });
  assert.deepEqual(graph.edges, [{ from: "a", to: "noop", kind: "success" }]);
});

test("a reverse workflow: requires edges, task-defaults' requires added", () => {
  const graph = workflowGraph({
    type: "reverse",
    "task-defaults": { requires: ["setup"] },
    tasks: { setup: {}, a: { requires: "b" }, b: {} },
  });
  assert.equal(graph.type, "reverse");
  assert.deepEqual(graph.edges, [
    { from: "setup", to: "a", kind: "requires" },
    { from: "b", to: "a", kind: "requires" },
    { from: "setup", to: "b", kind: "requires" },
  ]);
});

test("a join by tags: an implicit success edge from each carrier, a written one counted once", () => {
  const graph = workflowGraph({
    tasks: {
      go: { "on-success": ["a", "b", "docs"] },
      a: { tags: ["Deployment"], "on-success": "done" },
      b: { tags: ["Deployment", "Web"] },
      docs: { tags: ["Docs"] },
      done: { tags: ["Deployment"], join: { tags: ["Deployment"] } },
    },
  });
  assert.deepEqual(graph.edges, [
    { from: "go", to: "a", kind: "success" },
    { from: "go", to: "b", kind: "success" },
    { from: "go", to: "docs", kind: "success" },
    { from: "a", to: "done", kind: "success" },
    { from: "b", to: "done", kind: "success", tags: ["Deployment"] },
  ]);
  assert.equal(graph.nodes.find((n) => n.id === "done").join, true);
});

test("a reverse workflow: requires by tags, mixed with names, each task once and never itself", () => {
  const graph = workflowGraph({
    type: "reverse",
    tasks: {
      db: { tags: ["Deployment"] },
      web: { tags: ["Deployment", "Web"] },
      smoke: { tags: ["PostDeployment", "Deployment"], requires: { tags: ["Deployment"] } },
      report: { requires: [{ tags: ["PostDeployment"] }, "db", { tags: ["Deployment", "Web"] }] },
    },
  });
  assert.deepEqual(graph.edges, [
    { from: "db", to: "smoke", kind: "requires", tags: ["Deployment"] },
    { from: "web", to: "smoke", kind: "requires", tags: ["Deployment"] },
    { from: "smoke", to: "report", kind: "requires", tags: ["PostDeployment"] },
    { from: "db", to: "report", kind: "requires" },
    { from: "web", to: "report", kind: "requires", tags: ["Deployment", "Web"] },
  ]);
});

test("a spec without tasks is an empty graph", () => {
  assert.deepEqual(workflowGraph(null), { type: "direct", nodes: [], edges: [] });
});
