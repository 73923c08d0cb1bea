/**
 * The task graph of a workflow definition (the parsed spec the API returns as JSON): pure, no DOM.
 * Direct workflows: on-success / on-error / on-complete transitions in every form the language
 * allows, and the implicit on-success edges of a `join: {tags: [...]}` (doc/dependencies_by_tag.rst);
 * reverse workflows: `requires`, names and tag selectors. Engine commands (fail, succeed, pause,
 * noop) are not tasks and draw no edge.
 */

/** on-* keyword → edge kind. */
const CLAUSES = [
  ["on-success", "success"],
  ["on-error", "error"],
  ["on-complete", "complete"],
];

/**
 * @typedef {Object} GraphNode
 * @property {string} id the task name
 * @property {boolean} join the task waits for several inbound branches
 * @property {boolean} withItems the task runs once per item
 * @property {boolean} subworkflow the task runs a workflow
 * @typedef {Object} GraphEdge
 * @property {string} from
 * @property {string} to
 * @property {"success"|"error"|"complete"|"requires"} kind
 * @property {*} [condition] the transition's condition, when it has one
 * @property {string[]} [tags] the selector's tags, for an edge that a tag selector implies
 */

/**
 * Nodes and edges of a workflow spec.
 * @param {Object} spec the workflow's definition as a JSON object (`tasks`, `type`, `task-defaults`)
 * @returns {{type: string, nodes: GraphNode[], edges: GraphEdge[]}}
 */
export function workflowGraph(spec) {
  const tasks = (spec && typeof spec.tasks === "object" && spec.tasks) || {};
  const defaults = (spec && spec["task-defaults"]) || {};
  const type = (spec && spec.type) || "direct";
  const nodes = Object.entries(tasks).map(([name, task]) => node(name, task || {}));
  const edges = [];
  for (const [name, task] of Object.entries(tasks)) {
    if (type === "reverse") edges.push(...requiresEdges(name, task || {}, defaults, tasks));
    else edges.push(...transitionEdges(name, task || {}, defaults, tasks));
  }
  if (type !== "reverse") edges.push(...tagJoinEdges(tasks, edges));
  return { type, nodes, edges };
}

function node(name, task) {
  return {
    id: name,
    join: task.join !== undefined && task.join !== null,
    withItems: task["with-items"] !== undefined && task["with-items"] !== null,
    subworkflow: typeof task.workflow === "string",
  };
}

function transitionEdges(name, task, defaults, tasks) {
  const edges = [];
  for (const [keyword, kind] of CLAUSES) {
    // NOTE: as the engine does, a task's own clause replaces task-defaults' one, and a default never
    // leads a task back to itself.
    const own = task[keyword];
    const targets =
      own !== undefined && own !== null
        ? transitions(own)
        : transitions(defaults[keyword]).filter((t) => t.name !== name);
    for (const { name: target, condition } of targets) {
      if (!Object.hasOwn(tasks, target)) continue;
      const edge = { from: name, to: target, kind };
      if (condition !== undefined) edge.condition = condition;
      edges.push(edge);
    }
  }
  return edges;
}

/**
 * The transitions of one on-* value: "task", ["a", {"b": "<% cond %>"}], or {next: ..., publish: ...}.
 * @param {*} value
 * @returns {{name: string, condition: *}[]}
 */
export function transitions(value) {
  if (value === undefined || value === null) return [];
  if (typeof value === "object" && !Array.isArray(value) && ("next" in value || "publish" in value)) {
    return transitions(value.next);
  }
  const items = Array.isArray(value) ? value : [value];
  const found = [];
  for (const item of items) {
    if (typeof item === "string") {
      found.push({ name: item.trim(), condition: undefined });
    } else if (item && typeof item === "object" && !Array.isArray(item)) {
      const keys = Object.keys(item);
      if (keys.length === 1) found.push({ name: String(keys[0]).trim(), condition: item[keys[0]] });
    }
  }
  return found;
}

/**
 * The edges a `join: {tags: [...]}` implies: from each carrier of the tags to the join, unless the
 * carrier already leads there on success (it counts once, as in the engine).
 */
function tagJoinEdges(tasks, written) {
  const edges = [];
  for (const [name, task] of Object.entries(tasks)) {
    const tags = selectorTags(task && task.join);
    if (!tags) continue;
    for (const carrier of carriers(tags, tasks, name)) {
      if (written.some((e) => e.from === carrier && e.to === name && e.kind === "success")) continue;
      edges.push({ from: carrier, to: name, kind: "success", tags });
    }
  }
  return edges;
}

function requiresEdges(name, task, defaults, tasks) {
  const edges = new Map();
  for (const value of [...asArray(defaults.requires), ...asArray(task.requires)]) {
    const tags = selectorTags(value);
    const names = tags ? carriers(tags, tasks, name) : asList(value);
    for (const from of names) {
      if (from === name || edges.has(from) || !Object.hasOwn(tasks, from)) continue;
      edges.set(from, tags ? { from, to: name, kind: "requires", tags } : { from, to: name, kind: "requires" });
    }
  }
  return [...edges.values()];
}

/** The tags of a `{tags: [...]}` selector, or null when `value` is none. */
function selectorTags(value) {
  if (!value || typeof value !== "object" || Array.isArray(value) || !Array.isArray(value.tags)) return null;
  return asList(value.tags);
}

/** The tasks carrying every one of `tags`, `but` excepted (a task never waits for itself). */
function carriers(tags, tasks, but) {
  return Object.entries(tasks)
    .filter(([name, task]) => name !== but && tags.every((tag) => asList(task && task.tags).includes(tag)))
    .map(([name]) => name);
}

function asArray(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function asList(value) {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v) => typeof v === "string" || typeof v === "number").map(String);
  return [];
}
