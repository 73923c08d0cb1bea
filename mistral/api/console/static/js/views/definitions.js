/**
 * Workflows, workbooks and actions (`params.kind`): the list, and one definition's YAML in an editor
 * with line numbers, validated as it is typed, saved as `mistral <kind>-update` does.
 */

import { h } from "../dom.js";
import { formatTime } from "../format.js";
import { lineStart, validationProblems } from "../validation_lines.js";

const PAGE = 100;
const VALIDATE_DELAY_MS = 400;
const FILTER_DELAY_MS = 300;
const ERROR_MARK = "▶";
const LIST_FIELDS = "id,name,namespace,scope,tags,created_at,updated_at";
const COLUMNS = ["Namespace", "Scope", "Tags", "Created", "Updated"];

/** What differs between the three kinds. `routeKey`: the field a definition's page is addressed by. */
const KINDS = {
  workflows: { title: "Workflows", one: "workflow", fields: LIST_FIELDS, routeKey: "id", startable: true },
  workbooks: { title: "Workbooks", one: "workbook", fields: LIST_FIELDS, routeKey: "name", startable: false },
  actions: { title: "Actions", one: "action", fields: `${LIST_FIELDS},is_system`, routeKey: "id", startable: false },
};

/**
 * @param {HTMLElement} root
 * @param {{kind: string, id?: string}} params
 * @param {{api: Object, navigate: function(string): void, toast: function(string, string=): void}} ctx
 * @returns {Promise<function(): void|undefined>} dispose: stops a pending validation or filter
 */
export async function render(root, params, ctx) {
  const kind = KINDS[params.kind];
  if (!kind) throw new Error(`Unknown kind of definition: ${params.kind}`);
  return params.id ? renderOne(root, params.kind, kind, params.id, ctx) : renderList(root, params.kind, kind, ctx);
}

// -- the list -------------------------------------------------------------------------------------

async function renderList(root, path, kind, ctx) {
  const body = h("tbody");
  const filter = h("input", { type: "search", placeholder: "Filter by name", "aria-label": "Filter by name" });
  const more = h("button", { type: "button", hidden: true }, "Load more");
  const empty = h("p", { class: "notice", hidden: true }, `No ${kind.title.toLowerCase()}.`);
  let next = null;
  let generation = 0;
  let filterTimer = null;

  // One page after `marker`, named like the filter (on the server: a list may hold a thousand actions).
  async function load(marker) {
    const mine = generation;
    const wanted = filter.value.trim();
    const page = await ctx.api.get(`/${path}`, {
      fields: kind.fields, limit: PAGE, sort_keys: "name", sort_dirs: "asc", marker,
      name: wanted ? `has:${wanted}` : undefined,
    });
    if (mine !== generation) return;
    const items = page[path] || [];
    if (!marker) body.replaceChildren();
    body.append(...items.map((item) => listRow(path, kind, item)));
    next = page.next && items.length ? items[items.length - 1].id : null;
    more.hidden = !next;
    empty.hidden = body.children.length > 0;
  }

  const failed = (error) => ctx.toast(error.message, "error");
  filter.addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => {
      generation += 1;
      load(undefined).catch(failed);
    }, FILTER_DELAY_MS);
  });
  more.addEventListener("click", () => load(next).catch(failed));
  await load(undefined);
  root.append(
    h("section", { class: "def-list" },
      h("header", { class: "def-head" }, h("h1", {}, kind.title), filter),
      h("div", { class: "def-scroll" },
        h("table", { class: "list stacked" },
          h("thead", {}, h("tr", {}, ["Name", ...COLUMNS].map((title) => h("th", { scope: "col" }, title)))),
          body)),
      empty,
      more),
  );
  return () => clearTimeout(filterTimer);
}

function listRow(path, kind, item) {
  const href = `#/${path}/${encodeURIComponent(item[kind.routeKey])}`;
  const cells = [
    item.namespace || "",
    (item.is_system ? "system" : item.scope) || "",
    (item.tags || []).map((tag) => h("span", { class: "def-tag" }, tag)),
    formatTime(item.created_at),
    formatTime(item.updated_at),
  ];
  return h("tr", { "data-test": "def-row", "data-name": item.name },
    h("th", { scope: "row" }, h("a", { href }, item.name)),
    cells.map((content, i) => h("td", { "data-label": COLUMNS[i] }, content)));
}

// -- one definition -------------------------------------------------------------------------------

async function renderOne(root, path, kind, id, ctx) {
  const item = await fetchOne(path, kind, id, ctx.api);
  const header = h("header", { class: "def-head" },
    h("h1", {}, item.name),
    h("p", { class: "def-meta" },
      [item.namespace && `namespace ${item.namespace}`, item.is_system ? "system" : item.scope,
        item.updated_at && `updated ${formatTime(item.updated_at)}`].filter(Boolean).join(" · ")),
    h("a", { href: `#/${path}` }, `All ${kind.title.toLowerCase()}`));
  if (!item.definition) {
    // A system action is code: it has a signature and no YAML.
    root.append(h("section", { class: "def-one" }, header,
      h("p", {}, item.description || ""), h("p", {}, "Input: ", h("code", {}, item.input || "(none)"))));
    return undefined;
  }
  const editor = yamlEditor(item.definition);
  const pane = validationPane(editor);
  const validator = liveValidator(ctx.api, `/${path}/validate`, pane);
  editor.textarea.addEventListener("input", () => {
    editor.renumber();
    validator.schedule(editor.textarea.value);
  });
  const save = async () => {
    try {
      const query = new URLSearchParams({ namespace: item.namespace || "", scope: item.scope || "private" });
      await ctx.api.put(`/${path}?${query}`, editor.textarea.value);
      ctx.toast(`Saved ${item.name}`, "success");
    } catch (error) {
      ctx.toast(error.message, "error");
    }
  };
  editor.textarea.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      save();
    }
  });
  const actions = h("div", { class: "actions def-actions" },
    h("button", { type: "button", class: "primary", "data-test": "save-button", onclick: save }, "Save"),
    kind.startable && h("a", { class: "button", href: `#/start/${encodeURIComponent(startKey(item))}` }, "Start"));
  root.append(h("section", { class: "def-one" }, header, actions, h("div", { class: "def-work" }, editor.el, pane.el)));
  validator.schedule(editor.textarea.value, 0);
  return validator.stop;
}

