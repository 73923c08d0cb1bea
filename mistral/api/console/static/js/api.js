/**
 * The public v2 REST API of this server (same origin), JSON in and out.
 * The Keystone token, when the user gave one, is kept in sessionStorage and sent as X-Auth-Token.
 */

export const TOKEN_KEY = "mistral-token";
// NOTE: relative to the page (/ui/), so a console behind a path prefix calls the API behind it.
const API_ROOT = new URL("../v2", document.baseURI).pathname;

let unauthorized = () => {};

/**
 * Register what to do when the API answers 401 (the shell shows the token form).
 * @param {function(): void} handler
 */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

/** @returns {string|null} the token in use, if any */
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/**
 * Keep a token for the rest of this browser tab's session; an empty one forgets it.
 * @param {string} token
 */
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * The query string of an object; null, undefined and "" values are left out.
 * @param {Object<string, *>} [query]
 * @returns {string} "" or "?a=1&b=2"
 */
export function queryString(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "") params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function request(method, path, { query, body } = {}) {
  const headers = { Accept: "application/json" };
  const token = getToken();
  if (token) headers["X-Auth-Token"] = token;
  const init = { method, headers };
  if (body !== undefined) {
    // NOTE: definitions (workflows, workbooks, actions) are posted as YAML text, everything else as JSON.
    const text = typeof body === "string";
    headers["Content-Type"] = text ? "text/plain" : "application/json";
    init.body = text ? body : JSON.stringify(body);
  }
  const response = await fetch(API_ROOT + path + queryString(query), init);
  const data = await readBody(response);
  if (response.ok) return data;
  if (response.status === 401) unauthorized();
  const message = (data && typeof data === "object" && data.faultstring) || `${response.status} ${response.statusText}`;
  const error = new Error(message);
  error.status = response.status;
  throw error;
}

async function readBody(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  if ((response.headers.get("Content-Type") || "").includes("json")) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * `api.get("/executions", {limit: 10})`, `api.put("/executions/ID", {state: "PAUSED"})`...
 * Each returns the decoded answer, or rejects with an Error whose message is the API's faultstring
 * and whose `.status` is the HTTP status.
 */
export const api = {
  /** @param {string} path @param {Object} [query] */
  get: (path, query) => request("GET", path, { query }),
  /** @param {string} path @param {Object|string} body */
  post: (path, body) => request("POST", path, { body }),
  /** @param {string} path @param {Object|string} body */
  put: (path, body) => request("PUT", path, { body }),
  /** @param {string} path */
  del: (path) => request("DELETE", path),
};
