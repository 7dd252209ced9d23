// One event: its fields, the actions its status allows, every attempt with its error and
// duration, every receipt (delivery) with its signature verdict, the headers with credentials
// redacted, and the body as text with a raw download. One delivery has a page of its own.
import type { Delivery, Event, EventStatus, HeaderMap, QueryMap } from "../../interfaces.js";
import { ACCEPTS } from "../../operator/operator.js";
import { bodyView, count, displayHeaders, displayQuery, plural, type SecretNames } from "../format.js";
import { html, type Html } from "../html.js";
import { csrfField, link, messagePage, pageResponse, respond, statusBadge, timeCell, type PageContext } from "../layout.js";

/** Messages after an action's redirect (`?done=`): our words only. */
const DONE: Record<string, string> = {
  replay: "Replayed: the event is back in the queue; a worker will run its handler.",
  requeue: "Requeued: the event is back in the queue; a worker will run its handler.",
  ignore: "Ignored: its handler will not run.",
  "replay-delivery": "Replayed with that delivery's payload: a worker will run the handler with it.",
};

/** While an event waits for its handler, its page looks again after this many seconds (dashboard.js). */
const REFRESH_S = 2;
const WAITING: readonly EventStatus[] = ["received", "processing", "failed"];
const MAX_RECEIPTS = 200;

export async function eventPage(ctx: PageContext, id: number): Promise<Response> {
  const { operator } = ctx.deps;
  const event = await operator.getEvent(id);
  if (event === null) return messagePage(ctx, 404, "No such event", html`No event with id ${id}.`, { href: link(ctx, "/events"), label: "All events" });
  const [attempts, deliveries] = await Promise.all([
    operator.listAttempts(id),
    operator.listDeliveries({ eventId: id, limit: MAX_RECEIPTS }),
  ]);
  const secrets = ctx.deps.secretNames(event.endpoint);
  const done = DONE[ctx.url.searchParams.get("done") ?? ""];
  const actions = ctx.readOnly ? [] : (["replay", "requeue", "ignore"] as const).filter((action) => (ACCEPTS[action] as readonly EventStatus[]).includes(event.status));
  const first = deliveries.reduce<Delivery | null>((min, d) => (min === null || d.id < min.id ? d : min), null);

  const body = html`<h1 ${WAITING.includes(event.status) ? html`data-refresh-s="${REFRESH_S}"` : null}>Event ${event.id} ${statusBadge(event.status)}</h1>
${done ? html`<div class="notice ok">${done}</div>` : null}
<div class="panel"><table class="fields">
  <tr><th>Endpoint</th><td><a href="${link(ctx, "/events", { endpoint: event.endpoint })}">${event.endpoint}</a></td></tr>
  <tr><th>Type</th><td>${event.eventType ?? "-"}</td></tr>
  <tr><th>Status</th><td>${statusBadge(event.status)}${WAITING.includes(event.status) ? html` <span class="muted">waiting for a handler (this page reloads)</span>` : null}</td></tr>
  <tr><th>Attempts</th><td>${event.attemptCount}</td></tr>
  <tr><th>Received</th><td>${timeCell(event.receivedAt)}</td></tr>
  <tr><th>Handled</th><td>${timeCell(event.handledAt)}</td></tr>
  <tr><th>Provider event id</th><td><code>${event.providerEventId ?? "-"}</code></td></tr>
  <tr><th>Provider delivery id</th><td><code>${event.providerDeliveryId ?? "-"}</code></td></tr>
  <tr><th>Dedupe key</th><td><code>${event.dedupeKey ?? "-"}</code></td></tr>
  <tr><th>Method</th><td>${event.method}</td></tr>
  ${event.lastError === null ? null : html`<tr><th>Last error</th><td><pre class="error">${event.lastError}</pre></td></tr>`}
</table>
${actions.length === 0 ? null : html`<div class="actions">${actions.map((action) => actionForm(ctx, `/events/${event.id}/${action}`, action))}</div>`}
</div>

<h2>Attempts (${count(attempts.length)})</h2>
<div class="panel"><table>
  <thead><tr><th>#</th><th>When</th><th>Outcome</th><th class="num">Duration</th><th>Error</th></tr></thead>
  <tbody>${attempts.length === 0 ? html`<tr><td colspan="5" class="muted">No attempt yet.</td></tr>` : attempts.map((attempt, i) => html`<tr>
    <td class="num">${attempts.length - i}</td>
    <td class="nowrap">${timeCell(attempt.attemptedAt)}</td>
    <td>${statusBadge(attempt.outcome)}</td>
    <td class="num">${attempt.durationMs === null ? "-" : `${count(attempt.durationMs)} ms`}</td>
    <td>${attempt.error === null ? null : html`<pre class="error">${attempt.error}</pre>`}</td>
  </tr>`)}</tbody>
</table></div>

<h2>Receipts (${count(deliveries.length)}${deliveries.length === MAX_RECEIPTS ? "+" : ""})</h2>
<p class="muted">Every delivery of this event: the first one made the event, the others were recognised as duplicates.</p>
<div class="panel"><table>
  <thead><tr><th>Delivery</th><th>Received</th><th>Signature</th><th>Provider delivery id</th><th>Type</th><th></th><th></th></tr></thead>
  <tbody>${deliveries.map((delivery) => html`<tr>
    <td><a href="${link(ctx, `/deliveries/${delivery.id}`)}">${delivery.id}</a></td>
    <td class="nowrap">${timeCell(delivery.receivedAt)}</td>
    <td>${verdict(delivery)}</td>
    <td><code>${delivery.providerDeliveryId ?? "-"}</code></td>
    <td>${delivery.eventType ?? "-"}</td>
    <td>${delivery.id === first?.id ? html`<span class="muted">original</span>` : html`<span class="muted">duplicate</span>`}</td>
    <td>${ctx.readOnly || !(ACCEPTS.replayDelivery as readonly EventStatus[]).includes(event.status) ? null : actionForm(ctx, `/deliveries/${delivery.id}/replay`, "replay this delivery", true)}</td>
  </tr>`)}</tbody>
</table></div>

${payloadSections(ctx, event, `/events/${event.id}/body`, secrets)}`;
  return pageResponse(ctx, `Event ${event.id}`, "events", body);
}