// A workbook is addressed by name; the list by name answers it in every namespace: the default first.
async function fetchOne(path, kind, id, api) {
  if (kind.routeKey === "id") return api.get(`/${path}/${encodeURIComponent(id)}`);
  const found = (await api.get(`/${path}`, { name: `eq:${id}` }))[path] || [];
  const item = found.find((w) => !w.namespace) || found[0];
  if (!item) throw new Error(`${kind.one} not found [${id}]`);
  return item;
}

// The start page finds a workflow by name in the default namespace, by id in any other.
function startKey(workflow) {
  return workflow.namespace ? workflow.id : workflow.name;
}

/**
 * A textarea with a gutter of line numbers; lines with a problem are marked in the gutter.
 * @returns {{el: HTMLElement, textarea: HTMLTextAreaElement, renumber: function(): void,
 *            mark: function(Set<number>): void, goTo: function(number): void}}
 */
function yamlEditor(text) {
  const gutter = h("pre", { class: "def-gutter", "aria-hidden": "true" });
  const textarea = h("textarea", {
    "data-test": "yaml-editor", class: "def-yaml", spellcheck: "false", wrap: "off",
    autocapitalize: "off", autocomplete: "off", "aria-label": "YAML definition", value: text,
  });
  let lineCount = 0;
  let marked = new Set();

  function renumber(force) {
    const count = textarea.value.split("\n").length;
    if (count === lineCount && !force) return;
    lineCount = count;
    const width = String(count).length;
    const numbers = [];
    for (let n = 1; n <= count; n++) numbers.push(`${marked.has(n) ? ERROR_MARK : " "}${String(n).padStart(width)}`);
    gutter.textContent = numbers.join("\n");
    gutter.scrollTop = textarea.scrollTop;
  }

  textarea.addEventListener("scroll", () => {
    gutter.scrollTop = textarea.scrollTop;
  });
  renumber(true);
  return {
    el: h("div", { class: "def-editor" }, gutter, textarea),
    textarea,
    renumber: () => renumber(false),
    mark(lines) {
      marked = lines;
      renumber(true);
    },
    goTo(line) {
      const offset = lineStart(textarea.value, line);
      textarea.focus();
      textarea.setSelectionRange(offset, offset);
      const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 18;
      textarea.scrollTop = Math.max(0, (line - 1) * lineHeight - textarea.clientHeight / 3);
    },
  };
}

/** The list of problems under the editor; a problem that names a line moves the caret there. */
function validationPane(editor) {
  const status = h("p", { class: "def-status", role: "status" }, "Checking…");
  const list = h("ul", { class: "def-problems" });
  return {
    el: h("section", { class: "def-validation", "data-test": "validate-errors", "aria-label": "Validation" },
      status, list),
    checking() {
      status.textContent = "Checking…";
    },
    show(result) {
      const problems = result.valid ? [] : validationProblems(result.error);
      status.textContent = result.valid ? "Valid" : `${problems.length} problem(s)`;
      status.dataset.valid = String(Boolean(result.valid));
      list.replaceChildren(...problems.map((problem) => problemItem(problem, editor)));
      editor.mark(new Set(problems.map((p) => p.line).filter(Boolean)));
    },
    failed(message) {
      status.textContent = `Could not validate: ${message}`;
      status.dataset.valid = "unknown";
    },
  };
}

function problemItem(problem, editor) {
  if (problem.line === null) return h("li", { "data-test": "validate-error" }, problem.message);
  return h("li", { "data-test": "validate-error", "data-line": problem.line },
    h("button", { type: "button", class: "def-line", onclick: () => editor.goTo(problem.line) },
      `line ${problem.line}`),
    " ", problem.message);
}

/**
 * Validate the text `delay` ms after the last edit, one request at a time; an answer for text that
 * has changed since is not shown (the newer text is validated once the request returns).
 */
function liveValidator(api, path, pane) {
  let timer = null;
  let inFlight = false;
  let wanted = null;
  let stopped = false;

  async function run() {
    timer = null;
    if (inFlight || stopped) return;
    const text = wanted;
    inFlight = true;
    pane.checking();
    try {
      const result = await api.post(path, text);
      if (!stopped && text === wanted) pane.show(result);
    } catch (error) {
      if (!stopped) pane.failed(error.message);
    } finally {
      inFlight = false;
    }
    if (!stopped && text !== wanted && timer === null) run();
  }

  return {
    schedule(text, delay = VALIDATE_DELAY_MS) {
      wanted = text;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(run, delay);
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}
