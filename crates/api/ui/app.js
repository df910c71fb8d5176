// The console's shell: sign-in, navigation, and the hash router that renders each page.

import { ApiProblem, currentSession, signInAdmin, signInTenant, signOut } from "./api.js";
import { clear, field, h, leavePage, toast } from "./dom.js";
import { integrationForm, integrationPage, integrationsList } from "./integrations.js";
import { deadLetters, deliveryPage, eventPage, eventsList } from "./activity.js";
import { operatorView, secretsPage } from "./manage.js";

const tenantNav = [
  ["#/integrations", "Integrations"],
  ["#/events", "Events"],
  ["#/deadletters", "Dead letters"],
  ["#/secrets", "Secrets"],
];
const adminNav = [["#/operator", "Operator"]];

const routes = [
  [/^#\/integrations$/, integrationsList],
  [/^#\/integrations\/new$/, (view) => integrationForm(view, null)],
  [/^#\/integrations\/([^/]+)\/edit$/, (view, id) => integrationForm(view, id)],
  [/^#\/integrations\/([^/]+)$/, integrationPage],
  [/^#\/deliveries\/([^/]+)$/, deliveryPage],
  [/^#\/deadletters$/, deadLetters],
  [/^#\/secrets$/, secretsPage],
  [/^#\/events$/, eventsList],
  [/^#\/events\/(.+)$/, (view, id) => eventPage(view, decodeURIComponent(id))],
  [/^#\/operator$/, operatorView],
];

async function render() {
  leavePage();
  // Each render writes into a fresh element: a slower, older render that is still awaiting
  // the API then fills a detached one instead of mixing into this page.
  const view = h("div");
  document.getElementById("view").replaceChildren(view);
  const session = currentSession();
  layout(session);
  if (!session) {
    signInPage(view);
    return;
  }
  const home = session.kind === "admin" ? "#/operator" : "#/integrations";
  const hash = location.hash || home;
  const allowed = session.kind === "admin" ? /^#\/operator/ : /^#\/(?!operator)/;
  const route = allowed.test(hash) && routes.find(([re]) => re.test(hash));
  if (!route) {
    location.replace(home);
    return;
  }
  const args = hash.match(route[0]).slice(1);
  try {
    await route[1](view, ...args);
  } catch (e) {
    view.append(h("div", { class: "alert", role: "alert" }, `Could not load this page: ${e.message}`));
  }
  const heading = view.querySelector("h1");
  if (heading) heading.setAttribute("tabindex", "-1");
  if (view.isConnected && !view.contains(document.activeElement)) (heading || document.getElementById("view")).focus();
}

function layout(session) {
  const top = document.getElementById("top");
  top.hidden = !session;
  const nav = clear(document.getElementById("nav"));
  if (!session) return;
  const items = session.kind === "admin" ? adminNav : tenantNav;
  const current = location.hash || items[0][0];
  for (const [href, label] of items) {
    nav.append(h("a", { href, "aria-current": current.startsWith(href) ? "page" : null }, label));
  }
  document.getElementById("who").textContent =
    session.kind === "admin" ? "platform admin" : `client ${session.clientId}`;
}

function signInPage(view) {
  const error = h("div", { class: "form-summary", tabindex: "-1" });
  const clientId = h("input", { id: "client-id", name: "clientId", autocomplete: "username", required: true });
  const secret = h("input", { id: "client-secret", name: "clientSecret", type: "password", autocomplete: "current-password", required: true });
  const adminKey = h("input", { id: "admin-key", name: "adminKey", type: "password", autocomplete: "off", required: true });
  const tenantForm = h("form", { class: "panel", "aria-labelledby": "tenant-sign-in" },
    h("h2", { id: "tenant-sign-in" }, "Tenant: API client"),
    h("p", { class: "muted" }, "Sign in with an API client's id and secret (", h("code", {}, "ricochet tenants create NAME"), " prints one)."),
    h("div", { class: "form-grid" }, field("Client id", clientId), field("Client secret", secret)),
    h("p", {}, h("button", { type: "submit" }, "Sign in")));
  const adminForm = h("form", { class: "panel", "aria-labelledby": "admin-sign-in" },
    h("h2", { id: "admin-sign-in" }, "Operator: admin key"),
    h("p", { class: "muted" }, "The platform admin key (", h("code", {}, "RICOCHET_ADMIN_KEY"), ", or ", h("code", {}, "admin.key"), " in the data directory) sees tenants and the queue, not tenants' data."),
    h("div", { class: "form-grid" }, field("Admin key", adminKey)),
    h("p", {}, h("button", { type: "submit" }, "Sign in as operator")));
  const attempt = (fn) => async (e) => {
    e.preventDefault();
    clear(error);
    try {
      await fn();
      const target = currentSession().kind === "admin" ? "#/operator" : "#/integrations";
      if (location.hash === target) render();
      else location.hash = target;
    } catch (err) {
      error.append(h("div", { class: "alert", role: "alert" }, err instanceof ApiProblem ? err.message : `Sign-in failed: ${err.message}`));
      error.focus();
    }
  };
  tenantForm.addEventListener("submit", attempt(() => signInTenant(clientId.value.trim(), secret.value)));
  adminForm.addEventListener("submit", attempt(() => signInAdmin(adminKey.value.trim())));
  view.append(h("div", { class: "signin" }, h("h1", {}, "Sign in to Ricochet"), error, h("div", { class: "grid" }, tenantForm, adminForm)));
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  history.replaceState(null, "", "#/");
  toast("Signed out.");
  render();
});
window.addEventListener("ricochet:signed-out", (e) => {
  toast(e.detail, "bad");
  render();
});
window.addEventListener("hashchange", render);
render();
