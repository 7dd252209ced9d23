// The deliveries page (every receipt, or the rejected / orphaned ones) and the retention audits.
import { cursorParam, parseCursor } from "../filters.js";
import { count, parseTime, plural, truncate } from "../format.js";
import { html } from "../html.js";
import { link, pageResponse, timeCell, type PageContext } from "../layout.js";
import type { DeliverySelection } from "../queries.js";
import { PAGE_SIZE } from "./events.js";

const KINDS = [
  ["", "All"],
  ["invalid", "Rejected signatures"],
  ["orphaned", "Without an event"],
] as const;

export async function deliveriesPage(ctx: PageContext): Promise<Response> {
  const params = ctx.url.searchParams;
  const kindText = params.get("kind") ?? "";
  const kind = kindText === "invalid" || kindText === "orphaned" ? kindText : undefined;
  const endpoints = await ctx.deps.queries.endpoints();
  const endpointName = (params.get("endpoint") ?? "").slice(0, 500);
  const endpoint = endpointName === "" ? undefined : endpoints.find((e) => e.name === endpointName);
  const problems: string[] = [];
  if (endpointName !== "" && endpoint === undefined) problems.push("no endpoint with that name is recorded in this file");
  let since: number | null = null;
  try {
    since = parseTime(params.get("since"), "since", ctx.now);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const selection: DeliverySelection = { kind, endpointId: endpoint?.id, since: since ?? undefined };
  const after = parseCursor(params.get("before"));
  const rows = endpointName !== "" && endpoint === undefined ? [] : await ctx.deps.queries.deliveryPage(selection, PAGE_SIZE + 1, after);
  const more = rows.length > PAGE_SIZE;
  const page = rows.slice(0, PAGE_SIZE);
  const last = page.at(-1);
  const here = { kind, endpoint: endpointName, since: since ?? undefined };

  const body = html`<h1>Deliveries</h1>
<p class="muted">Every receipt is a delivery: the first of an event, its duplicates, rejected signatures and handshakes.</p>
<form class="filters" method="get" action="${link(ctx, "/deliveries")}">
  <label>Show<select name="kind">${KINDS.map(([value, label]) => html`<option value="${value}"${value === (kind ?? "") ? html` selected` : null}>${label}</option>`)}</select></label>
  <label>Endpoint<select name="endpoint"><option value="">any</option>${endpoints.map((e) => html`<option value="${e.name}"${e.name === endpointName ? html` selected` : null}>${e.name}</option>`)}</select></label>
  <label>Received since<input name="since" value="${params.get("since") ?? ""}" placeholder="36h, 7d, 2025-01-31, unix"></label>
  <button type="submit">Filter</button>
  <a href="${link(ctx, "/deliveries")}">Clear</a>
</form>
${problems.length > 0 ? html`<div class="notice bad">${problems.map((p) => html`<div>${p}</div>`)}</div>` : null}
<div class="panel"><table>
  <thead><tr><th>ID</th><th>Event</th><th>Endpoint</th><th>Type</th><th>Signature</th><th>Received</th><th>Error</th></tr></thead>
  <tbody>${page.length === 0 ? html`<tr><td colspan="7" class="muted">No deliveries match.</td></tr>` : page.map((d) => html`<tr>
    <td><a href="${link(ctx, `/deliveries/${d.id}`)}">${d.id}</a></td>
    <td>${d.eventId === null ? html`<span class="muted">-</span>` : html`<a href="${link(ctx, `/events/${d.eventId}`)}">${d.eventId}</a>`}</td>
    <td>${d.endpoint}</td>
    <td>${d.eventType ?? html`<span class="muted">-</span>`}</td>
    <td>${d.signatureValid === true ? html`<span class="verdict-valid">valid</span>` : d.signatureValid === false ? html`<span class="verdict-invalid">invalid</span>` : html`<span class="muted">-</span>`}</td>
    <td class="nowrap">${timeCell(d.receivedAt)}</td>
    <td class="error">${d.signatureError === null ? null : truncate(d.signatureError, 140)}</td>
  </tr>`)}</tbody>
</table></div>
<div class="pager">
  ${after ? html`<a href="${link(ctx, "/deliveries", here)}">← Newest</a>` : null}
  ${more && last ? html`<a href="${link(ctx, "/deliveries", { ...here, before: cursorParam(last) })}">Older →</a>` : null}
  <span class="muted">${count(page.length)} shown${more ? ", more older ones" : ""}</span>
</div>`;
  return pageResponse(ctx, "Deliveries", "deliveries", body);
}

export async function auditsPage(ctx: PageContext): Promise<Response> {
  const audits = await ctx.deps.operator.listPruneAudits({ limit: 200 });
  const body = html`<h1>Retention</h1>
<p class="muted">One row per prune (by hand, by the CLI, or by runRetention()), newest first.</p>
<div class="panel"><table>
  <thead><tr><th>ID</th><th>When</th><th>Kind</th><th>Queue</th><th class="num">Events</th><th class="num">Deliveries</th><th class="num">Attempts</th><th class="num">Jobs</th><th>Summary</th></tr></thead>
  <tbody>${audits.length === 0 ? html`<tr><td colspan="9" class="muted">Nothing has been pruned yet.</td></tr>` : audits.map((a) => html`<tr>
    <td>${a.id}</td>
    <td class="nowrap">${timeCell(a.executedAt)}</td>
    <td>${a.kind === "prune_events" ? "events" : "orphan deliveries"}</td>
    <td>${a.queueName}</td>
    <td class="num">${count(a.eventsPruned)}</td>
    <td class="num">${count(a.deliveriesPruned)}</td>
    <td class="num">${count(a.attemptsPruned)}</td>
    <td class="num">${count(a.liveJobsPruned)}</td>
    <td><code>${truncate(a.summaryJson, 200)}</code></td>
  </tr>`)}</tbody>
</table></div>
<p class="muted">${plural(audits.length, "audit row")} shown (at most 200).</p>`;
  return pageResponse(ctx, "Retention", "audits", body);
}
