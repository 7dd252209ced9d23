// The overview: per endpoint, events by status, receipts over the last 24 hours, rejected
// signatures, the oldest event still waiting for its handler; the queue's depth; the latest dead
// events.
import type { EventStatus } from "../../interfaces.js";
import { receiptsChart, sparkline } from "../chart.js";
import { age, count, truncate } from "../format.js";
import { html } from "../html.js";
import { link, pageResponse, timeCell, type PageContext } from "../layout.js";
import type { StatusCount } from "../queries.js";
import { inboxHealth, type InboxHealth } from "../../telemetry/health.js";
import { METRIC } from "../../telemetry/conventions.js";

/** The chart's window: 24 slots of an hour, the last one the current hour. */
const SLOT_S = 3600;
const SLOTS = 24;

/** Statuses that only grow and are rarely looked at: their counts (a range count over most of the inbox) are kept a few seconds. */
export const SETTLED: readonly EventStatus[] = ["handled", "ignored"];
const UNSETTLED: readonly EventStatus[] = ["received", "processing", "failed", "dead"];
/** Columns, in lifecycle order; `processing` only shows when some writer committed it. */
const COLUMNS: readonly EventStatus[] = ["received", "processing", "failed", "dead", "handled", "ignored"];

/** How long the settled counts are reused (measured: ~35-55 ms for 1M handled events on the 2-core bench machine). */
export const SETTLED_COUNTS_TTL_MS = 10_000;

export interface CountsCache {
  at: number;
  counts: StatusCount[];
}

export async function overviewPage(ctx: PageContext, cache: { settled: CountsCache | null }): Promise<Response> {
  const { queries, operator, queueName } = ctx.deps;
  const now = ctx.now;
  const from = Math.floor(now / SLOT_S) * SLOT_S - (SLOTS - 1) * SLOT_S;
  const fresh = cache.settled !== null && Date.now() - cache.settled.at < SETTLED_COUNTS_TTL_MS;
  const [endpoints, unsettled, settled, activity, queue, dead] = await Promise.all([
    queries.endpoints(),
    queries.statusCounts(UNSETTLED),
    fresh ? cache.settled!.counts : queries.statusCounts(SETTLED),
    queries.activity({ from, slotS: SLOT_S, slots: SLOTS }),
    queries.queue(now),
    operator.listEvents({ status: "dead", limit: 5 }),
  ]);
  // The gauges' values, from the reads above (UNSETTLED counts the dead ones).
  const health = inboxHealth({ endpoints, counts: unsettled, activity, queue }, now);
  if (!fresh) cache.settled = { at: Date.now(), counts: settled };

  const counts = new Map<number, Record<EventStatus, number>>();
  for (const { endpointId, status, count: n } of [...unsettled, ...settled]) {
    const row = counts.get(endpointId) ?? { received: 0, processing: 0, handled: 0, failed: 0, dead: 0, ignored: 0 };
    row[status] = n;
    counts.set(endpointId, row);
  }
  const byId = new Map(activity.map((a) => [a.endpointId, a]));
  const sum = (pick: (status: Record<EventStatus, number>) => number) => [...counts.values()].reduce((total, row) => total + pick(row), 0);
  const total = {
    accepted: Array.from({ length: SLOTS }, (_, i) => activity.reduce((s, a) => s + (a.accepted[i] ?? 0), 0)),
    rejected: Array.from({ length: SLOTS }, (_, i) => activity.reduce((s, a) => s + (a.rejected[i] ?? 0), 0)),
  };
  const receipts24h = total.accepted.reduce((a, b) => a + b, 0) + total.rejected.reduce((a, b) => a + b, 0);
  const rejected24h = total.rejected.reduce((a, b) => a + b, 0) + activity.reduce((s, a) => s + a.dropped, 0);
  const oldest = activity.map((a) => a.oldestUnhandledAt).filter((at): at is number => at !== null);
  const oldestAt = oldest.length === 0 ? null : Math.min(...oldest);
  const deadTotal = sum((row) => row.dead);
  const waiting = sum((row) => row.received + row.processing + row.failed);
  const columns = COLUMNS.filter((status) => status !== "processing" || sum((row) => row.processing) > 0);

  const rows = endpoints.map((endpoint) => {
    const c = counts.get(endpoint.id) ?? { received: 0, processing: 0, handled: 0, failed: 0, dead: 0, ignored: 0 };
    const a = byId.get(endpoint.id);
    const rejected = (a?.rejected ?? []).reduce((x, y) => x + y, 0);
    return html`<tr>
      <td><a href="${link(ctx, "/events", { endpoint: endpoint.name })}">${endpoint.name}</a>${endpoint.enabled ? null : html` <span class="muted">(disabled)</span>`}</td>
      <td>${endpoint.provider ?? html`<span class="muted">trusted</span>`}</td>
      ${columns.map((status) => html`<td class="num"><a href="${link(ctx, "/events", { endpoint: endpoint.name, status })}">${count(c[status])}</a></td>`)}
      <td>${a ? sparkline({ from, slotS: SLOT_S, accepted: a.accepted, rejected: a.rejected }) : null}</td>
      <td class="num"><a href="${link(ctx, "/deliveries", { kind: "invalid", endpoint: endpoint.name })}">${count(rejected)}</a>${a && a.dropped > 0 ? html` <span class="muted" title="over invalidDeliveriesPerMinute: counted, not stored">+${count(a.dropped)}</span>` : null}</td>
      <td class="nowrap">${a?.oldestUnhandledAt != null ? age(now - a.oldestUnhandledAt) : html`<span class="muted">none</span>`}</td>
    </tr>`;
  });

  const body = html`<h1>Overview <span class="muted">· queue ${queueName}</span></h1>
<div class="cards">
  <div class="card"><div class="label">Receipts, 24 h</div><div class="value">${count(receipts24h)}</div></div>
  <div class="card ${rejected24h > 0 ? "warn" : ""}"><div class="label">Rejected signatures, 24 h</div><div class="value">${count(rejected24h)}</div></div>
  <div class="card ${deadTotal > 0 ? "bad" : ""}"><div class="label">Dead events</div><div class="value"><a href="${link(ctx, "/events", { status: "dead" })}">${count(deadTotal)}</a></div></div>
  <div class="card"><div class="label">Waiting for a handler</div><div class="value">${count(waiting)}</div></div>
  <div class="card ${oldestAt !== null && now - oldestAt > 3600 ? "warn" : ""}"><div class="label">Oldest unhandled</div><div class="value">${oldestAt === null ? "none" : age(now - oldestAt)}</div></div>
  <div class="card"><div class="label">Queue depth</div><div class="value">${count(queue.due + queue.scheduled + queue.processing)}</div>
    <div class="muted">${count(queue.due)} due · ${count(queue.scheduled)} later · ${count(queue.processing)} running</div></div>
</div>
<div class="panel">
  <h2>Receipts per hour, last 24 hours (UTC)</h2>
  ${receiptsChart({ from, slotS: SLOT_S, ...total })}
  <p class="legend muted"><span><span class="swatch-accepted"></span>accepted</span><span><span class="swatch-rejected"></span>rejected signature</span></p>
</div>
<h2>Endpoints</h2>
<div class="panel">
<table>
  <thead><tr><th>Endpoint</th><th>Provider</th>${columns.map((status) => html`<th class="num">${status}</th>`)}<th>Receipts, 24 h</th><th class="num">Rejected, 24 h</th><th>Oldest unhandled</th></tr></thead>
  <tbody>${rows.length > 0 ? rows : html`<tr><td colspan="${columns.length + 5}" class="muted">No endpoint is recorded in this file yet.</td></tr>`}</tbody>
</table>
<p class="muted">Handled and ignored counts are at most ${SETTLED_COUNTS_TTL_MS / 1000} s old; the others are live.</p>
</div>
${metricsPanel(health)}
<h2>Latest dead events</h2>
<div class="panel">
${dead.length === 0 ? html`<p class="muted">No dead events.</p>` : html`<table>
  <thead><tr><th>ID</th><th>Endpoint</th><th>Type</th><th>Received</th><th>Last error</th></tr></thead>
  <tbody>${dead.map((event) => html`<tr>
    <td><a href="${link(ctx, `/events/${event.id}`)}">${event.id}</a></td><td>${event.endpoint}</td><td>${event.eventType ?? "-"}</td>
    <td class="nowrap">${timeCell(event.receivedAt)}</td><td class="error">${event.lastError === null ? "-" : truncate(event.lastError, 160)}</td>
  </tr>`)}</tbody>
</table>`}
</div>`;
  return pageResponse(ctx, "Overview", "overview", body);
}

