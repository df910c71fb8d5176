// Secrets (write-only values, rotation, usedBy) and the operator's view for the admin key.

import { ApiProblem, all, api, optional } from "./api.js";
import { badge, clear, clearErrors, confirmDialog, field, fmtMs, fmtTime, h, showProblem, toast, unavailable } from "./dom.js";

const enc = encodeURIComponent;

// ---- secrets -------------------------------------------------------------------------------

export async function secretsPage(view) {
  view.append(h("h1", {}, "Secrets"));
  const name = h("input", { id: "secret-name", "data-field": "name", autocomplete: "off" });
  const value = h("input", { id: "secret-value", type: "password", "data-field": "value", autocomplete: "new-password" });
  const description = h("input", { id: "secret-description", "data-field": "description" });
  const create = h("form", { "aria-labelledby": "new-secret-h" }, h("h2", { id: "new-secret-h" }, "New secret"),
    h("p", { class: "muted" }, "Values are write-only: no page or API response ever shows them. Use them as {{secret:NAME}} in a URL, header or body."),
    h("div", { class: "form-summary", tabindex: "-1" }),
    h("div", { class: "row" }, field("Name", name), field("Value", value), field("Description", description),
      h("button", { type: "submit", id: "create-secret" }, "Create secret")));
  const rows = h("tbody", { id: "secret-rows" });
  view.append(h("section", { class: "panel" }, create),
    h("section", { class: "panel", "aria-label": "Secrets" }, h("table", { class: "stack" },
      h("thead", {}, h("tr", {}, ["Name", "Description", "Version", "Updated", "Used by", ""].map((t) => h("th", {}, t)))), rows)));
  const load = async () => {
    const secrets = await all("/api/v2/secrets");
    clear(rows);
    for (const s of secrets) rows.append(...secretRows(s, load));
    if (!secrets.length) rows.append(h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No secrets yet.")));
  };
  create.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(create);
    try {
      await api("POST", "/api/v2/secrets", { name: name.value.trim(), value: value.value, description: description.value || undefined });
      toast(`Secret ${name.value.trim()} created.`);
      name.value = value.value = description.value = "";
      await load();
    } catch (err) {
      if (err instanceof ApiProblem) showProblem(create, err.problem);
      else toast(err.message, "bad");
    }
  });
  await load();
}

function secretRows(s, reload) {
  const users = s.usedBy || [];
  const rotateRow = h("tr", { hidden: true, class: "rotate-row" });
  const newValue = h("input", { type: "password", id: `rotate-${s.name}`, "data-field": "value", autocomplete: "new-password", "aria-label": `New value of ${s.name}` });
  const rotateForm = h("form", { class: "row" }, h("div", { class: "form-summary", tabindex: "-1" }),
    field(`New value of ${s.name}`, newValue), h("button", { type: "submit", class: "save-rotation" }, "Save new value"),
    h("button", { type: "button", class: "quiet", onclick: () => { rotateRow.hidden = true; } }, "Cancel"));
  rotateRow.append(h("td", { colspan: 6 }, rotateForm));
  rotateForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const out = await api("PUT", `/api/v2/secrets/${enc(s.name)}`, { value: newValue.value }, { ifMatch: s.version });
      toast(`${s.name} rotated to version ${out.version}; the next attempt uses it.`);
      await reload();
    } catch (err) {
      if (err instanceof ApiProblem) showProblem(rotateForm, err.problem);
    }
  });
  const rotate = h("button", { type: "button", class: "quiet rotate-secret", "aria-label": `Rotate ${s.name}` }, "Rotate");
  rotate.addEventListener("click", () => {
    rotateRow.hidden = false;
    newValue.focus();
  });
  const remove = h("button", { type: "button", class: "danger", "aria-label": `Delete ${s.name}` }, "Delete");
  remove.addEventListener("click", async () => {
    const warning = users.length
      ? [h("p", { class: "alert" }, `${users.length} integration${users.length === 1 ? " uses" : "s use"} this secret; their attempts will fail until it exists again:`),
        h("ul", {}, users.map((u) => h("li", {}, u.name)))]
      : [h("p", {}, "No integration uses it.")];
    const ok = await confirmDialog(`Delete secret ${s.name}?`, warning, "Delete");
    if (!ok) return;
    try {
      await api("DELETE", `/api/v2/secrets/${enc(s.name)}`);
      toast(`Secret ${s.name} deleted.`);
      await reload();
    } catch (err) {
      toast(err.message, "bad");
    }
  });
  const row = h("tr", { class: "secret-row", dataset: { secret: s.name } },
    h("td", { "data-label": "Name" }, h("code", {}, s.name)),
    h("td", { "data-label": "Description" }, s.description || "—"),
    h("td", { "data-label": "Version", class: "num secret-version" }, s.version),
    h("td", { "data-label": "Updated" }, fmtTime(s.updatedAt)),
    h("td", { "data-label": "Used by" }, users.length ? users.map((u, i) => [i ? ", " : "", h("a", { href: `#/integrations/${u.id}` }, u.name)]) : "—"),
    h("td", {}, h("div", { class: "row" }, rotate, remove)));
  return [row, rotateRow];
}

