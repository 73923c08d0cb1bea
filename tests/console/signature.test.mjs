import assert from "node:assert/strict";
import { test } from "node:test";

import {
  fieldValue,
  inputFields,
  parseSignature,
  startInput,
  valueText,
} from "../../mistral/api/console/static/js/signature.js";

test("a workflow signature: names, and defaults as the server writes them", () => {
  // format_workflow_spec: each default's Python text in double quotes.
  assert.deepEqual(parseSignature('a, b="2", c="None", e="[1, \'x\']"'), [
    { name: "a", defaultText: null },
    { name: "b", defaultText: "2" },
    { name: "c", defaultText: "None" },
    { name: "e", defaultText: "[1, 'x']" },
  ]);
});

test("a workflow default holding quotes ends before the next parameter", () => {
  // Not escaped by the server: the closing quote is the one followed by the next parameter.
  assert.deepEqual(parseSignature('msg="say "hi", now", last'), [
    { name: "msg", defaultText: 'say "hi", now' },
    { name: "last", defaultText: null },
  ]);
});

test("an action signature: JSON defaults, brackets kept whole, **kwargs left out", () => {
  assert.deepEqual(parseSignature('url, method="GET", params=null, body={"a": [1, 2]}, esc="a\\"b", **kwargs'), [
    { name: "url", defaultText: null },
    { name: "method", defaultText: "GET" },
    { name: "params", defaultText: "null" },
    { name: "body", defaultText: '{"a": [1, 2]}' },
    { name: "esc", defaultText: 'a"b' },
  ]);
});

test("an empty signature has no fields", () => {
  assert.deepEqual(parseSignature(""), []);
  assert.deepEqual(parseSignature("   "), []);
});

test("the interface is preferred: its defaults keep their type", () => {
  const workflow = {
    input: 'a, b="2", c="None"',
    interface: { input: ["a", { b: 2 }, { c: null }, { d: "text" }, { e: "3" }] },
  };
  assert.deepEqual(inputFields(workflow), [
    { name: "a", defaultText: null },
    { name: "b", defaultText: "2" },
    { name: "c", defaultText: "null" },
    { name: "d", defaultText: "text" },
    { name: "e", defaultText: '"3"' },
  ]);
});

test("the interface as the API sends it: a JSON string", () => {
  const workflow = { input: 'a, b="2"', interface: JSON.stringify({ input: ["a", { b: 2 }], output: [] }) };
  assert.deepEqual(inputFields(workflow), [
    { name: "a", defaultText: null },
    { name: "b", defaultText: "2" },
  ]);
});

test("without an interface the input string is parsed", () => {
  assert.deepEqual(inputFields({ input: "x" }), [{ name: "x", defaultText: null }]);
  assert.deepEqual(inputFields({}), []);
});

test("a field's text is JSON when it parses, else a string", () => {
  assert.equal(fieldValue("3"), 3);
  assert.deepEqual(fieldValue('{"a": [true]}'), { a: [true] });
  assert.equal(fieldValue("hello"), "hello");
  assert.equal(fieldValue('"quoted"'), "quoted");
  assert.equal(fieldValue(""), "");
});

test("a default's text gives the default back", () => {
  for (const value of ["text", "3", 3, null, true, [1, "x"], { a: 1 }, ""]) {
    assert.deepEqual(fieldValue(valueText(value)), value);
  }
});

test("the start input holds filled required fields and changed defaults only", () => {
  const fields = [
    { name: "a", defaultText: null },
    { name: "b", defaultText: "2" },
    { name: "c", defaultText: "None" },
  ];
  assert.deepEqual(startInput(fields, { a: "[1]", b: "2", c: "x" }), { a: [1], c: "x" });
  assert.deepEqual(startInput(fields, { a: '""', b: "" }), { a: "", b: "" });
  assert.deepEqual(startInput(fields, {}), {});
});
