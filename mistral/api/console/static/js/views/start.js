/**
 * Start an execution of a workflow (`#/start/:workflow`, a name or an id): a form built from the
 * workflow's input signature, posted as `mistral execution-create` posts it.
 */

import { h } from "../dom.js";
import { inputFields, startInput } from "../signature.js";

const HINT = 'A value that reads as JSON (3, true, [1], {"a": 1}, "text") is sent as JSON; anything else as text.';

/**
 * @param {HTMLElement} root
 * @param {{workflow: string}} params
 * @param {{api: Object, navigate: function(string): void, toast: function(string, string=): void}} ctx
 */
export async function render(root, params, ctx) {
  const workflow = await ctx.api.get(`/workflows/${encodeURIComponent(params.workflow)}`);
  const fields = inputFields(workflow);
  const inputs = new Map(fields.map((field) => [field.name, inputFor(field)]));
  const description = h("input", { type: "text", id: "start-description", name: "description" });
  const env = h("textarea", {
    id: "start-env", name: "env", rows: 3, spellcheck: "false", placeholder: '{"key": "value"}',
  });
  const error = h("p", { class: "start-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", "data-test": "start-submit" }, "Start");

  async function onSubmit(event) {
    event.preventDefault();
    error.hidden = true;
    const texts = Object.fromEntries([...inputs].map(([name, el]) => [name, el.value]));
    const body = {
      workflow_name: workflow.name,
      workflow_namespace: workflow.namespace || "",
      input: JSON.stringify(startInput(fields, texts)),
      description: description.value,
    };
    try {
      const envValue = env.value.trim() ? JSON.parse(env.value) : null;
      if (envValue !== null && (typeof envValue !== "object" || Array.isArray(envValue))) {
        throw new SyntaxError("it must be an object");
      }
      if (envValue) body.params = JSON.stringify({ env: envValue });
    } catch (bad) {
      showError(`The env is not a JSON object: ${bad.message}`);
      return;
    }
    submit.disabled = true;
    try {
      const execution = await ctx.api.post("/executions", body);
      ctx.navigate(`#/executions/${execution.id}`);
    } catch (failure) {
      showError(failure.message);
    } finally {
      submit.disabled = false;
    }
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  root.append(
    h("section", { class: "start" },
      h("header", { class: "def-head" },
        h("h1", {}, `Start ${workflow.name}`),
        h("a", { href: `#/workflows/${encodeURIComponent(workflow.id)}` }, "Definition")),
      h("form", { class: "start-form", "data-test": "start-form", onsubmit: onSubmit, novalidate: true },
        h("fieldset", {},
          h("legend", {}, "Input"),
          fields.length
            ? fields.map((field) => fieldRow(field, inputs.get(field.name)))
            : h("p", { class: "notice" }, "This workflow takes no input."),
          h("p", { class: "hint" }, HINT)),
        h("label", { for: "start-description" }, "Description"),
        description,
        h("label", { for: "start-env" }, "Environment (JSON object)"),
        env,
        error,
        submit)),
  );
  const first = inputs.values().next().value;
  if (first) first.focus();
}

function inputFor(field) {
  return h("input", {
    type: "text",
    id: `start-input-${field.name}`,
    name: field.name,
    "data-test": `input-${field.name}`,
    value: field.defaultText ?? "",
    placeholder: field.defaultText === null ? "required" : null,
    spellcheck: "false",
    autocapitalize: "off",
  });
}

function fieldRow(field, input) {
  return h("div", { class: "start-field" },
    h("label", { for: input.id },
      field.name, field.defaultText === null && h("span", { class: "start-required" }, " *")),
    input);
}