// ---- operator ------------------------------------------------------------------------------

export async function operatorView(view) {
  view.append(h("h1", {}, "Operator"));
  const overview = h("section", { class: "panel", "aria-labelledby": "overview-h" }, h("h2", { id: "overview-h" }, "Health across tenants"));
  view.append(overview);
  const data = await optional("/api/v2/admin/overview").catch(() => null);
  if (data?.queue && Array.isArray(data.tenants)) overview.append(...overviewParts(data));
  else if (data) overview.append(generic(data));
  else overview.append(unavailable("The cross-tenant overview (queue depth and lag, failing integrations) is"));

  const name = h("input", { id: "tenant-name", "data-field": "name" });
  const create = h("form", { class: "row" }, h("div", { class: "form-summary", tabindex: "-1" }), field("New tenant", name), h("button", { type: "submit" }, "Create tenant"));
  const rows = h("tbody", { id: "tenant-rows" });
  view.append(h("section", { class: "panel", "aria-labelledby": "tenants-h" }, h("h2", { id: "tenants-h" }, "Tenants"), create,
    h("table", { class: "stack" }, h("thead", {}, h("tr", {}, ["Name", "Id", "Created", ""].map((t) => h("th", {}, t)))), rows)));
  const load = async () => {
    const tenants = await all("/api/v2/tenants");
    clear(rows);
    for (const t of tenants) {
      const clientsRow = h("tr", { hidden: true });
      const show = h("button", { type: "button", class: "quiet", "aria-expanded": "false" }, "API clients");
      show.addEventListener("click", async () => {
        clientsRow.hidden = !clientsRow.hidden;
        show.setAttribute("aria-expanded", String(!clientsRow.hidden));
        if (!clientsRow.hidden) await clientsPanel(clientsRow, t);
      });
      rows.append(h("tr", { class: "tenant-row" },
        h("td", { "data-label": "Name" }, t.name), h("td", { "data-label": "Id" }, h("code", {}, t.id)),
        h("td", { "data-label": "Created" }, fmtTime(t.createdAt)), h("td", {}, show)), clientsRow);
    }
  };
  create.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(create);
    try {
      await api("POST", "/api/v2/tenants", { name: name.value.trim() });
      toast(`Tenant ${name.value.trim()} created.`);
      name.value = "";
      await load();
    } catch (err) {
      if (err instanceof ApiProblem) showProblem(create, err.problem);
    }
  });
  await load();
}

async function clientsPanel(row, tenant) {
  const cell = h("td", { colspan: 4 });
  clear(row).append(cell);
  const clients = await all(`/api/v2/tenants/${enc(tenant.id)}/clients`);
  const name = h("input", { "data-field": "name", "aria-label": "Client name" });
  const form = h("form", { class: "row" }, h("div", { class: "form-summary", tabindex: "-1" }), field("New client", name), h("button", { type: "submit" }, "Create client"));
  const shown = h("div", { role: "status" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const c = await api("POST", `/api/v2/tenants/${enc(tenant.id)}/clients`, { name: name.value.trim() });
      await clientsPanel(row, tenant);
      row.querySelector("[role=status]").append(h("p", { class: "secret-once" }, "Client ", h("code", {}, c.clientId), " secret (shown once): ", h("code", {}, c.clientSecret)));
    } catch (err) {
      if (err instanceof ApiProblem) showProblem(form, err.problem);
    }
  });
  cell.append(h("ul", {}, clients.map((c) => {
    const revoke = h("button", { type: "button", class: "danger" }, "Revoke");
    revoke.addEventListener("click", async () => {
      if (!(await confirmDialog(`Revoke ${c.name}?`, h("p", {}, "Its tokens stop working at once."), "Revoke"))) return;
      await api("DELETE", `/api/v2/tenants/${enc(tenant.id)}/clients/${enc(c.clientId)}`).catch((err) => toast(err.message, "bad"));
      await clientsPanel(row, tenant);
    });
    return h("li", {}, `${c.name} `, h("code", {}, c.clientId), " ", (c.permissions || []).map((p) => badge(p)), " ", revoke);
  })), form, shown);
}

