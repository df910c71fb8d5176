// Integrations: the list with health, the create/edit form with the retry-schedule preview,
// and an integration's page (settings, bindings, signing secret, secrets, charts, logs).

import { ApiProblem, all, api, get, optional } from "./api.js";
import {
  badge, clear, clearErrors, confirmDialog, field, fmtMs, fmtPercent, fmtTime, h, showProblem, svg, toast,
  unavailable,
} from "./dom.js";
import { logsPanel } from "./logs.js";
import { chartsPanel } from "./stats.js";
import { DEFAULT_POLICY, retrySchedule } from "./schedule.js";

const enc = encodeURIComponent;

/** The stats of one integration over 24 h, or null when the server has no stats route. */
async function stats24h(id) {
  try {
    return await optional(`/api/v2/integrations/${enc(id)}/stats?window=24h`);
  } catch {
    return null;
  }
}

function circuitOf(i) {
  const state = i.circuit?.state ?? i.circuitState ?? i.health?.circuit;
  if (!state) return badge("—");
  return badge(state, state === "closed" ? "ok" : state === "open" ? "bad" : "warn");
}

export async function integrationsList(view) {
  view.append(h("div", { class: "spread" }, h("h1", {}, "Integrations"),
    h("a", { href: "#/integrations/new", class: "button-link", id: "new-integration" }, "New integration")));
  const integrations = await all("/api/v2/integrations");
  const panel = h("section", { class: "panel", "aria-label": "Integrations" });
  view.append(panel);
  if (!integrations.length) {
    panel.append(h("p", {}, "No integrations yet. ", h("a", { href: "#/integrations/new" }, "Create the first one"), "."));
    return;
  }
  const [tenant, ...stats] = await Promise.all([
    optional("/api/v2/stats?window=24h").catch(() => null),
    ...integrations.map((i) => stats24h(i.id)),
  ]);
  if (tenant) {
    panel.append(h("p", { id: "tenant-stats" }, `Last 24 h, all integrations: ${tenant.attempts} attempts, success ${fmtPercent(tenant.successRate)}, `
      + `average response ${fmtMs(tenant.responseTimeMs?.avg)}, ${tenant.deadLetters ?? 0} dead letters.`));
  }
  const statsMissing = stats.every((s) => s === null);
  const body = h("tbody");
  integrations.forEach((i, n) => {
    const s = stats[n];
    const toggle = h("button", { type: "button", class: "quiet" }, i.enabled ? "Disable" : "Enable");
    toggle.addEventListener("click", async () => {
      toggle.disabled = true;
      try {
        await api("PATCH", `/api/v2/integrations/${enc(i.id)}`, { enabled: !i.enabled }, { ifMatch: i.version });
        toast(`${i.name} ${i.enabled ? "disabled" : "enabled"}.`);
        location.hash = "#/integrations";
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      } catch (e) {
        toast(e.message, "bad");
        toggle.disabled = false;
      }
    });
    body.append(h("tr", { dataset: { integration: i.name } },
      h("td", { "data-label": "Name" }, h("a", { href: `#/integrations/${i.id}` }, i.name)),
      h("td", { "data-label": "State" }, i.enabled ? badge("enabled", "ok") : badge("disabled")),
      h("td", { "data-label": "Circuit" }, circuitOf(i)),
      h("td", { "data-label": "Success 24 h", class: "num" }, s ? fmtPercent(s.successRate) : "—"),
      h("td", { "data-label": "Avg response 24 h", class: "num" }, s ? fmtMs(s.responseTimeMs?.avg) : "—"),
      h("td", { "data-label": "Last failure" }, s ? fmtTime(s.lastFailureAt) : "—"),
      h("td", { "data-label": "URL" }, h("code", {}, i.settings.url)),
      h("td", {}, toggle)));
  });
  panel.append(h("table", { class: "stack" },
    h("thead", {}, h("tr", {}, ["Name", "State", "Circuit", "Success 24 h", "Avg response 24 h", "Last failure", "URL", ""].map((t) => h("th", {}, t)))),
    body));
  if (statsMissing) panel.append(unavailable("Success rates and response times need the stats API, which is"));
}

// ---- the form ----------------------------------------------------------------------------

function input(id, fieldName, attrs = {}) {
  return h("input", { id, name: id, "data-field": fieldName, ...attrs });
}