/**
 * The gauges Knocker reports through OpenTelemetry (docs/telemetry.md), from the same reading of
 * the database: what an alert on them sees now.
 */
function metricsPanel(health: InboxHealth) {
  const rows: Array<[string, string, number]> = [
    ...(["due", "scheduled", "processing"] as const).map((state): [string, string, number] => [METRIC.queueDepth, pair("knocker.state", state), health.queue[state]]),
    ...health.endpoints.map((e): [string, string, number] => [METRIC.oldestAge, pair("knocker.endpoint", e.name), e.oldestUnhandledAgeS]),
    ...health.endpoints.map((e): [string, string, number] => [METRIC.dead, pair("knocker.endpoint", e.name), e.dead]),
  ];
  return html`<h2>Metrics</h2>
<div class="panel" id="metrics">
<table>
  <thead><tr><th>OpenTelemetry gauge</th><th>Attributes</th><th class="num">Value</th></tr></thead>
  <tbody>${rows.map(([name, attributes, value]) => html`<tr><td><code>${name}</code></td><td><code>${attributes}</code></td><td class="num" data-metric="${name}" data-attributes="${attributes}">${String(value)}</td></tr>`)}</tbody>
</table>
<p class="muted">The values the gauges report at a collection (oldest_age in seconds, 0 when nothing waits). Receipt and attempt counters and handler durations are per process: see your metrics backend.</p>
</div>`;
}

/** An attribute as the card shows it: `name=value`. */
function pair(name: string, value: string): string {
  return [name, value].join("=");
}