/** The overview (`GET /api/v2/admin/overview`): queue, tenants, failing integrations. */
function overviewParts(data) {
  const q = data.queue;
  const failing = data.failingIntegrations || [];
  return [
    h("dl", { class: "settings", id: "queue" },
      h("dt", {}, "Due now"), h("dd", {}, q.due), h("dt", {}, "Scheduled"), h("dd", {}, q.scheduled),
      h("dt", {}, "In flight"), h("dd", {}, q.inFlight), h("dt", {}, "Paused"), h("dd", {}, q.paused),
      h("dt", {}, "Lag (oldest due)"), h("dd", {}, fmtMs((q.lagSeconds || 0) * 1000))),
    h("h3", {}, "Tenants"),
    h("table", { class: "stack" }, h("thead", {}, h("tr", {}, ["Tenant", "Integrations", "Dead letters", "Created"].map((t) => h("th", {}, t)))),
      h("tbody", {}, data.tenants.map((t) => h("tr", {},
        h("td", { "data-label": "Tenant" }, t.name), h("td", { "data-label": "Integrations", class: "num" }, t.integrations),
        h("td", { "data-label": "Dead letters", class: "num" }, t.deadLetters), h("td", { "data-label": "Created" }, fmtTime(t.createdAt)))))),
    h("h3", {}, "Failing integrations (last hour)"),
    failing.length
      ? h("table", { class: "stack" }, h("thead", {}, h("tr", {}, ["Tenant", "Integration", "State", "Attempts", "Failed", "Success", "Last failure"].map((t) => h("th", {}, t)))),
        h("tbody", {}, failing.map((i) => h("tr", {},
          h("td", { "data-label": "Tenant" }, i.tenantName), h("td", { "data-label": "Integration" }, i.name),
          h("td", { "data-label": "State" }, i.enabled ? badge("enabled", "ok") : badge("disabled")),
          h("td", { "data-label": "Attempts", class: "num" }, i.attempts), h("td", { "data-label": "Failed", class: "num" }, i.failed),
          h("td", { "data-label": "Success", class: "num" }, i.successRate === null || i.successRate === undefined ? "—" : `${Math.round(i.successRate * 100)} %`),
          h("td", { "data-label": "Last failure" }, fmtTime(i.lastFailureAt))))))
      : h("p", { class: "muted" }, "None: every integration's last attempt succeeded."),
  ];
}

/** Renders an overview of any other shape: arrays of objects as tables, objects as lists. */
function generic(value, depth = 0) {
  if (Array.isArray(value)) {
    if (!value.length) return h("p", { class: "muted" }, "None.");
    if (typeof value[0] !== "object" || value[0] === null) return h("span", {}, value.join(", "));
    const keys = [...new Set(value.flatMap((v) => Object.keys(v)))];
    return h("table", { class: "stack" }, h("thead", {}, h("tr", {}, keys.map((k) => h("th", {}, k)))),
      h("tbody", {}, value.map((v) => h("tr", {}, keys.map((k) => h("td", { "data-label": k }, cell(v[k], depth)))))));
  }
  if (value && typeof value === "object") {
    return h("dl", { class: "settings" }, Object.entries(value).map(([k, v]) => [h("dt", {}, k), h("dd", {}, cell(v, depth))]));
  }
  return h("span", {}, String(value));
}

function cell(v, depth) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return depth < 2 ? generic(v, depth + 1) : h("code", {}, JSON.stringify(v));
  if (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) return fmtTime(v);
  return String(v);
}
