/**
 * Just enough of the DOM for the console's views to render under node: elements with attributes,
 * children, text, events and form properties, and a `find` by data-test. Not a browser: layout,
 * CSS and the HTML parser are missing (the browser tests cover them).
 */

class FakeNode {
  constructor() {
    this.parentNode = null;
  }

  remove() {
    if (this.parentNode) this.parentNode.removeChild(this);
  }
}

class FakeText extends FakeNode {
  constructor(text) {
    super();
    this.data = text;
  }

  get textContent() {
    return this.data;
  }
}

class FakeElement extends FakeNode {
  constructor(tag) {
    super();
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    this.childNodes = [];
    this.listeners = {};
    this.dataset = {};
    this.hidden = false;
    this.disabled = false;
    this.value = "";
    this.scrollTop = 0;
    this.clientHeight = 300;
    this.clientWidth = 800;
    this.innerHTML = "";
    this.focused = false;
  }

  setAttribute(name, value) {
    if (name === "hidden") this.hidden = true;
    else if (name.startsWith("data-")) this.dataset[camel(name.slice(5))] = String(value);
    this.attributes.set(name, String(value));
  }

  getAttribute(name) {
    if (name.startsWith("data-")) return this.dataset[camel(name.slice(5))] ?? null;
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }

  removeAttribute(name) {
    this.attributes.delete(name);
  }

  get children() {
    return this.childNodes.filter((node) => node instanceof FakeElement);
  }

  append(...nodes) {
    for (const node of nodes) this.insertBefore(typeof node === "string" ? new FakeText(node) : node, null);
  }

  insertBefore(node, before) {
    node.remove();
    node.parentNode = this;
    const at = before ? this.childNodes.indexOf(before) : -1;
    if (at < 0) this.childNodes.push(node);
    else this.childNodes.splice(at, 0, node);
    return node;
  }

  removeChild(node) {
    this.childNodes.splice(this.childNodes.indexOf(node), 1);
    node.parentNode = null;
  }

  replaceChildren(...nodes) {
    for (const node of [...this.childNodes]) node.remove();
    this.append(...nodes);
  }

  get textContent() {
    return this.childNodes.map((node) => node.textContent).join("");
  }

  set textContent(text) {
    this.replaceChildren(String(text));
  }

  addEventListener(type, listener) {
    (this.listeners[type] ||= []).push(listener);
  }

  removeEventListener(type, listener) {
    this.listeners[type] = (this.listeners[type] || []).filter((l) => l !== listener);
  }

  /** Call the listeners of `type`; resolves once the async ones have settled. */
  async dispatch(type, fields = {}) {
    const event = {
      type,
      target: this,
      defaultPrevented: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
      ...fields,
    };
    await Promise.all((this.listeners[type] || []).map((listener) => listener(event)));
    return event;
  }

  click() {
    return this.dispatch("click");
  }

  focus() {
    this.focused = true;
  }

  setSelectionRange(start, end) {
    this.selectionStart = start;
    this.selectionEnd = end;
  }

  reset() {
    for (const el of this.findAll(() => true)) if ("value" in el && el.tagName !== "OPTION") el.value = "";
  }

  /** Every element under this one for which `test(el)` holds, in document order. */
  findAll(test) {
    const found = [];
    for (const child of this.children) {
      if (test(child)) found.push(child);
      found.push(...child.findAll(test));
    }
    return found;
  }

  /** Every element under this one with this data-test value. */
  all(dataTest) {
    return this.findAll((el) => el.dataset.test === dataTest);
  }

  /** The one element with this data-test value; throws when there is none. */
  find(dataTest) {
    const [el] = this.all(dataTest);
    if (!el) throw new Error(`no [data-test=${dataTest}]`);
    return el;
  }
}

function camel(name) {
  return name.replace(/-([a-z])/g, (_, ch) => ch.toUpperCase());
}

/** Install the fake `document` and friends as globals (once per test file). */
export function installFakeDom() {
  const document = new FakeElement("#document");
  document.visibilityState = "visible";
  document.createElement = (tag) => new FakeElement(tag);
  document.createElementNS = (ns, tag) => new FakeElement(tag);
  globalThis.document = document;
  globalThis.Node = FakeNode;
  globalThis.getComputedStyle = () => ({ lineHeight: "19.5px" });
}

/** A fresh element to render a view into. */
export function newRoot() {
  return new FakeElement("main");
}

/** A view's `ctx`: `api` answers from `routes` ("METHOD /path" → value or function) and records calls. */
export function fakeCtx(routes) {
  const calls = [];
  const toasts = [];
  const navigations = [];
  const answer = async (method, path, arg) => {
    calls.push({ method, path, arg });
    const key = Object.keys(routes).find((k) => k === `${method} ${path}` || k === `${method} ${path.split("?")[0]}`);
    if (key === undefined) throw Object.assign(new Error(`no route ${method} ${path}`), { status: 404 });
    const value = routes[key];
    return typeof value === "function" ? value(arg, path) : structuredClone(value);
  };
  return {
    calls,
    toasts,
    navigations,
    api: {
      get: (path, query) => answer("GET", path, query),
      post: (path, body) => answer("POST", path, body),
      put: (path, body) => answer("PUT", path, body),
      del: (path) => answer("DELETE", path),
    },
    navigate: (hash) => navigations.push(hash),
    toast: (message, kind) => toasts.push({ message, kind }),
  };
}

/** Wait for timers and promises already queued (a debounce of `ms`). */
export function settle(ms = 0) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
