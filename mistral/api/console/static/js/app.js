/**
 * The console's shell: header and navigation, the token form, toasts, and the router.
 */

import { api, onUnauthorized, setToken, getToken } from "./api.js";
import { h } from "./dom.js";
import { startRouter } from "./router.js";

const NAV = [
  ["#/executions", "Executions"],
  ["#/workflows", "Workflows"],
  ["#/workbooks", "Workbooks"],
  ["#/actions", "Actions"],
  ["#/triggers", "Triggers"],
];
const TOAST_MS = 6000;

const toasts = h("div", { class: "toasts", role: "status", "aria-live": "polite" });

/**
 * Show a short message in the corner for a few seconds.
 * @param {string} message
 * @param {"info"|"success"|"error"} [kind]
 */
function toast(message, kind = "info") {
  const item = h("div", { class: `toast toast-${kind}` }, message);
  toasts.append(item);
  setTimeout(() => item.remove(), TOAST_MS);
}

function navigate(hash) {
  location.hash = hash;
}

function navLinks() {
  const links = NAV.map(([href, label]) => h("a", { href, class: "nav-link" }, label));
  document.addEventListener("console:route", (event) => {
    for (const link of links) {
      const here = event.detail === link.getAttribute("href") || event.detail.startsWith(`${link.getAttribute("href")}/`);
      if (here) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  });
  return links;
}

function tokenForm(onToken) {
  const input = h("input", {
    type: "password",
    id: "token-input",
    "data-test": "token-input",
    autocomplete: "off",
    required: true,
  });
  const form = h(
    "form",
    { class: "token-form", hidden: true, "aria-labelledby": "token-title" },
    h("h2", { id: "token-title" }, "Sign in"),
    h("label", { for: "token-input" }, "Paste a Keystone token"),
    h("p", { class: "hint" }, "For example the output of: openstack token issue -f value -c id"),
    input,
    h("div", { class: "actions" }, h("button", { type: "submit", "data-test": "token-submit" }, "Use this token")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    input.value = "";
    form.hidden = true;
    onToken();
  });
  return {
    form,
    show() {
      if (!form.hidden) return;
      form.hidden = false;
      input.focus();
    },
  };
}

function main() {
  const view = h("main", { id: "view", class: "view", tabindex: "-1" });
  let router = null;
  const token = tokenForm(() => router && router.refresh());
  onUnauthorized(() => token.show());
  const signOut = h(
    "button",
    { type: "button", class: "link-button", hidden: !getToken() },
    "Forget token",
  );
  signOut.addEventListener("click", () => {
    setToken("");
    signOut.hidden = true;
    toast("The token is forgotten.");
  });
  document.addEventListener("console:route", () => {
    signOut.hidden = !getToken();
  });
  document.body.append(
    h(
      "header",
      { class: "top" },
      h("a", { href: "#/executions", class: "brand" }, "Mistral"),
      h("nav", { "aria-label": "Main" }, navLinks()),
      signOut,
    ),
    token.form,
    view,
    toasts,
  );
  router = startRouter(view, { api, navigate, toast });
}

main();
