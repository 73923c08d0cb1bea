// The console's route table: every route of the contract, and what each hash renders.
import { test } from "node:test";
import assert from "node:assert/strict";

import { match, ROUTES } from "../../mistral/api/console/static/js/router.js";

test("every route of the console contract is in the table", () => {
  assert.deepEqual(
    ROUTES.map((r) => `${r.path} ${r.module}`),
    [
      "/executions ./views/executions.js",
      "/executions/:id ./views/execution.js",
      "/workflows ./views/definitions.js",
      "/workflows/:id ./views/definitions.js",
      "/workbooks ./views/definitions.js",
      "/workbooks/:name ./views/definitions.js",
      "/actions ./views/definitions.js",
      "/actions/:name ./views/definitions.js",
      "/triggers ./views/triggers.js",
      "/start/:workflow ./views/start.js",
    ],
  );
});

test("a hash names its view and its decoded parameters", () => {
  assert.deepEqual(match("#/executions/abc").params, { id: "abc" });
  assert.equal(match("#/executions").route.module, "./views/executions.js");
  assert.deepEqual(match("#/workflows").params, { kind: "workflows" });
  assert.deepEqual(match("#/workbooks/my%20book").params, { kind: "workbooks", name: "my book", id: "my book" });
  assert.deepEqual(match("#/actions/std.echo").params, { kind: "actions", name: "std.echo", id: "std.echo" });
  assert.deepEqual(match("#/start/wb.flow").params, { workflow: "wb.flow" });
});

test("an unknown hash matches nothing", () => {
  assert.equal(match("#/nowhere"), null);
  assert.equal(match("#/executions/a/b"), null);
});
