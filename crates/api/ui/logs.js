// An integration's logs: its attempts filtered by status code, class, outcome, event id and
// time, newest first, paged, and refreshed while new attempts arrive.

import { ApiProblem, get, query } from "./api.js";
import { badge, clear, clearErrors, field, fmtMs, fmtTime, h, localToIso, onLeave, showProblem, statusBadge } from "./dom.js";

const enc = encodeURIComponent;

export async function logsPanel(panel, id) {
  const f = {
    statusCode: h("input", { id: "log-status-code", type: "number", "data-field": "statusCode", placeholder: "503" }),
    statusClass: h("select", { id: "log-status-class", "data-field": "statusClass" }, ["", "2xx", "3xx", "4xx", "5xx"].map((c) => h("option", { value: c }, c || "any"))),
    outcome: h("select", { id: "log-outcome", "data-field": "outcome" }, ["", "succeeded", "failed"].map((c) => h("option", { value: c }, c || "any"))),
    eventId: h("input", { id: "log-event-id", "data-field": "eventId" }),
    from: h("input", { id: "log-from", type: "datetime-local", step: 1, "data-field": "from" }),
    to: h("input", { id: "log-to", type: "datetime-local", step: 1, "data-field": "to" }),
  };
  const live = h("input", { id: "log-live", type: "checkbox", checked: true });
  const form = h("form", { class: "row", "aria-label": "Filter logs" }, h("div", { class: "form-summary", tabindex: "-1" }),
    field("Status code", f.statusCode), field("Status class", f.statusClass), field("Outcome", f.outcome),
    field("Event id", f.eventId), field("From", f.from), field("To", f.to),
    h("button", { type: "submit", id: "apply-log-filter" }, "Filter"),
    h("label", { class: "check" }, live, "Live"));
  const table = h("tbody", { id: "log-rows" });
  const older = h("button", { type: "button", class: "quiet", id: "logs-older" }, "Older");
  const newer = h("button", { type: "button", class: "quiet", id: "logs-newer" }, "Newest");
  const summary = h("span", { class: "muted", id: "log-summary" });
  panel.append(h("h2", { id: "logs-h" }, "Logs"), form,
    h("table", { class: "stack" }, h("thead", {}, h("tr", {}, ["Time", "Attempt", "Status", "Outcome", "Duration", "Event", "Next attempt", "Delivery"].map((t) => h("th", {}, t)))), table),
    h("div", { class: "row" }, newer, older, summary));
  let cursors = [undefined];
  let nextCursor = null;
  const load = async () => {
    const params = {
      statusCode: f.statusCode.value, statusClass: f.statusClass.value, outcome: f.outcome.value,
      eventId: f.eventId.value.trim(), from: localToIso(f.from.value), to: localToIso(f.to.value),
      limit: 25, cursor: cursors[cursors.length - 1],
    };
    let page;
    try {
      page = await get(`/api/v2/integrations/${enc(id)}/logs${query(params)}`);
    } catch (e) {
      if (e instanceof ApiProblem) showProblem(form, e.problem);
      return;
    }
    clearErrors(form);
    nextCursor = page.nextCursor || null;
    older.disabled = !nextCursor;
    newer.disabled = cursors.length === 1;
    summary.textContent = `${page.data.length} attempts shown${cursors.length > 1 ? ` (page ${cursors.length})` : ""}, newest first.`;
    clear(table).append(...page.data.map((a) => h("tr", { class: "log-row", dataset: { status: a.statusCode ?? "", outcome: a.outcome } },
      h("td", { "data-label": "Time" }, fmtTime(a.startedAt)),
      h("td", { "data-label": "Attempt", class: "num" }, a.attemptNumber),
      h("td", { "data-label": "Status" }, a.statusCode ? statusBadge(a.statusCode) : badge(a.errorKind || "error", "bad")),
      h("td", { "data-label": "Outcome" }, a.outcome),
      h("td", { "data-label": "Duration", class: "num" }, fmtMs(a.durationMs)),
      h("td", { "data-label": "Event" }, h("a", { href: `#/events/${enc(a.eventId)}` }, h("code", {}, a.eventId))),
      h("td", { "data-label": "Next attempt" }, a.nextAttemptAt ? fmtTime(a.nextAttemptAt) : "—"),
      h("td", { "data-label": "Delivery" }, h("a", { href: `#/deliveries/${a.deliveryId}`, class: "delivery-link" }, "Open")))));
    if (!page.data.length) table.append(h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No attempts match.")));
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    cursors = [undefined];
    load();
  });
  older.addEventListener("click", () => {
    if (nextCursor) cursors.push(nextCursor);
    load();
  });
  newer.addEventListener("click", () => {
    cursors = [undefined];
    load();
  });
  // New attempts appear while the newest page is shown and Live is on.
  const timer = setInterval(() => {
    if (live.checked && cursors.length === 1 && document.visibilityState === "visible") load();
  }, 2000);
  onLeave(() => clearInterval(timer));
  await load();
}