function select(id, fieldName, options, value) {
  return h("select", { id, name: id, "data-field": fieldName },
    options.map((o) => h("option", { value: o, selected: o === value }, o)));
}

function headerRow(name = "", value = "") {
  const row = h("div", { class: "row header-row" },
    field("Header name", h("input", { class: "header-name", value: name, "aria-label": "Header name" })),
    field("Value", h("input", { class: "header-value", value, size: 40, "aria-label": "Header value", "data-field": name ? `settings.headers.${name}` : null })),
    h("button", { type: "button", class: "quiet", onclick: () => row.remove() }, "Remove"));
  row.querySelector(".header-name").addEventListener("input", (e) => {
    row.querySelector(".header-value").dataset.field = `settings.headers.${e.target.value}`;
  });
  return row;
}

export async function integrationForm(view, id) {
  const existing = id ? await get(`/api/v2/integrations/${enc(id)}`) : null;
  const s = existing?.settings || {};
  const p = { ...DEFAULT_POLICY, ...(s.retryPolicy || {}) };
  const title = existing ? `Edit ${existing.name}` : "New integration";
  const headers = h("div", { id: "headers", "data-field": "settings.headers", tabindex: "-1" },
    Object.entries(s.headers || {}).map(([k, v]) => headerRow(k, v)));
  const preview = h("div", { id: "retry-preview-live" });
  const form = h("form", { novalidate: true, "aria-label": title },
    h("div", { class: "form-summary", tabindex: "-1" }),
    h("fieldset", {}, h("legend", {}, "Integration"),
      h("div", { class: "form-grid" },
        field("Name", input("name", "name", { value: existing?.name ?? "", required: true })),
        h("label", { class: "check" }, input("enabled", "enabled", { type: "checkbox", checked: existing ? existing.enabled : true }), "Enabled"),
        h("div", { class: "wide" }, field("Target URL", input("url", "settings.url", { value: s.url ?? "", size: 60, required: true }), "http(s); may hold templates such as {{data.customerId}}")),
        field("HTTP method", select("httpMethod", "settings.httpMethod", ["POST", "PUT", "PATCH", "DELETE", "GET"], s.httpMethod ?? "POST")),
        field("Content type", input("contentType", "settings.contentType", { value: s.contentType ?? "application/json" })),
        field("Request timeout (ms)", input("requestTimeout", "settings.requestTimeout", { type: "number", value: s.requestTimeout ?? "" }), "1 to 300000; empty for the default"),
        field("Payload format", select("payloadFormat", "settings.payloadFormat", ["envelope", "data"], s.payloadFormat ?? "envelope")))),
    h("fieldset", {}, h("legend", {}, "Headers"),
      h("p", { class: "muted" }, "Values may use {{secret:NAME}}, {{eventId}}, {{data.path}}."),
      headers,
      h("button", { type: "button", class: "quiet", id: "add-header", onclick: () => headers.append(headerRow()) }, "Add header")),
    h("fieldset", {}, h("legend", {}, "Retry policy"),
      h("div", { class: "form-grid" },
        field("Type", select("retryPolicyType", "settings.retryPolicy.retryPolicyType", ["exponential", "linear", "fixed", "none"], p.retryPolicyType)),
        field("Max retries", input("maxRetries", "settings.retryPolicy.maxRetries", { type: "number", value: p.maxRetries })),
        field("Retry delay (ms)", input("retryDelay", "settings.retryPolicy.retryDelay", { type: "number", value: p.retryDelay })),
        field("Multiplier", input("multiplier", "settings.retryPolicy.multiplier", { type: "number", step: "0.1", value: p.multiplier })),
        field("Max delay (ms)", input("maxDelay", "settings.retryPolicy.maxDelay", { type: "number", value: p.maxDelay })),
        h("label", { class: "check" }, input("jitter", "settings.retryPolicy.jitter", { type: "checkbox", checked: p.jitter }), "Jitter"),
        field("Jitter ratio", input("jitterRatio", "settings.retryPolicy.jitterRatio", { type: "number", step: "0.05", value: p.jitterRatio })),
        field("Jitter mode", select("jitterMode", "settings.retryPolicy.jitterMode", ["ratio", "full"], p.jitterMode)),
        field("Also retry on status", input("retryOnStatus", "settings.retryPolicy.retryOnStatus", { value: (p.retryOnStatus || []).join(", "), placeholder: "e.g. 409, 425" })),
        h("label", { class: "check" }, input("retryOnTimeout", "settings.retryPolicy.retryOnTimeout", { type: "checkbox", checked: p.retryOnTimeout !== false }), "Retry on timeout"),
        h("label", { class: "check" }, input("respectRetryAfter", "settings.retryPolicy.respectRetryAfter", { type: "checkbox", checked: p.respectRetryAfter !== false }), "Honour Retry-After"),
        field("Max Retry-After (ms)", input("maxRetryAfter", "settings.retryPolicy.maxRetryAfter", { type: "number", value: p.maxRetryAfter ?? "" }))),
      preview),
    h("fieldset", {}, h("legend", {}, "Body"),
      field("Body template (optional)", h("textarea", { id: "bodyTemplate", "data-field": "settings.bodyTemplate" }, s.bodyTemplate ?? ""), "Replaces the JSON payload; templates allowed."),
      field("Transformations (JSON array)", h("textarea", { id: "transformations", "data-field": "settings.transformations" }, s.transformations?.length ? JSON.stringify(s.transformations, null, 2) : ""),
        'e.g. [{"type": "fieldMapping", "source": "a", "destination": "b"}]')),
    h("p", { class: "row" }, h("button", { type: "submit", id: "save-integration" }, existing ? "Save changes" : "Create integration"),
      h("a", { href: existing ? `#/integrations/${existing.id}` : "#/integrations" }, "Cancel")));
  const refreshPreview = () => {
    clear(preview).append(schedulePreview(readPolicy(form)));
  };
  form.addEventListener("input", refreshPreview);
  form.addEventListener("change", refreshPreview);
  refreshPreview();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    let body;
    try {
      body = readIntegration(form);
    } catch (problem) {
      showProblem(form, problem);
      return;
    }
    const button = form.querySelector("#save-integration");
    button.disabled = true;
    try {
      const saved = existing
        ? await api("PUT", `/api/v2/integrations/${enc(existing.id)}`, body, { ifMatch: existing.version })
        : await api("POST", "/api/v2/integrations", body);
      toast(`${saved.name} saved.`);
      location.hash = `#/integrations/${saved.id}`;
    } catch (err) {
      if (err instanceof ApiProblem) showProblem(form, err.problem);
      else showProblem(form, { title: err.message });
    } finally {
      button.disabled = false;
    }
  });
  view.append(h("h1", {}, title), form);
}

