// The events page: filters (status, endpoint, type, time range), a lookup by id / provider id /
// dedupe key, pages of 50 newest first, and the entry to a bulk action on the filter.
import { STATUSES } from "../../operator/operator.js";
import { cursorParam, describeFilter, filterParams, hasSelection, parseCursor, parseEventFilter, toSelection } from "../filters.js";
import { count, truncate } from "../format.js";
import { html } from "../html.js";
import { link, pageResponse, redirect, statusBadge, timeCell, type PageContext } from "../layout.js";
import type { LookupHit } from "../queries.js";

export const PAGE_SIZE = 50;
const MAX_LOOKUP = 200;

export async function eventsPage(ctx: PageContext): Promise<Response> {
  const params = ctx.url.searchParams;
  const q = (params.get("q") ?? "").trim();
  if (q !== "") return lookupPage(ctx, q.slice(0, MAX_LOOKUP));

  const endpoints = await ctx.deps.queries.endpoints();
  const filter = parseEventFilter(params, endpoints, ctx.now);
  const after = parseCursor(params.get("before"));
  const rows = filter.matchesNothing ? [] : await ctx.deps.queries.eventPage(toSelection(filter), PAGE_SIZE + 1, after);
  const more = rows.length > PAGE_SIZE;
  const page = rows.slice(0, PAGE_SIZE);
  const last = page.at(-1);
  const here = filterParams(filter);

  const body = html`<h1>Events</h1>
<form class="filters" method="get" action="${link(ctx, "/events")}">
  <label>Status<select name="status"><option value="">any</option>${STATUSES.map((s) => html`<option value="${s}"${s === filter.status ? html` selected` : null}>${s}</option>`)}</select></label>
  <label>Endpoint<select name="endpoint"><option value="">any</option>${endpoints.map((e) => html`<option value="${e.name}"${e.name === filter.raw.endpoint ? html` selected` : null}>${e.name}</option>`)}</select></label>
  <label>Type<input name="type" value="${filter.raw.type}" placeholder="e.g. invoice.paid"></label>
  <label>Received since<input name="since" value="${filter.raw.since}" placeholder="36h, 7d, 2025-01-31, unix"></label>
  <label>until<input name="until" value="${filter.raw.until}" placeholder="same forms"></label>
  <button type="submit">Filter</button>
  <a href="${link(ctx, "/events")}">Clear</a>
</form>
${filter.problems.length > 0 ? html`<div class="notice bad">${filter.problems.map((p) => html`<div>${p}</div>`)}</div>` : null}
${ctx.readOnly || !hasSelection(filter) ? null : html`<form class="filters" method="get" action="${link(ctx, "/bulk")}">
  ${Object.entries(here).map(([name, value]) => (value === null ? null : html`<input type="hidden" name="${name}" value="${value}">`))}
  <label>Bulk action on ${describeFilter(filter)}<select name="action"><option value="replay">replay</option><option value="requeue">requeue</option><option value="ignore">ignore</option></select></label>
  <button type="submit" class="secondary">Preview (dry run)</button>
</form>`}
<div class="panel">
<table>
  <thead><tr><th>ID</th><th>Status</th><th>Endpoint</th><th>Type</th><th class="num">Attempts</th><th>Received</th><th>Last error</th></tr></thead>
  <tbody>${page.length === 0 ? html`<tr><td colspan="7" class="muted">No events match.</td></tr>` : page.map((event) => html`<tr>
    <td><a href="${link(ctx, `/events/${event.id}`)}">${event.id}</a></td>
    <td>${statusBadge(event.status)}</td>
    <td>${event.endpoint}</td>
    <td>${event.eventType ?? html`<span class="muted">-</span>`}</td>
    <td class="num">${event.attemptCount}</td>
    <td class="nowrap">${timeCell(event.receivedAt)}</td>
    <td class="error">${event.lastError === null ? null : truncate(event.lastError, 140)}</td>
  </tr>`)}</tbody>
</table>
</div>
<div class="pager">
  ${after ? html`<a href="${link(ctx, "/events", here)}">← Newest</a>` : null}
  ${more && last ? html`<a href="${link(ctx, "/events", { ...here, before: cursorParam(last) })}">Older →</a>` : null}
  <span class="muted">${count(page.length)} shown${more ? ", more older ones" : ""}</span>
</div>`;
  return pageResponse(ctx, "Events", "events", body);
}

async function lookupPage(ctx: PageContext, q: string): Promise<Response> {
  const hits = await ctx.deps.queries.lookup(q);
  const events = new Set(hits.map((hit) => hit.eventId).filter((id): id is number => id !== null));
  if (hits.length > 0 && events.size === 1 && hits.every((hit) => hit.eventId !== null)) {
    return redirect(ctx, link(ctx, `/events/${[...events][0]}`));
  }
  if (hits.length === 1 && hits[0]!.deliveryId !== null) return redirect(ctx, link(ctx, `/deliveries/${hits[0]!.deliveryId}`));
  const body = html`<h1>Lookup</h1>
<p>Results for <code>${q}</code>: event and delivery ids, dedupe keys (every event), provider event and delivery ids (the newest 20,000 receipts).</p>
<div class="panel"><table>
  <thead><tr><th>Match</th><th>Event</th><th>Delivery</th><th>Endpoint</th></tr></thead>
  <tbody>${hits.length === 0 ? html`<tr><td colspan="4" class="muted">Nothing found.</td></tr>` : hits.map((hit: LookupHit) => html`<tr>
    <td>${hit.match}</td>
    <td>${hit.eventId === null ? html`<span class="muted">none</span>` : html`<a href="${link(ctx, `/events/${hit.eventId}`)}">${hit.eventId}</a>`}</td>
    <td>${hit.deliveryId === null ? "-" : html`<a href="${link(ctx, `/deliveries/${hit.deliveryId}`)}">${hit.deliveryId}</a>`}</td>
    <td>${hit.endpoint}</td>
  </tr>`)}</tbody>
</table></div>`;
  return pageResponse(ctx, "Lookup", "events", body);
}
