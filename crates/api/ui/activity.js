// What happened: a delivery's attempts against the policy's schedule, dead letters, events.

import { ApiProblem, all, api, get, optional, query } from "./api.js";
import {
  badge, clear, clearErrors, confirmDialog, field, fmtMs, fmtTime, h, localToIso, onLeave, showProblem,
  statusBadge, svg, toast, unavailable,
} from "./dom.js";
import { retrySchedule } from "./schedule.js";

const enc = encodeURIComponent;

const statusKinds = { succeeded: "ok", dead_lettered: "bad", pending: "warn", in_flight: "warn", paused: "warn", blocked: "warn" };

function deliveryStatus(status) {
  return badge(status.replace("_", " "), statusKinds[status] || "");
}

// ---- a delivery ----------------------------------------------------------------------------

export async function deliveryPage(view, id) {
  const d = await get(`/api/v2/deliveries/${enc(id)}`);
  const integration = await optional(`/api/v2/integrations/${enc(d.integrationId)}`).catch(() => null);
  const replay = h("button", { type: "button", id: "replay-delivery", hidden: d.status !== "dead_lettered" }, "Replay");
  replay.addEventListener("click", async () => {
    try {
      await api("POST", `/api/v2/deadletters/${enc(id)}/replay`);
      toast("Replayed: a new attempt is queued.");
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (e) {
      toast(e.message, "bad");
    }
  });
  view.append(h("div", { class: "spread" }, h("h1", {}, "Delivery ", h("span", { id: "delivery-status" }, deliveryStatus(d.status))), replay));
  view.append(h("section", { class: "panel" }, h("dl", { class: "settings" },
    h("dt", {}, "Id"), h("dd", {}, h("code", {}, d.id)),
    h("dt", {}, "Event"), h("dd", {}, h("a", { href: `#/events/${enc(d.eventId)}` }, h("code", {}, d.eventId))),
    h("dt", {}, "Integration"), h("dd", {}, integration ? h("a", { href: `#/integrations/${d.integrationId}` }, integration.name) : h("code", {}, d.integrationId)),
    h("dt", {}, "Attempts"), h("dd", { id: "attempt-count" }, d.attemptCount),
    h("dt", {}, "Next attempt"), h("dd", {}, d.nextAttemptAt ? fmtTime(d.nextAttemptAt) : "—"),
    h("dt", {}, "Last status"), h("dd", {}, d.lastStatusCode ?? "—"),
    h("dt", {}, "Dead-letter reason"), h("dd", {}, d.reason ?? "—"),
    h("dt", {}, "Replays"), h("dd", {}, d.replayCount),
    h("dt", {}, "Created"), h("dd", {}, fmtTime(d.createdAt)),
    h("dt", {}, "Completed"), h("dd", {}, fmtTime(d.completedAt)))));
  view.append(timeline(d, integration?.settings?.retryPolicy));
  if (["pending", "in_flight", "blocked"].includes(d.status)) {
    const timer = setInterval(() => window.dispatchEvent(new HashChangeEvent("hashchange")), 2000);
    onLeave(() => clearInterval(timer));
  }
}

/** The attempts in order, each against the delay the policy planned before it. */
function timeline(d, policy) {
  const panel = h("section", { class: "panel", "aria-labelledby": "timeline-h" }, h("h2", { id: "timeline-h" }, "Timeline"));
  const attempts = [...d.attempts].sort((a, b) => a.attemptNumber - b.attemptNumber || a.startedAt.localeCompare(b.startedAt));
  if (!attempts.length) {
    panel.append(h("p", { class: "muted" }, "No attempt yet."));
    return panel;
  }
  const plan = policy ? retrySchedule(policy) : [];
  const t0 = Date.parse(attempts[0].startedAt);
  panel.append(timelineChart(attempts, plan, t0, d));
  const list = h("ol", { class: "timeline", id: "timeline" });
  attempts.forEach((a, i) => {
    const start = Date.parse(a.startedAt);
    let against = null;
    if (i > 0) {
      const prev = attempts[i - 1];
      const gap = start - (Date.parse(prev.startedAt) + (prev.durationMs || 0));
      const planned = plan[prev.attemptNumber - 1] || plan[a.attemptNumber - 2];
      if (a.attemptNumber === 1 || prev.attemptNumber >= a.attemptNumber) {
        against = h("span", { class: "muted" }, ` — after a replay, ${fmtMs(gap)} later`);
      } else if (planned) {
        const inBand = gap >= planned.low * 0.9 - 50 && gap <= planned.high * 1.1 + 250;
        const because = prev.retryAfterMs ? ` (Retry-After asked for ${fmtMs(prev.retryAfterMs)})` : "";
        against = h("span", {}, ` — waited ${fmtMs(gap)}; the policy planned ${fmtMs(planned.delay)}`,
          planned.high > planned.low ? ` (${fmtMs(planned.low)}–${fmtMs(planned.high)})` : "", because, " ",
          inBand ? badge("on schedule", "ok") : badge(gap > planned.high ? "later than planned" : "earlier than planned", "warn"));
      } else {
        against = h("span", { class: "muted" }, ` — ${fmtMs(gap)} after the previous one`);
      }
    }
    const headers = Object.entries(a.request?.headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
    list.append(h("li", { class: a.outcome, dataset: { attempt: a.attemptNumber } },
      h("div", {}, h("strong", {}, `Attempt ${a.attemptNumber}`), " ", a.statusCode ? statusBadge(a.statusCode) : badge(a.errorKind || "error", "bad"),
        ` at +${fmtMs(start - t0)} (${fmtTime(a.startedAt)}), took ${fmtMs(a.durationMs)}`, against),
      a.errorMessage ? h("div", { class: "alert" }, a.errorMessage) : null,
      a.retryAfterNote ? h("div", { class: "note" }, a.retryAfterNote) : null,
      a.nextAttemptAt ? h("div", { class: "muted" }, `Next attempt planned at ${fmtTime(a.nextAttemptAt)}`) : null,
      h("details", {}, h("summary", {}, "Request and response"),
        h("h3", {}, "Request"), h("pre", {}, `${a.request?.method ?? ""} ${a.request?.url ?? ""}\n${headers}`),
        h("h3", {}, "Response"), h("pre", {}, `${a.response?.statusCode ?? "no answer"} ${a.response?.contentType ?? ""}\n${a.response?.body ?? ""}`))));
  });
  if (d.nextAttemptAt && ["pending", "in_flight"].includes(d.status)) {
    list.append(h("li", { class: "planned" }, `Next attempt at ${fmtTime(d.nextAttemptAt)} (+${fmtMs(Date.parse(d.nextAttemptAt) - t0)})`));
  }
  panel.append(list);
  return panel;
}

/** A time axis: planned windows (from the first attempt, following the policy) and actual attempts. */
function timelineChart(attempts, plan, t0, d) {
  const last = Date.parse(attempts[attempts.length - 1].startedAt) - t0;
  const horizon = Math.max(last, ...plan.slice(0, attempts.length).map((r) => r.atHigh), d.nextAttemptAt ? Date.parse(d.nextAttemptAt) - t0 : 0, 1000) * 1.08;
  const W = 900, H = 70, pad = 24, x = (ms) => pad + (ms / horizon) * (W - pad * 2);
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Attempts against the planned schedule" });
  chart.append(svg("line", { x1: pad, x2: W - pad, y1: 40, y2: 40, stroke: "#b9c0ca" }));
  plan.slice(0, Math.max(attempts.length, 1) + 1).forEach((r) => {
    if (r.atLow > horizon) return;
    chart.append(svg("rect", { x: x(r.atLow), y: 28, width: Math.max(x(r.atHigh) - x(r.atLow), 2), height: 24, fill: "#2450c8", opacity: 0.18 },
      svg("title", {}, `retry ${r.n} planned at ${fmtMs(r.at)}`)));
  });
  for (const a of attempts) {
    const at = Date.parse(a.startedAt) - t0;
    chart.append(svg("circle", { cx: x(at), cy: 40, r: 6, fill: a.outcome === "succeeded" ? "#17803d" : "#c02626" },
      svg("title", {}, `attempt ${a.attemptNumber} at +${fmtMs(at)}`)));
    chart.append(svg("text", { x: x(at), y: 20, "text-anchor": "middle" }, `+${fmtMs(at)}`));
  }
  return chart;
}

// ---- dead letters --------------------------------------------------------------------------

export async function deadLetters(view) {
  const integrations = await all("/api/v2/integrations");
  const names = new Map(integrations.map((i) => [i.id, i.name]));
  const f = {
    integrationId: h("select", { id: "dl-integration", "data-field": "integrationId" }, h("option", { value: "" }, "any"), integrations.map((i) => h("option", { value: i.id }, i.name))),
    reason: h("input", { id: "dl-reason", "data-field": "reason", placeholder: "retries_exhausted" }),
    statusCode: h("input", { id: "dl-status-code", type: "number", "data-field": "statusCode" }),
    from: h("input", { id: "dl-from", type: "datetime-local", step: 1, "data-field": "from" }),
    to: h("input", { id: "dl-to", type: "datetime-local", step: 1, "data-field": "to" }),
  };
  const form = h("form", { class: "row", "aria-label": "Filter dead letters" }, h("div", { class: "form-summary", tabindex: "-1" }),
    field("Integration", f.integrationId), field("Reason starts with", f.reason), field("Last status", f.statusCode),
    field("From", f.from), field("To", f.to), h("button", { type: "submit" }, "Filter"));
  const replayAll = h("button", { type: "button", id: "replay-matching" }, "Replay all matching…");
  const rows = h("tbody", { id: "dl-rows" });
  const more = h("button", { type: "button", class: "quiet" }, "More");
  view.append(h("h1", {}, "Dead letters"),
    h("section", { class: "panel" }, form, h("p", { class: "row" }, replayAll)),
    h("section", { class: "panel" }, h("table", { class: "stack" },
      h("thead", {}, h("tr", {}, ["Dead-lettered", "Integration", "Event", "Reason", "Last status", "Attempts", "Replays", ""].map((t) => h("th", {}, t)))), rows), more));
  const filter = () => ({
    integrationId: f.integrationId.value || undefined, reason: f.reason.value.trim() || undefined,
    statusCode: f.statusCode.value ? Number(f.statusCode.value) : undefined,
    from: localToIso(f.from.value), to: localToIso(f.to.value),
  });
  let cursor;
  const load = async (append = false) => {
    let page;
    try {
      page = await get(`/api/v2/deadletters${query({ ...filter(), limit: 50, cursor: append ? cursor : undefined })}`);
    } catch (e) {
      if (e instanceof ApiProblem) showProblem(form, e.problem);
      return;
    }
    clearErrors(form);
    cursor = page.nextCursor;
    more.hidden = !cursor;
    if (!append) clear(rows);
    for (const dl of page.data) rows.append(deadLetterRow(dl, names, () => load()));
    if (!rows.children.length) rows.append(h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No dead letters match.")));
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  more.addEventListener("click", () => load(true));
  replayAll.addEventListener("click", async () => {
    const q = filter();
    // Count first: page through the matches (bounded) so the user knows what they replay.
    let count = 0, next, capped = false;
    try {
      for (let i = 0; i < 50; i++) {
        const page = await get(`/api/v2/deadletters${query({ ...q, limit: 200, cursor: next })}`);
        count += page.data.length;
        next = page.nextCursor;
        if (!next) break;
        if (i === 49) capped = true;
      }
    } catch (e) {
      toast(e.message, "bad");
      return;
    }
    if (!count) {
      toast("No dead letters match this filter.");
      return;
    }
    const ok = await confirmDialog(`Replay ${count}${capped ? "+" : ""} dead letters?`,
      h("p", { id: "replay-count" }, `${count}${capped ? " or more" : ""} dead letters match the filter; each gets a new attempt now.`), "Replay");
    if (!ok) return;
    try {
      const body = Object.fromEntries(Object.entries({ ...q, limit: Math.min(count, 10000) }).filter(([, v]) => v !== undefined));
      const out = await api("POST", "/api/v2/deadletters/replay", body);
      toast(`Replayed ${out.replayed}${out.more ? "; more remain" : ""}.`);
      load();
    } catch (e) {
      toast(e.message, "bad");
    }
  });
  await load();
}

function deadLetterRow(dl, names, reload) {
  const replay = h("button", { type: "button", class: "replay-one" }, "Replay");
  replay.addEventListener("click", async () => {
    replay.disabled = true;
    try {
      await api("POST", `/api/v2/deadletters/${enc(dl.deliveryId)}/replay`);
      toast("Replayed: a new attempt is queued.");
      reload();
    } catch (e) {
      toast(e.message, "bad");
      replay.disabled = false;
    }
  });
  const purge = h("button", { type: "button", class: "danger" }, "Purge");
  purge.addEventListener("click", async () => {
    const ok = await confirmDialog("Purge this dead letter?", h("p", {}, "It will never be delivered; its attempts stay in the log."), "Purge");
    if (!ok) return;
    try {
      await api("DELETE", `/api/v2/deadletters/${enc(dl.deliveryId)}`);
      toast("Purged.");
      reload();
    } catch (e) {
      toast(e.message, "bad");
    }
  });
  return h("tr", { class: "dl-row", dataset: { delivery: dl.deliveryId } },
    h("td", { "data-label": "Dead-lettered" }, fmtTime(dl.deadLetteredAt)),
    h("td", { "data-label": "Integration" }, h("a", { href: `#/integrations/${dl.integrationId}` }, names.get(dl.integrationId) || dl.integrationId)),
    h("td", { "data-label": "Event" }, h("code", {}, dl.eventId)),
    h("td", { "data-label": "Reason" }, dl.reason ?? "—"),
    h("td", { "data-label": "Last status" }, dl.lastStatusCode ? statusBadge(dl.lastStatusCode) : "—"),
    h("td", { "data-label": "Attempts", class: "num" }, dl.attemptCount),
    h("td", { "data-label": "Replays", class: "num" }, dl.replayCount),
    h("td", {}, h("div", { class: "row" }, h("a", { href: `#/deliveries/${dl.deliveryId}` }, "Inspect"), replay, purge)));
}

// ---- events --------------------------------------------------------------------------------

export async function eventsList(view) {
  view.append(h("h1", {}, "Events"));
  const type = h("input", { id: "event-type", "data-field": "type", value: "routing.queue.member.update", size: 34 });
  const eventId = h("input", { id: "event-id", "data-field": "id", placeholder: "generated when empty" });
  const data = h("textarea", { id: "event-data", "data-field": "data" }, JSON.stringify({ queueId: "q-1", memberId: "m-1", status: "active" }, null, 2));
  const result = h("div", { id: "publish-result", role: "status" });
  const publish = h("form", { "aria-labelledby": "publish-h" }, h("h2", { id: "publish-h" }, "Publish a test event"),
    h("div", { class: "form-summary", tabindex: "-1" }),
    h("div", { class: "form-grid" }, field("Type", type), field("Id (optional)", eventId), h("div", { class: "wide" }, field("Data (JSON object)", data))),
    h("p", {}, h("button", { type: "submit", id: "publish-event" }, "Publish")), result);
  publish.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(publish);
    let payload;
    try {
      payload = JSON.parse(data.value);
    } catch (err) {
      showProblem(publish, { title: "Invalid input", errors: [{ field: "data", message: `not valid JSON: ${err.message}` }] });
      return;
    }
    try {
      const out = await api("POST", "/api/v2/events", { type: type.value.trim(), id: eventId.value.trim() || undefined, data: payload });
      clear(result).append(h("p", {}, "Published ", h("a", { href: `#/events/${enc(out.eventId)}` }, h("code", {}, out.eventId)),
        `: ${out.deliveries.length} deliver${out.deliveries.length === 1 ? "y" : "ies"}. `,
        out.deliveries.map((d) => h("a", { href: `#/deliveries/${d.deliveryId}`, class: "published-delivery" }, "delivery "))));
      eventId.value = "";
      loadList();
    } catch (err) {
      if (err instanceof ApiProblem) showProblem(publish, err.problem);
      else toast(err.message, "bad");
    }
  });
  view.append(h("section", { class: "panel" }, publish));

  const search = h("input", { id: "events-type-filter", placeholder: "exact type" });
  const prefix = h("input", { id: "events-id-filter", placeholder: "id starts with" });
  const listForm = h("form", { class: "row", "aria-label": "Search events" }, field("Type", search), field("Id", prefix), h("button", { type: "submit" }, "Search"));
  const listBody = h("div");
  view.append(h("section", { class: "panel", "aria-labelledby": "events-h" }, h("h2", { id: "events-h" }, "Recent events"), listForm, listBody));
  const loadList = async () => {
    const page = await optional(`/api/v2/events${query({ type: search.value.trim(), idPrefix: prefix.value.trim(), limit: 50 })}`).catch((e) => {
      toast(e.message, "bad");
      return undefined;
    });
    clear(listBody);
    if (page === null) {
      listForm.hidden = true;
      listBody.append(unavailable("Listing events is"));
      return;
    }
    if (!page) return;
    listBody.append(h("table", { class: "stack" },
      h("thead", {}, h("tr", {}, ["Id", "Type", "Occurred", "Received", "Deliveries"].map((t) => h("th", {}, t)))),
      h("tbody", {}, page.data.map((ev) => h("tr", {},
        h("td", { "data-label": "Id" }, h("a", { href: `#/events/${enc(ev.id)}` }, h("code", {}, ev.id))),
        h("td", { "data-label": "Type" }, ev.type), h("td", { "data-label": "Occurred" }, fmtTime(ev.occurredAt)),
        h("td", { "data-label": "Received" }, fmtTime(ev.receivedAt)), h("td", { "data-label": "Deliveries", class: "num" }, ev.deliveryCount))))));
  };
  listForm.addEventListener("submit", (e) => {
    e.preventDefault();
    loadList();
  });
  await loadList();
  await deliveriesPanel(view);
}

/** Recent deliveries across integrations, by status (from the deliveries list, when present). */
async function deliveriesPanel(view) {
  const integrations = await all("/api/v2/integrations");
  const names = new Map(integrations.map((i) => [i.id, i.name]));
  const status = h("select", { id: "deliveries-status" }, ["", "pending", "in_flight", "blocked", "succeeded", "dead_lettered", "paused", "cancelled"].map((s) => h("option", { value: s }, s || "any")));
  const form = h("form", { class: "row", "aria-label": "Filter deliveries" }, field("Status", status), h("button", { type: "submit" }, "Show"));
  const body = h("div");
  view.append(h("section", { class: "panel", "aria-labelledby": "deliveries-h" }, h("h2", { id: "deliveries-h" }, "Recent deliveries"), form, body));
  const load = async () => {
    const page = await optional(`/api/v2/deliveries${query({ status: status.value, limit: 50 })}`).catch((e) => {
      toast(e.message, "bad");
      return undefined;
    });
    clear(body);
    if (page === null) {
      form.hidden = true;
      body.append(unavailable("Listing deliveries is"));
      return;
    }
    if (!page) return;
    body.append(h("table", { class: "stack" },
      h("thead", {}, h("tr", {}, ["Delivery", "Event", "Integration", "Status", "Attempts", "Next attempt"].map((t) => h("th", {}, t)))),
      h("tbody", {}, page.data.map((d) => h("tr", {},
        h("td", { "data-label": "Delivery" }, h("a", { href: `#/deliveries/${d.id}` }, "Open")),
        h("td", { "data-label": "Event" }, h("a", { href: `#/events/${enc(d.eventId)}` }, h("code", {}, d.eventId))),
        h("td", { "data-label": "Integration" }, names.get(d.integrationId) || d.integrationId),
        h("td", { "data-label": "Status" }, deliveryStatus(d.status)),
        h("td", { "data-label": "Attempts", class: "num" }, d.attemptCount),
        h("td", { "data-label": "Next attempt" }, fmtTime(d.nextAttemptAt)))))));
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  await load();
}

export async function eventPage(view, id) {
  view.append(h("h1", {}, "Event ", h("code", {}, id)));
  const ev = await optional(`/api/v2/events/${enc(id)}`).catch(() => null);
  if (!ev) {
    view.append(h("section", { class: "panel" }, unavailable("This event, or looking up events, is")));
    return;
  }
  view.append(h("section", { class: "panel" }, h("dl", { class: "settings" },
    h("dt", {}, "Type"), h("dd", {}, ev.type), h("dt", {}, "Occurred"), h("dd", {}, fmtTime(ev.occurredAt)),
    h("dt", {}, "Received"), h("dd", {}, fmtTime(ev.receivedAt))), h("h2", {}, "Data"), h("pre", {}, JSON.stringify(ev.data, null, 2))));
  view.append(h("section", { class: "panel" }, h("h2", {}, "Deliveries"), h("table", { class: "stack" },
    h("thead", {}, h("tr", {}, ["Delivery", "Status", "Attempts", "Last status", "Next attempt"].map((t) => h("th", {}, t)))),
    h("tbody", {}, (ev.deliveries || []).map((d) => h("tr", {},
      h("td", { "data-label": "Delivery" }, h("a", { href: `#/deliveries/${d.id}` }, h("code", {}, d.id.slice(0, 13) + "…"))),
      h("td", { "data-label": "Status" }, deliveryStatus(d.status)), h("td", { "data-label": "Attempts", class: "num" }, d.attemptCount),
      h("td", { "data-label": "Last status" }, d.lastStatusCode ?? "—"), h("td", { "data-label": "Next attempt" }, fmtTime(d.nextAttemptAt))))))));
}