function num(form, id) {
  const v = form.querySelector(`#${id}`).value.trim();
  return v === "" ? undefined : Number(v);
}

function readPolicy(form) {
  const q = (id) => form.querySelector(`#${id}`);
  const policy = {
    retryPolicyType: q("retryPolicyType").value,
    maxRetries: num(form, "maxRetries"),
    retryDelay: num(form, "retryDelay"),
    multiplier: num(form, "multiplier"),
    maxDelay: num(form, "maxDelay"),
    jitter: q("jitter").checked,
    jitterRatio: num(form, "jitterRatio"),
    jitterMode: q("jitterMode").value,
    retryOnTimeout: q("retryOnTimeout").checked,
    respectRetryAfter: q("respectRetryAfter").checked,
    maxRetryAfter: num(form, "maxRetryAfter"),
  };
  const statuses = q("retryOnStatus").value.split(/[\s,]+/).filter(Boolean);
  if (statuses.length) policy.retryOnStatus = statuses.map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  for (const k of Object.keys(policy)) if (policy[k] === undefined) delete policy[k];
  return policy;
}

/** The form as an IntegrationIn; throws a problem-shaped object for input JSON cannot carry. */
function readIntegration(form) {
  const q = (id) => form.querySelector(`#${id}`);
  const headers = {};
  for (const row of form.querySelectorAll(".header-row")) {
    const name = row.querySelector(".header-name").value.trim();
    if (name) headers[name] = row.querySelector(".header-value").value;
  }
  const settings = {
    url: q("url").value.trim(),
    httpMethod: q("httpMethod").value,
    contentType: q("contentType").value.trim(),
    headers,
    retryPolicy: readPolicy(form),
    requestTimeout: num(form, "requestTimeout"),
    payloadFormat: q("payloadFormat").value,
  };
  const bodyTemplate = q("bodyTemplate").value;
  if (bodyTemplate.trim()) settings.bodyTemplate = bodyTemplate;
  const transformations = q("transformations").value.trim();
  if (transformations) {
    try {
      settings.transformations = JSON.parse(transformations);
    } catch (e) {
      throw { title: "Invalid input", errors: [{ field: "settings.transformations", message: `not valid JSON: ${e.message}` }] };
    }
  }
  if (settings.requestTimeout === undefined) delete settings.requestTimeout;
  return { name: q("name").value.trim(), type: "webhook", enabled: q("enabled").checked, settings };
}

