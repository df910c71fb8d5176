// An integration's response-time and status-code charts, from the stats API when the server
// has it.

import { optional } from "./api.js";
import { clear, fmtMs, fmtPercent, h, svg, unavailable } from "./dom.js";

const enc = encodeURIComponent;

export async function chartsPanel(panel, id) {
  clear(panel).append(h("h2", { id: "charts-h" }, "Response times and status codes"));
  const windowSelect = h("select", { id: "stats-window", "aria-label": "Window" }, ["1h", "24h", "7d"].map((w) => h("option", { value: w, selected: w === "24h" }, w)));
  const body = h("div");
  panel.append(windowSelect, body);
  const load = async () => {
    const stats = await optional(`/api/v2/integrations/${enc(id)}/stats?window=${windowSelect.value}`).catch(() => null);
    clear(body);
    if (!stats) {
      windowSelect.hidden = true;
      body.append(unavailable("Statistics are"));
      return;
    }
    const rt = stats.responseTimeMs || {};
    body.append(h("p", {},
      `${stats.attempts} attempts, success ${fmtPercent(stats.successRate)}; response avg ${fmtMs(rt.avg)}, p50 ${fmtMs(rt.p50)}, p95 ${fmtMs(rt.p95)}, p99 ${fmtMs(rt.p99)}; ${stats.deadLetters ?? 0} dead letters.`));
    body.append(h("h3", {}, "Average response time"),
      barChart((stats.buckets || []).map((b) => ({ label: new Date(b.start).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hour12: false }), value: b.avgResponseMs ?? 0, kind: b.failed ? "bad" : "ok" })), "Average response time per interval"));
    body.append(h("h3", {}, "Status codes"),
      barChart((stats.byStatusCode || []).map((c) => ({ label: c.statusCode ?? "none", value: c.count, kind: c.statusCode && c.statusCode < 300 ? "ok" : "bad" })), "Attempts by status code"));
  };
  windowSelect.addEventListener("change", load);
  await load();
}

function barChart(points, label) {
  if (!points.length) return h("p", { class: "muted" }, "No attempts in this window.");
  const W = 520, H = 120, pad = 20, max = Math.max(...points.map((p) => p.value), 1), bw = (W - pad * 2) / points.length;
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${W} ${H + 18}`, role: "img", "aria-label": label });
  const every = Math.ceil(points.length / 12);
  points.forEach((p, i) => {
    const height = (p.value / max) * (H - 10);
    chart.append(svg("rect", { x: pad + i * bw + bw * 0.1, y: H - height, width: Math.max(bw * 0.8, 1), height, fill: p.kind === "bad" ? "#c02626" : "#17803d" },
      svg("title", {}, `${p.label}: ${Math.round(p.value)}`)));
    if (i % every === 0) chart.append(svg("text", { x: pad + i * bw + bw / 2, y: H + 14, "text-anchor": "middle" }, String(p.label)));
  });
  return chart;
}
