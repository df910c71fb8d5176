// Small DOM helpers: element building, formatting, toasts, confirmation, field errors.

/** Builds an element: h("a", {href: "#/x", class: "y"}, "text", child, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An SVG element (charts). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  append(el, children);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

/** Milliseconds as a short human duration: 950 ms, 1.2 s, 4 min 10 s, 1 h 2 min. */
export function fmtMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? Math.round(s * 10) / 10 : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return m % 60 ? `${hours} h ${m % 60} min` : `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

export function fmtPercent(ratio) {
  if (ratio === null || ratio === undefined) return "—";
  return `${(ratio * 100).toFixed(ratio >= 0.999 || ratio === 0 ? 0 : 1)} %`;
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}

export function statusBadge(code) {
  if (code === null || code === undefined) return badge("no answer", "bad");
  const kind = code < 300 ? "ok" : code < 500 ? "warn" : "bad";
  return badge(String(code), kind);
}

export function toast(message, kind = "") {
  const el = h("div", { class: `toast ${kind}` }, message);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.remove(), 5000);
}

/** Asks for confirmation in a modal dialog; resolves true when confirmed. */
export function confirmDialog(title, body, okLabel = "Confirm") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-title").textContent = title;
  clear(document.getElementById("confirm-body")).append(...[body].flat());
  document.getElementById("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

/** A panel saying a part of the console needs a route this server does not have. */
export function unavailable(what) {
  return h("p", { class: "unavailable", "data-unavailable": "" }, `${what} not available on this server.`);
}

/** Clears the field errors a form shows. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const summary = form.querySelector(".form-summary");
  if (summary) clear(summary);
}

/**
 * Shows a problem+json's `errors[]` on the inputs whose `data-field` they name (or the
 * nearest enclosing field: `settings.headers.X-A` lands on `settings.headers`), and the rest
 * in the form's summary. Focuses the first invalid input.
 */
export function showProblem(form, problem) {
  clearErrors(form);
  const inputs = [...form.querySelectorAll("[data-field]")];
  const summary = form.querySelector(".form-summary");
  const unplaced = [];
  let first = null;
  for (const error of problem.errors || []) {
    const input = findField(inputs, error.field);
    if (!input) {
      unplaced.push(`${error.field}: ${error.message}`);
      continue;
    }
    const id = `${input.id || "f" + Math.random().toString(36).slice(2)}-error`;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    input.insertAdjacentElement("afterend", h("span", { class: "field-error", id }, error.message));
    first ??= input;
  }
  if (summary) {
    const title = problem.detail || problem.title || "The request was refused.";
    summary.append(h("div", { class: "alert", role: "alert" }, title, unplaced.length ? h("ul", {}, unplaced.map((u) => h("li", {}, u))) : null));
  }
  (first || summary)?.focus?.();
}

function findField(inputs, field) {
  let name = field;
  while (name) {
    const found = inputs.find((i) => i.dataset.field === name);
    if (found) return found;
    const cut = Math.max(name.lastIndexOf("."), name.lastIndexOf("["));
    name = cut > 0 ? name.slice(0, cut) : "";
  }
  return null;
}

/** `<label>` wrapping a control. */
export function field(labelText, control, hint) {
  return h("label", {}, labelText, control, hint ? h("span", { class: "muted" }, hint) : null);
}

/** Converts a `datetime-local` value to RFC 3339 (UTC), or undefined. */
export function localToIso(value) {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

let teardown = [];
/** Registers a callback (stopping a timer) to run when another page is shown. */
export function onLeave(fn) {
  teardown.push(fn);
}
/** Runs and forgets the current page's leave callbacks. */
export function leavePage() {
  for (const fn of teardown) fn();
  teardown = [];
}