/** The retry schedule as a table and a chart: delay per retry, its jitter band, the cap. */
export function schedulePreview(policy) {
  const rows = retrySchedule(policy);
  const p = { ...DEFAULT_POLICY, ...policy };
  const wrap = h("section", { class: "retry-preview", "aria-label": "Retry schedule preview" },
    h("h2", {}, "Retry schedule"));
  if (!rows.length) {
    wrap.append(h("p", {}, "No retries: a failed first attempt is dead-lettered."));
    return wrap;
  }
  wrap.append(h("p", { class: "muted" },
    `Up to ${rows.length + 1} attempts; ${p.jitter ? (p.jitterMode === "full" ? "full jitter: each delay drawn from 0 to its value" : `jitter ±${Math.round((p.jitterRatio ?? 0.2) * 100)} %`) : "no jitter"}; cap (maxDelay) ${fmtMs(p.maxDelay)}. Retry-After from a 429/503 can push a retry later.`));
  const shown = rows.slice(0, 12);
  const max = Math.max(...shown.map((r) => r.high), 1);
  const W = 520, H = 150, pad = 28, bw = (W - pad * 2) / shown.length;
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H + 20}`, role: "img", "aria-label": "Delay before each retry" });
  shown.forEach((r, i) => {
    const x = pad + i * bw, y = (v) => H - (v / max) * (H - 10);
    chart.append(svg("rect", { x: x + bw * 0.2, y: y(r.delay), width: bw * 0.6, height: H - y(r.delay), fill: r.capped ? "#a15c00" : "#2450c8", rx: 2 }));
    if (r.high > r.low) chart.append(svg("line", { x1: x + bw / 2, x2: x + bw / 2, y1: y(r.high), y2: y(r.low), stroke: "#1b1f24", "stroke-width": 2 }));
    chart.append(svg("text", { x: x + bw / 2, y: H + 14, "text-anchor": "middle" }, `#${r.n}`));
  });
  if (rows.some((r) => r.capped)) {
    const y = H - (Number(p.maxDelay) / max) * (H - 10);
    chart.append(svg("line", { x1: pad, x2: W - pad, y1: y, y2: y, stroke: "#c02626", "stroke-dasharray": "4 3" }));
  }
  wrap.append(chart);
  wrap.append(h("table", { id: "retry-preview" },
    h("thead", {}, h("tr", {}, h("th", {}, "Retry"), h("th", { class: "num" }, "Delay"), h("th", { class: "num" }, "Jitter band"), h("th", { class: "num" }, "After first attempt"))),
    h("tbody", {}, rows.map((r) => h("tr", {},
      h("td", {}, `#${r.n}`, r.capped ? h("span", { class: "muted" }, " (capped)") : null),
      h("td", { class: "num delay" }, fmtMs(r.delay)),
      h("td", { class: "num" }, r.high > r.low ? `${fmtMs(r.low)} – ${fmtMs(r.high)}` : "—"),
      h("td", { class: "num" }, r.atHigh > r.atLow ? `${fmtMs(r.atLow)} – ${fmtMs(r.atHigh)}` : fmtMs(r.at)))))));
  return wrap;
}

// ---- an integration's page -----------------------------------------------------------------