export async function deliveryPage(ctx: PageContext, id: number): Promise<Response> {
  const delivery = await ctx.deps.operator.getDelivery(id);
  if (delivery === null) return messagePage(ctx, 404, "No such delivery", html`No delivery with id ${id}.`, { href: link(ctx, "/deliveries"), label: "All deliveries" });
  const secrets = ctx.deps.secretNames(delivery.endpoint);
  const body = html`<h1>Delivery ${delivery.id} ${verdict(delivery)}</h1>
<div class="panel"><table class="fields">
  <tr><th>Event</th><td>${delivery.eventId === null ? html`<span class="muted">none (${delivery.signatureValid === false ? "rejected" : "a handshake, or not turned into an event"})</span>` : html`<a href="${link(ctx, `/events/${delivery.eventId}`)}">${delivery.eventId}</a>`}</td></tr>
  <tr><th>Endpoint</th><td><a href="${link(ctx, "/deliveries", { endpoint: delivery.endpoint })}">${delivery.endpoint}</a></td></tr>
  <tr><th>Received</th><td>${timeCell(delivery.receivedAt)}</td></tr>
  <tr><th>Signature</th><td>${verdict(delivery)}</td></tr>
  ${delivery.signatureError === null ? null : html`<tr><th>Signature error</th><td><pre class="error">${delivery.signatureError}</pre></td></tr>`}
  <tr><th>Type</th><td>${delivery.eventType ?? "-"}</td></tr>
  <tr><th>Provider event id</th><td><code>${delivery.providerEventId ?? "-"}</code></td></tr>
  <tr><th>Provider delivery id</th><td><code>${delivery.providerDeliveryId ?? "-"}</code></td></tr>
  <tr><th>Dedupe key</th><td><code>${delivery.dedupeKey ?? "-"}</code></td></tr>
  <tr><th>Method</th><td>${delivery.method}</td></tr>
  <tr><th>Body</th><td>${plural(delivery.bodyLength, "byte")}${delivery.bodyTruncated ? html` <span class="muted">(only the first ${plural(delivery.body.length, "byte")} are stored: rejected receipts keep invalidBodyBytes)</span>` : null}${delivery.bodySha256 === null ? null : html`<br><span class="muted">SHA-256</span> <code>${delivery.bodySha256}</code>`}</td></tr>
</table>
${ctx.readOnly || delivery.eventId === null ? null : html`<div class="actions">${actionForm(ctx, `/deliveries/${delivery.id}/replay`, "replay this delivery")}</div>`}
</div>
${payloadSections(ctx, delivery, `/deliveries/${delivery.id}/body`, secrets)}`;
  return pageResponse(ctx, `Delivery ${delivery.id}`, "deliveries", body);
}

