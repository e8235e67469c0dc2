/**
 * The dashboard: one self-contained HTML page (no build step, no external
 * files) that polls `/status` and shows one row per consumer, with a lag
 * sparkline kept in the page. Narrow screens get one card per consumer.
 *
 * @module
 */

/** How often the page polls `/status`, ms. */
export const DASHBOARD_REFRESH_MS = 2000;

/** The page. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>consumerd</title>
<style>
  :root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #6e7781; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; padding: 12px 16px; }
  header { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: baseline; margin-bottom: 12px; }
  h1 { font-size: 18px; margin: 0; }
  .muted { color: var(--muted); }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #d0d7de55; vertical-align: top; }
  th { font-weight: 600; font-size: 12px; text-transform: uppercase; color: var(--muted); }
  td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
  .state { font-weight: 600; }
  .state-running { color: var(--ok); }
  .state-starting, .state-joining, .state-draining, .state-waiting { color: var(--warn); }
  .state-failed, .state-failing, .state-stopped, .state-stalled { color: var(--bad); }
  .reason, .error { font-size: 12px; color: var(--muted); max-width: 28em; overflow-wrap: anywhere; }
  .error { color: var(--bad); }
  svg.spark { width: 120px; height: 28px; display: block; }
  svg.spark polyline { fill: none; stroke: currentColor; stroke-width: 1.5; }
  #banner { color: var(--bad); font-weight: 600; }
  @media (max-width: 700px) {
    thead { display: none; }
    table, tbody, tr, td { display: block; width: 100%; box-sizing: border-box; }
    tr { border: 1px solid #d0d7de88; border-radius: 8px; margin-bottom: 10px; padding: 4px 0; }
    td { border: none; padding: 3px 10px; }
    td::before { content: attr(data-label) ": "; color: var(--muted); font-size: 12px; }
    td.name::before { content: none; }
    td.name { font-size: 16px; }
  }
</style>
</head>
<body>
<header>
  <h1>consumerd</h1>
  <span id="config" class="muted"></span>
  <span id="reload" class="muted"></span>
  <span id="updated" class="muted"></span>
  <span id="banner"></span>
</header>
<table>
  <thead><tr>
    <th>Consumer</th><th>State</th><th>Partitions</th><th>Committed / HW</th><th>Lag</th>
    <th>Lag over time</th><th>Processed</th><th>Restarts</th><th>Last error</th>
  </tr></thead>
  <tbody id="rows"><tr><td colspan="9" class="muted">loading…</td></tr></tbody>
</table>
<script>
"use strict";
const REFRESH_MS = ${DASHBOARD_REFRESH_MS};
const HISTORY = 90;
const history = new Map();
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
function sum(values) {
  let total = 0n, known = false;
  for (const v of values) if (v !== null && v !== undefined) { total += BigInt(v); known = true; }
  return known ? total.toString() : "–";
}
function spark(points) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("viewBox", "0 0 120 28");
  svg.setAttribute("preserveAspectRatio", "none");
  const max = Math.max(1, ...points);
  const step = points.length > 1 ? 120 / (points.length - 1) : 0;
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", points.map((p, i) => (i * step).toFixed(1) + "," + (26 - (p / max) * 24).toFixed(1)).join(" "));
  svg.append(line);
  const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
  title.textContent = "lag, last " + points.length + " samples, max " + max;
  svg.append(title);
  return svg;
}
// The last error has its own column: the state's reason refers to it instead of repeating it.
function shortReason(c) {
  const error = c.lastError ? c.lastError.replace(/^[A-Za-z]+: /, "") : "";
  return error && c.reason.includes(error) ? c.reason.replace(error, "see last error") : c.reason;
}
function row(c) {
  const lag = sum(c.partitions.map((p) => p.lag));
  const points = history.get(c.name) || [];
  points.push(lag === "–" ? 0 : Number(lag));
  while (points.length > HISTORY) points.shift();
  history.set(c.name, points);
  const parts = c.partitions.map((p) => p.partition).join(", ") || "none";
  const paused = c.paused.length ? " (paused: " + c.paused.map((p) => p.partition).join(", ") + ")" : "";
  return el("tr", { "data-consumer": c.name, "data-state": c.state },
    el("td", { class: "name", "data-label": "Consumer" }, el("strong", {}, c.name),
      el("div", { class: "muted" }, c.topic + " · " + c.group + " · " + c.mode)),
    el("td", { "data-label": "State" }, el("span", { class: "state state-" + c.state }, c.state),
      c.reason ? el("div", { class: "reason" }, shortReason(c)) : ""),
    el("td", { "data-label": "Partitions" }, parts + paused),
    el("td", { class: "num", "data-label": "Committed / HW" },
      sum(c.partitions.map((p) => p.committed)) + " / " + sum(c.partitions.map((p) => p.highWatermark))),
    el("td", { class: "num lag", "data-label": "Lag" }, lag),
    el("td", { "data-label": "Lag over time" }, spark(points)),
    el("td", { class: "num", "data-label": "Processed" }, c.processed),
    el("td", { class: "num", "data-label": "Restarts" }, c.restarts + " (" + c.workersUp + "/" + c.replicas + " up)"),
    el("td", { "data-label": "Last error" }, c.lastError ? el("span", { class: "error" }, c.lastError) : el("span", { class: "muted" }, "none")));
}
async function refresh() {
  try {
    const response = await fetch("status", { cache: "no-store" });
    if (!response.ok) throw new Error("/status answered " + response.status);
    const status = await response.json();
    const cfg = status.config;
    $("config").textContent = cfg.path + " · revision " + cfg.revision;
    const r = cfg.lastReload;
    $("reload").textContent = r ? "last reload " + new Date(r.at).toLocaleString() + (r.ok ? " (ok)" : " (FAILED: " + r.errors.map((e) => e.message || String(e)).join("; ") + ")") : "";
    const rows = status.consumers.map(row);
    $("rows").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "9", class: "muted" }, "no consumers configured"))]));
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    $("banner").textContent = "";
  } catch (error) {
    $("banner").textContent = "cannot read status: " + error.message;
  }
}
refresh();
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>
`;
