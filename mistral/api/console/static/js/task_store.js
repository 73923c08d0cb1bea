/**
 * The task executions of one workflow execution as the console knows them, merged poll by poll:
 * pure (no DOM), so node can test it.
 */

/** An API time "YYYY-MM-DD HH:MM:SS" compares as text in time order. */
function later(a, b) {
  return (a || "") > (b || "") ? a : b;
}

export class TaskStore {
  constructor() {
    /** @type {Map<string, Object>} task id → task */
    this.byId = new Map();
    /** @type {Map<string, Object[]>} task name → its executions, oldest first */
    this.byName = new Map();
    /** The latest updated_at seen: the next poll asks for what changed since (with some slack). */
    this.maxUpdated = "";
  }

  /**
   * Take in tasks from a poll; the ones whose state, progress or times changed are returned.
   * @param {Object[]} tasks /v2 task objects (at least id, name, state, created_at, updated_at)
   * @returns {{ids: Set<string>, names: Set<string>}} what changed
   */
  merge(tasks) {
    const ids = new Set();
    const names = new Set();
    for (const task of tasks) {
      this.maxUpdated = later(this.maxUpdated, task.updated_at);
      const known = this.byId.get(task.id);
      const same =
        known &&
        known.updated_at === task.updated_at &&
        known.state === task.state &&
        known.runtime_context === task.runtime_context;
      if (same) continue;
      this.byId.set(task.id, task);
      const runs = this.byName.get(task.name) || [];
      const at = runs.findIndex((run) => run.id === task.id);
      if (at >= 0) runs[at] = task;
      else {
        runs.push(task);
        runs.sort((a, b) => (a.created_at || "").localeCompare(b.created_at || "") || a.id.localeCompare(b.id));
      }
      this.byName.set(task.name, runs);
      ids.add(task.id);
      names.add(task.name);
    }
    return { ids, names };
  }

  /**
   * The latest execution of a task name (what its graph node shows), or undefined.
   * @param {string} name
   * @returns {Object|undefined}
   */
  latest(name) {
    const runs = this.byName.get(name);
    return runs ? runs[runs.length - 1] : undefined;
  }

  /** @returns {Object[]} every task, in the order they were created */
  all() {
    return [...this.byName.values()].flat().sort((a, b) => (a.created_at || "").localeCompare(b.created_at || ""));
  }
}

/**
 * A task's `runtime_context` as an object (the API sends it as JSON text), or null.
 * @param {Object} task
 * @returns {Object|null}
 */
export function runtimeOf(task) {
  let runtime = task && task.runtime_context;
  if (typeof runtime === "string") {
    try {
      runtime = JSON.parse(runtime);
    } catch {
      runtime = null;
    }
  }
  return runtime && typeof runtime === "object" && !Array.isArray(runtime) ? runtime : null;
}

/**
 * The id of the re-run task whose run replaced this finished one, which then stays as history only
 * (a re-run of a task that succeeded supersedes what followed it), or null.
 * @param {Object} task
 * @returns {string|null}
 */
export function supersededBy(task) {
  const runtime = runtimeOf(task);
  return (runtime && typeof runtime.superseded_by === "string" && runtime.superseded_by) || null;
}

/**
 * The `updated_at` filter of the next poll: changes since `maxUpdated`, less `slackSeconds`, because a
 * row may commit a little after the time written in it (and times have whole seconds).
 * @param {string} maxUpdated "YYYY-MM-DD HH:MM:SS" (UTC) or ""
 * @param {number} slackSeconds
 * @returns {string} "gte:YYYY-MM-DD HH:MM:SS", or "" for everything
 */
export function updatedSince(maxUpdated, slackSeconds) {
  if (!maxUpdated) return "";
  const ms = Date.parse(maxUpdated.replace(" ", "T") + "Z") - slackSeconds * 1000;
  if (Number.isNaN(ms)) return "";
  return `gte:${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}`;
}