/** The raw body as an attachment: never rendered by the browser (octet-stream, sandboxed). */
export async function bodyDownload(ctx: PageContext, kind: "event" | "delivery", id: number): Promise<Response> {
  const item = kind === "event" ? await ctx.deps.operator.getEvent(id) : await ctx.deps.operator.getDelivery(id);
  if (item === null) return messagePage(ctx, 404, `No such ${kind}`, html`No ${kind} with id ${id}.`);
  return respond(ctx, 200, new Uint8Array(item.body), "application/octet-stream", {
    "content-disposition": `attachment; filename="knocker-${kind}-${id}.bin"`,
    "content-security-policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
  });
}

function verdict(delivery: Delivery): Html {
  if (delivery.signatureValid === true) return html`<span class="verdict-valid">valid</span>`;
  if (delivery.signatureValid === false) return html`<span class="verdict-invalid">invalid</span>`;
  return html`<span class="muted">not recorded</span>`;
}

const LABELS: Record<string, string> = { replay: "Replay", requeue: "Requeue", ignore: "Ignore", "replay this delivery": "Replay this delivery" };

/** A POST button with the CSRF token; ignoring asks for a second click (dashboard.js). */
function actionForm(ctx: PageContext, route: string, action: string, small = false): Html {
  const confirm = action === "ignore" ? html` data-confirm="Click again to ignore"` : null;
  return html`<form method="post" action="${link(ctx, route)}"${confirm}>${csrfField(ctx)}<button type="submit" class="${action === "ignore" ? "danger" : small ? "secondary" : ""}" data-action="${action}">${LABELS[action] ?? action}</button></form>`;
}

function payloadSections(ctx: PageContext, item: Event | Delivery, bodyRoute: string, secrets: SecretNames): Html {
  const headers = displayHeaders(item.headers, secrets);
  const query = displayQuery(item.query, secrets);
  const view = bodyView(item.body);
  return html`<h2>Headers</h2>
<div class="panel">${mapTable(headers, "No headers stored.")}<p class="muted">Credentials (authorization, cookies, API keys, tokens, the provider's secret headers) are never shown.</p></div>
${Object.keys(query).length === 0 ? null : html`<h2>Query</h2><div class="panel">${mapTable(query, "")}</div>`}
<h2>Body <span class="muted">(${plural(item.body.length, "byte")}${view.kind === "json" ? ", JSON, pretty-printed" : view.kind === "binary" ? ", not text: hex" : ""})</span></h2>
<div class="panel">
  ${view.kind === "empty" ? html`<p class="muted">Empty body.</p>` : html`<pre>${view.text}</pre>`}
  ${view.cut ? html`<p class="muted">Only the start is shown.</p>` : null}
  <p><a href="${link(ctx, bodyRoute)}" download>Download the raw body</a></p>
</div>`;
}

function mapTable(map: HeaderMap | QueryMap, empty: string): Html {
  const entries = Object.entries(map);
  if (entries.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table class="fields">${entries.map(([name, value]) => html`<tr><th><code>${name}</code></th><td><code>${Array.isArray(value) ? value.join("\n") : value}</code></td></tr>`)}</table>`;
}
