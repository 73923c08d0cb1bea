import assert from "node:assert/strict";
import { test } from "node:test";

import { lineOf, lineStart, validationProblems } from "../../mistral/api/console/static/js/validation_lines.js";

test("every problem of an InvalidSpecError, with its line", () => {
  const error =
    "Invalid DSL: 2 problem(s):\n" +
    "  - wf.tasks.a.badkey: unknown keyword 'badkey' (line 7)\n" +
    "  - wf.tasks.a.on-success[0]: task 'b' does not exist (line 6)";
  assert.deepEqual(validationProblems(error), [
    { message: "wf.tasks.a.badkey: unknown keyword 'badkey' (line 7)", line: 7 },
    { message: "wf.tasks.a.on-success[0]: task 'b' does not exist (line 6)", line: 6 },
  ]);
});

test("a YAML syntax error names its line with 'at line'", () => {
  const error =
    "Invalid DSL: 1 problem(s):\n  - Invalid YAML at line 5, column 1: while parsing a flow node; " +
    "expected the node content, but found '<stream end>'";
  const [problem] = validationProblems(error);
  assert.equal(problem.line, 5);
  assert.match(problem.message, /^Invalid YAML at line 5/);
});

test("a problem spanning lines stays one problem", () => {
  const error = "Invalid DSL: 2 problem(s):\n  - wf: bad expression\n    near here (line 3)\n  - wf: other";
  assert.deepEqual(validationProblems(error), [
    { message: "wf: bad expression\n    near here (line 3)", line: 3 },
    { message: "wf: other", line: null },
  ]);
});

test("any other error is one problem, without a line unless it names one", () => {
  assert.deepEqual(validationProblems("Workflow name is required"), [
    { message: "Workflow name is required", line: null },
  ]);
  assert.deepEqual(validationProblems(""), []);
  assert.deepEqual(validationProblems(null), []);
});

test("the line is read from the end of a problem first", () => {
  assert.equal(lineOf("wf.tasks.a: something at line 2 of the expression (line 9)"), 9);
  assert.equal(lineOf("nothing here"), null);
});

test("the offset of a line's start", () => {
  const text = "a\nbc\n\nd";
  assert.equal(lineStart(text, 1), 0);
  assert.equal(lineStart(text, 2), 2);
  assert.equal(lineStart(text, 3), 5);
  assert.equal(lineStart(text, 4), 6);
  assert.equal(lineStart(text, 9), text.length);
});
