/**
 * Hash routes: "#/executions/ID" renders views/execution.js with {id: "ID"}.
 * A view module exports `async function render(root, params, ctx)` and may return `dispose()`,
 * called when the user leaves it (to stop its polling).
 */

import { h, clear } from "./dom.js";

export const DEFAULT_ROUTE = "#/executions";

/** Every route of the console; a module not shipped (yet) shows "not available". */
export const ROUTES = [
  { path: "/executions", module: "./views/executions.js" },
  { path: "/executions/:id", module: "./views/execution.js" },
  { path: "/workflows", module: "./views/definitions.js", params: { kind: "workflows" } },
  { path: "/workflows/:id", module: "./views/definitions.js", params: { kind: "workflows" } },
  { path: "/workbooks", module: "./views/definitions.js", params: { kind: "workbooks" } },
  { path: "/workbooks/:name", module: "./views/definitions.js", params: { kind: "workbooks" } },
  { path: "/actions", module: "./views/definitions.js", params: { kind: "actions" } },
  { path: "/actions/:name", module: "./views/definitions.js", params: { kind: "actions" } },
  { path: "/triggers", module: "./views/triggers.js" },
  { path: "/start/:workflow", module: "./views/start.js" },
];

/**
 * The route a hash names, with its parameters (decoded); null when none matches.
 * For definitions, `params.id` is also set from `:name`, so the view reads one key.
 * @param {string} hash e.g. "#/executions/abc"
 * @returns {{route: Object, params: Object<string, string>}|null}
 */
export function match(hash) {
  const parts = hash.replace(/^#/, "").split("/").filter(Boolean);
  for (const route of ROUTES) {
    const pattern = route.path.split("/").filter(Boolean);
    if (pattern.length !== parts.length) continue;
    const params = { ...(route.params || {}) };
    const ok = pattern.every((segment, i) => {
      if (segment.startsWith(":")) {
        params[segment.slice(1)] = decodeURIComponent(parts[i]);
        return true;
      }
      return segment === parts[i];
    });
    if (ok) {
      if (params.name !== undefined && params.id === undefined) params.id = params.name;
      return { route, params };
    }
  }
  return null;
}

/**
 * Render the view of the current hash into `root`, and again on every hash change.
 * @param {HTMLElement} root
 * @param {Object} ctx passed to every view: {api, navigate, toast}
 * @returns {{refresh: function(): void}} refresh renders the current route again (after a new token)
 */
export function startRouter(root, ctx) {
  let dispose = null;
  let generation = 0;

  async function show() {
    if (!location.hash || location.hash === "#" || location.hash === "#/") {
      location.replace(DEFAULT_ROUTE);
      return;
    }
    const mine = ++generation;
    if (dispose) dispose();
    dispose = null;
    clear(root);
    const found = match(location.hash);
    document.dispatchEvent(new CustomEvent("console:route", { detail: location.hash }));
    if (!found) {
      root.append(h("p", { class: "notice" }, "No such page. ", h("a", { href: DEFAULT_ROUTE }, "Executions")));
      return;
    }
    let view;
    try {
      view = await import(found.route.module);
    } catch {
      if (mine === generation) root.append(h("p", { class: "notice" }, "This page is not available."));
      return;
    }
    if (mine !== generation) return;
    try {
      const disposer = await view.render(root, found.params, ctx);
      // NOTE: the user may have moved on while the view loaded its data: stop what it started.
      if (mine !== generation) {
        if (typeof disposer === "function") disposer();
      } else if (typeof disposer === "function") {
        dispose = disposer;
      }
    } catch (error) {
      if (mine !== generation) return;
      clear(root);
      root.append(h("p", { class: "notice error" }, error.message || String(error)));
    }
  }

  window.addEventListener("hashchange", show);
  show();
  return { refresh: show };
}
