// The dashboard's two assets, compiled into the package with the rest of the code (no files to
// copy, no build step, nothing fetched from elsewhere): one stylesheet and one small script. The
// pages work without the script; it adds a second click to destructive buttons (never a dialog),
// reloads an event page while the event waits for its handler, and shows times in local time on
// hover. The pages link them with a content hash, so they may be cached for long.
import { createHash } from "node:crypto";

const CSS = `
:root {
  --fg: #1d2330; --muted: #5f6b7a; --line: #dde2ea; --bg: #f6f7f9; --card: #fff; --accent: #2457c5;
  --ok: #1f7a45; --warn: #a86200; --bad: #b3261e; --idle: #6b7280;
  color-scheme: light;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; align-items: center; gap: 20px; padding: 10px 24px; background: #152238; color: #fff; flex-wrap: wrap; }
header.top .brand { font-weight: 700; letter-spacing: .02em; }
header.top nav a { color: #cfd8e6; margin-right: 14px; }
header.top nav a.here { color: #fff; font-weight: 600; }
header.top form { margin-left: auto; display: flex; gap: 6px; }
header.top input { width: 260px; }
.badge-ro { background: #f4c542; color: #2a2000; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
main { padding: 20px 24px 48px; max-width: 1400px; }
h1 { font-size: 20px; margin: 0 0 14px; }
h2 { font-size: 16px; margin: 26px 0 10px; }
.muted { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin-bottom: 18px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 650; margin-top: 2px; }
.card.bad .value { color: var(--bad); }
.card.warn .value { color: var(--warn); }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px; margin-bottom: 16px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
td.error { color: var(--bad); max-width: 520px; overflow-wrap: anywhere; }
tr:hover td { background: #fafbfd; }
table.fields th { width: 190px; text-transform: none; font-size: 13px; letter-spacing: 0; }
table.fields td { overflow-wrap: anywhere; }
pre { background: #0f1726; color: #e6edf7; padding: 12px 14px; border-radius: 6px; overflow: auto; max-height: 560px; font: 12.5px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
pre.error { background: #fff4f3; color: #6d1b16; border: 1px solid #f2c9c5; max-height: 260px; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #e8ebf0; color: var(--idle); }
.status-handled { background: #e3f4ea; color: var(--ok); }
.status-received, .status-processing { background: #e6eefc; color: var(--accent); }
.status-failed { background: #fff1dc; color: var(--warn); }
.status-dead { background: #fde7e6; color: var(--bad); }
.status-ignored { background: #eceef2; color: var(--idle); }
.verdict-valid { color: var(--ok); font-weight: 600; }
.verdict-invalid { color: var(--bad); font-weight: 600; }
form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; margin-bottom: 14px; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 3px; }
input, select { font: inherit; padding: 5px 8px; border: 1px solid #c5ccd8; border-radius: 5px; background: #fff; color: var(--fg); }
button { font: inherit; padding: 5px 14px; border-radius: 5px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button.armed { background: #7a1a14; border-color: #7a1a14; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; margin: 12px 0; }
.actions form { margin: 0; }
.notice { padding: 10px 14px; border-radius: 6px; margin-bottom: 14px; background: #e6eefc; border: 1px solid #c4d4f5; }
.notice.bad { background: #fde7e6; border-color: #f2c0bc; }
.notice.ok { background: #e3f4ea; border-color: #bfe2cc; }
.pager { display: flex; gap: 14px; margin: 12px 0; }
.chart { width: 100%; height: auto; display: block; }
.chart .bar-accepted { fill: #5b8def; }
.chart .bar-rejected { fill: #d9534f; }
.chart .axis { stroke: #c5ccd8; stroke-width: 1; }
.chart text { fill: var(--muted); font-size: 10px; }
.spark { width: 160px; height: 30px; display: block; }
.spark .bar-accepted { fill: #5b8def; }
.spark .bar-rejected { fill: #d9534f; }
.legend span { margin-right: 14px; }
.legend .swatch-accepted, .legend .swatch-rejected { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
.legend .swatch-accepted { background: #5b8def; }
.legend .swatch-rejected { background: #d9534f; }
details summary { cursor: pointer; color: var(--accent); }
`;

const JS = `"use strict";
// Knocker dashboard: progressive enhancement only; every page works without this file.
(function () {
  // A form with data-confirm submits on the second click; the first one says what will happen.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (form.getAttribute("data-armed") === "yes") return;
    event.preventDefault();
    var button = form.querySelector("button");
    form.setAttribute("data-armed", "yes");
    if (button) {
      button.setAttribute("data-label", button.textContent || "");
      button.textContent = form.getAttribute("data-confirm");
      button.classList.add("armed");
    }
    setTimeout(function () {
      form.removeAttribute("data-armed");
      if (button) {
        button.textContent = button.getAttribute("data-label");
        button.classList.remove("armed");
      }
    }, 5000);
  });
  // An event waiting for its handler: look again in a moment.
  var refresh = document.querySelector("[data-refresh-s]");
  if (refresh) {
    var seconds = Number(refresh.getAttribute("data-refresh-s"));
    if (seconds > 0) setTimeout(function () { location.reload(); }, seconds * 1000);
  }
  // Times are printed in UTC; hovering one shows it in the browser's time zone.
  var times = document.querySelectorAll("time[datetime]");
  for (var i = 0; i < times.length; i++) {
    var at = new Date(times[i].getAttribute("datetime"));
    if (!isNaN(at.getTime())) times[i].setAttribute("title", at.toLocaleString());
  }
})();
`;

export interface Asset {
  body: string;
  contentType: string;
  /** A short content hash: the pages link `?v=<hash>`. */
  version: string;
}

function asset(body: string, contentType: string): Asset {
  return { body, contentType, version: createHash("sha256").update(body).digest("hex").slice(0, 12) };
}

export const ASSETS: Readonly<Record<string, Asset>> = {
  "dashboard.css": asset(CSS, "text/css; charset=utf-8"),
  "dashboard.js": asset(JS, "text/javascript; charset=utf-8"),
};