export async function integrationPage(view, id) {
  const i = await get(`/api/v2/integrations/${enc(id)}`);
  const s = i.settings;
  const toggle = h("button", { type: "button", class: "quiet", id: "toggle-enabled" }, i.enabled ? "Disable" : "Enable");
  toggle.addEventListener("click", async () => {
    try {
      await api("PATCH", `/api/v2/integrations/${enc(id)}`, { enabled: !i.enabled }, { ifMatch: i.version });
      toast(`${i.name} ${i.enabled ? "disabled" : "enabled"}.`);
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (e) {
      toast(e.message, "bad");
    }
  });
  const remove = h("button", { type: "button", class: "danger", id: "delete-integration" }, "Delete");
  remove.addEventListener("click", async () => {
    const ok = await confirmDialog(`Delete ${i.name}?`,
      h("p", {}, "Its pending deliveries are cancelled (they stay in the log). This cannot be undone."), "Delete");
    if (!ok) return;
    try {
      await api("DELETE", `/api/v2/integrations/${enc(id)}`, undefined, { ifMatch: i.version });
      toast(`${i.name} deleted.`);
      location.hash = "#/integrations";
    } catch (e) {
      toast(e.message, "bad");
    }
  });
  view.append(h("div", { class: "spread" },
    h("h1", {}, i.name, " ", i.enabled ? badge("enabled", "ok") : badge("disabled")),
    h("div", { class: "row" }, h("a", { href: `#/integrations/${id}/edit`, id: "edit-integration" }, "Edit"), toggle, remove)));

  const settings = h("section", { class: "panel", "aria-labelledby": "settings-h" }, h("h2", { id: "settings-h" }, "Settings"),
    h("dl", { class: "settings" },
      h("dt", {}, "URL"), h("dd", {}, h("code", {}, s.url)),
      h("dt", {}, "Method"), h("dd", {}, s.httpMethod),
      h("dt", {}, "Content type"), h("dd", {}, s.contentType),
      h("dt", {}, "Headers"), h("dd", {}, Object.entries(s.headers || {}).map(([k, v]) => h("div", {}, h("code", {}, `${k}: ${v}`)))),
      h("dt", {}, "Timeout"), h("dd", {}, fmtMs(s.requestTimeout)),
      h("dt", {}, "Payload"), h("dd", {}, s.payloadFormat),
      h("dt", {}, "Retry policy"), h("dd", {}, describePolicy(s.retryPolicy)),
      s.bodyTemplate ? [h("dt", {}, "Body template"), h("dd", {}, h("pre", {}, s.bodyTemplate))] : null,
      s.transformations?.length ? [h("dt", {}, "Transformations"), h("dd", {}, h("pre", {}, JSON.stringify(s.transformations, null, 2)))] : null,
      h("dt", {}, "Version"), h("dd", {}, `${i.version}, updated ${fmtTime(i.updatedAt)}`)));
  const retry = h("section", { class: "panel" }, schedulePreview(s.retryPolicy));
  view.append(h("div", { class: "grid" }, settings, retry));

  const bindings = h("section", { class: "panel", "aria-labelledby": "bindings-h" });
  const signing = h("section", { class: "panel", "aria-labelledby": "signing-h" });
  const secrets = h("section", { class: "panel", "aria-labelledby": "secrets-h" });
  const charts = h("section", { class: "panel", "aria-labelledby": "charts-h" });
  view.append(h("div", { class: "grid" }, bindings, signing), h("div", { class: "grid" }, secrets, charts));
  const logs = h("section", { class: "panel", "aria-labelledby": "logs-h" });
  view.append(logs);
  await Promise.all([
    bindingsPanel(bindings, id),
    signingPanel(signing, id),
    secretsPanel(secrets, id),
    chartsPanel(charts, id),
    logsPanel(logs, id),
  ].map((p) => p.catch((e) => toast(e.message, "bad"))));
}

function describePolicy(p) {
  if (!p || p.retryPolicyType === "none") return "no retries";
  const growth = p.retryPolicyType === "exponential" ? `, ×${p.multiplier} each time` : p.retryPolicyType === "linear" ? ", growing linearly" : "";
  const jitter = p.jitter ? (p.jitterMode === "full" ? "full jitter" : `jitter ±${Math.round(p.jitterRatio * 100)} %`) : "no jitter";
  const extra = (p.retryOnStatus || []).length ? `; also retries ${p.retryOnStatus.join(", ")}` : "";
  return `${p.retryPolicyType}: up to ${p.maxRetries} retries, first after ${fmtMs(p.retryDelay)}${growth}, capped at ${fmtMs(p.maxDelay)}; ${jitter}; ` +
    `${p.retryOnTimeout ? "retries" : "does not retry"} timeouts; ${p.respectRetryAfter ? `honours Retry-After up to ${fmtMs(p.maxRetryAfter)}` : "ignores Retry-After"}${extra}.`;
}

async function bindingsPanel(panel, id) {
  clear(panel).append(h("h2", { id: "bindings-h" }, "Event bindings"));
  const list = await all(`/api/v2/integrations/${enc(id)}/eventbindings`);
  const ul = h("ul", { id: "bindings" });
  for (const b of list) {
    const del = h("button", { type: "button", class: "quiet", "aria-label": `Remove binding ${b.eventType}` }, "Remove");
    del.addEventListener("click", async () => {
      try {
        await api("DELETE", `/api/v2/integrations/${enc(id)}/eventbindings/${enc(b.id)}`);
        await bindingsPanel(panel, id);
      } catch (e) {
        toast(e.message, "bad");
      }
    });
    ul.append(h("li", {}, h("code", {}, b.eventType), " ", del));
  }
  if (!list.length) ul.append(h("li", { class: "muted" }, "No bindings: this integration receives no events."));
  const events = h("input", { id: "binding-events", "data-field": "events", placeholder: "routing.queue.member.update, orders.*", size: 36 });
  const form = h("form", { class: "row" }, h("div", { class: "form-summary", tabindex: "-1" }),
    field("Bind event types (comma-separated)", events), h("button", { type: "submit" }, "Bind"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const types = events.value.split(",").map((t) => t.trim()).filter(Boolean);
    try {
      await api("POST", `/api/v2/integrations/${enc(id)}/eventbindings`, { events: types });
      await bindingsPanel(panel, id);
    } catch (err) {
      if (err instanceof ApiProblem) showProblem(form, err.problem);
    }
  });
  panel.append(ul, form);
}

async function signingPanel(panel, id) {
  clear(panel).append(h("h2", { id: "signing-h" }, "Signing secret"));
  const current = await optional(`/api/v2/integrations/${enc(id)}/signing-secret`).catch(() => null);
  if (!current) {
    panel.append(unavailable("Request signing is"));
    return;
  }
  const key = h("code", { id: "signing-key", hidden: true }, current.key);
  const show = h("button", { type: "button", class: "quiet", "aria-controls": "signing-key" }, "Show key");
  show.addEventListener("click", () => {
    key.hidden = !key.hidden;
    show.textContent = key.hidden ? "Show key" : "Hide key";
  });
  const grace = h("input", { id: "grace", type: "number", value: 86400, "data-field": "gracePeriodSeconds" });
  const rotate = h("form", { class: "row" }, h("div", { class: "form-summary", tabindex: "-1" }),
    field("Old key keeps signing for (s)", grace), h("button", { type: "submit" }, "Rotate signing secret"));
  rotate.addEventListener("submit", async (e) => {
    e.preventDefault();
    const ok = await confirmDialog("Rotate the signing secret?", h("p", {}, "The new key signs at once; the old one keeps signing alongside it for the grace period."), "Rotate");
    if (!ok) return;
    try {
      await api("POST", `/api/v2/integrations/${enc(id)}/signing-secret/rotate`, { gracePeriodSeconds: Number(grace.value) });
      toast("Signing secret rotated.");
      await signingPanel(panel, id);
    } catch (err) {
      if (err instanceof ApiProblem) showProblem(rotate, err.problem);
    }
  });
  panel.append(h("p", {}, "Created ", fmtTime(current.createdAt),
    current.previousKeyRetiresAt ? `; the previous key retires ${fmtTime(current.previousKeyRetiresAt)}` : ""),
  h("p", {}, show, " ", key), rotate);
}

async function secretsPanel(panel, id) {
  clear(panel).append(h("h2", { id: "secrets-h" }, "Secrets it uses"));
  const secrets = await all("/api/v2/secrets").catch((e) => {
    if (e instanceof ApiProblem && e.status === 403) return null;
    throw e;
  });
  if (secrets === null) {
    panel.append(h("p", { class: "muted" }, "Your token may not view secrets."));
    return;
  }
  const used = secrets.filter((x) => (x.usedBy || []).some((u) => u.id === id));
  panel.append(used.length
    ? h("ul", {}, used.map((x) => h("li", {}, h("code", {}, x.name), ` version ${x.version}, rotated ${fmtTime(x.updatedAt)} `, h("a", { href: "#/secrets" }, "manage"))))
    : h("p", { class: "muted" }, "None."));
}
