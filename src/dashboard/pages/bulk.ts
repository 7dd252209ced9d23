// Bulk replay / requeue / ignore by filter, in two steps. The dry run (GET, changes nothing)
// counts the matching events the action accepts and fixes the selection: the oldest MAX_BULK of
// them with an id up to the newest at that moment, and a digest of their ids. The confirmation
// (POST, CSRF-checked) selects again with the same bounds and acts only when the digest is the
// same — exactly the events the dry run showed; if anything changed in between, it shows the new
// count instead and changes nothing.
import { createHash } from "node:crypto";
import { KnockerError } from "../../errors.js";
import type { EventStatus } from "../../interfaces.js";
import { ACCEPTS } from "../../operator/operator.js";
import { describeFilter, filterParams, hasSelection, parseEventFilter, toSelection, type EventFilter } from "../filters.js";
import { count, plural } from "../format.js";
import { html } from "../html.js";
import { csrfField, link, messagePage, pageResponse, type PageContext } from "../layout.js";

export type BulkAction = "replay" | "requeue" | "ignore";
const ACTIONS: readonly BulkAction[] = ["replay", "requeue", "ignore"];
const DONE: Record<BulkAction, string> = { replay: "Replayed", requeue: "Requeued", ignore: "Ignored" };

/** Events one confirmation changes; a larger selection is done in several runs, oldest first. */
export const MAX_BULK = 1000;
/** Matching events are counted up to this many. */
const COUNT_CAP = 1_000_000;
/** The event loop is given back after this many actions (each is one write transaction). */
const YIELD_EVERY = 25;
/** Ids listed on the dry-run page. */
const SHOWN_IDS = 30;

interface Selected {
  action: BulkAction;
  filter: EventFilter;
  statuses: EventStatus[];
  through: number;
  ids: number[];
  total: number;
  digest: string;
}

function parseAction(text: string | null): BulkAction | null {
  return ACTIONS.includes(text as BulkAction) ? (text as BulkAction) : null;
}

const digestOf = (ids: readonly number[]) => createHash("sha256").update(ids.join(",")).digest("hex").slice(0, 32);

async function select(ctx: PageContext, params: URLSearchParams, through: number | null): Promise<Selected | Response> {
  const action = parseAction(params.get("action"));
  if (action === null) return messagePage(ctx, 400, "Bulk action", "Choose replay, requeue or ignore.");
  const endpoints = await ctx.deps.queries.endpoints();
  const filter = parseEventFilter(params, endpoints, ctx.now);
  const back = { href: link(ctx, "/events", filterParams(filter)), label: "Back to the events" };
  if (filter.problems.length > 0) return messagePage(ctx, 400, "Bulk action", html`${filter.problems.map((p) => html`<div>${p}</div>`)}`, back);
  if (!hasSelection(filter)) return messagePage(ctx, 400, "Bulk action", "A bulk action needs a filter: a status, an endpoint, a type or a time range.", back);
  const accepted: readonly EventStatus[] = ACCEPTS[action];
  const statuses = filter.status === null ? [...accepted] : accepted.includes(filter.status) ? [filter.status] : [];
  const bound = through ?? (await ctx.deps.queries.maxEventId());
  const { ids, total } = statuses.length === 0
    ? { ids: [], total: 0 }
    : await ctx.deps.queries.selectEvents(toSelection(filter, statuses), { limit: MAX_BULK, throughId: bound, countCap: COUNT_CAP });
  return { action, filter, statuses, through: bound, ids, total, digest: digestOf(ids) };
}

/** GET /bulk: the dry run. */
export async function bulkPreview(ctx: PageContext, notice?: string): Promise<Response> {
  const selected = await select(ctx, ctx.url.searchParams, null);
  if (selected instanceof Response) return selected;
  return previewPage(ctx, selected, notice);
}

function previewPage(ctx: PageContext, s: Selected, notice?: string, status = 200): Response {
  const { action, filter, ids, total } = s;
  const back = link(ctx, "/events", filterParams(filter));
  const verb = action[0]!.toUpperCase() + action.slice(1);
  const none = s.statuses.length === 0
    ? html`${action} accepts events whose status is ${ACCEPTS[action].join(", ")}; the filter selects status ${filter.status ?? ""}.`
    : html`No event matches.`;
  const body = html`<h1>${verb} by filter: dry run</h1>
${notice ? html`<div class="notice bad">${notice}</div>` : null}
<div class="panel">
  <p>Filter: ${describeFilter(filter)}; ${action} applies to events whose status is ${s.statuses.join(", ") || "-"}.</p>
  ${ids.length === 0 ? html`<p class="notice">${none} Nothing would change.</p>` : html`
  <p class="notice" id="dry-run-count" data-count="${ids.length}" data-total="${total}"><b>${plural(total, "event")}</b> match now${total > ids.length ? html`; this run takes the oldest <b>${count(ids.length)}</b> (run it again for the rest)` : null}.</p>
  <p class="muted">Oldest first: ${ids.slice(0, SHOWN_IDS).map((id, i) => html`${i > 0 ? ", " : ""}<a href="${link(ctx, `/events/${id}`)}">${id}</a>`)}${ids.length > SHOWN_IDS ? ", …" : ""}</p>
  ${ctx.readOnly ? html`<p class="muted">This dashboard is read-only.</p>` : html`<form method="post" action="${link(ctx, "/bulk")}" class="actions">
    ${csrfField(ctx)}
    <input type="hidden" name="action" value="${action}">
    ${Object.entries(filterParams(filter)).map(([name, value]) => (value === null ? null : html`<input type="hidden" name="${name}" value="${value}">`))}
    <input type="hidden" name="through" value="${s.through}">
    <input type="hidden" name="expected" value="${ids.length}">
    <input type="hidden" name="digest" value="${s.digest}">
    <button type="submit" class="${action === "ignore" ? "danger" : ""}" id="bulk-confirm">${verb} ${plural(ids.length, "event")}</button>
    <a href="${back}">Cancel</a>
  </form>`}`}
</div>`;
  return pageResponse(ctx, `${verb} by filter`, "events", body, status);
}

/** POST /bulk: the confirmation (the caller checked the method, origin and CSRF token). */
export async function bulkConfirm(ctx: PageContext, form: URLSearchParams): Promise<Response> {
  const throughText = form.get("through") ?? "";
  if (!/^\d{1,15}$/.test(throughText)) return messagePage(ctx, 400, "Bulk action", "The confirmation is incomplete: run the dry run again.");
  const selected = await select(ctx, form, Number(throughText));
  if (selected instanceof Response) return selected;
  if (selected.digest !== form.get("digest") || String(selected.ids.length) !== form.get("expected")) {
    return previewPage(ctx, selected, `The matching events changed since the dry run (it showed ${form.get("expected") ?? "?"}): nothing was changed. Review the new selection.`, 409);
  }
  const { action, ids } = selected;
  const changed: number[] = [];
  const refused: Array<{ id: number; reason: string }> = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    try {
      await ctx.deps.operator[action](id);
      changed.push(id);
    } catch (error) {
      // The event moved on in the moment between selecting and acting (a worker handled it):
      // that one is refused; a storage failure stops the run.
      if (!(error instanceof KnockerError) || !["ERR_INVALID_STATE", "ERR_UNKNOWN_EVENT"].includes(error.code)) throw error;
      refused.push({ id, reason: error.message });
    }
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
  }
  const back = link(ctx, "/events", filterParams(selected.filter));
  const body = html`<h1>${DONE[action]} ${plural(changed.length, "event")}</h1>
<div class="panel">
  <p class="notice ok" id="bulk-result" data-changed="${changed.length}" data-refused="${refused.length}">${DONE[action]} ${plural(changed.length, "event")} (${describeFilter(selected.filter)})${refused.length > 0 ? html`; ${plural(refused.length, "event")} refused` : null}.</p>
  ${refused.length === 0 ? null : html`<table><thead><tr><th>Event</th><th>Refused because</th></tr></thead><tbody>${refused.map((r) => html`<tr><td><a href="${link(ctx, `/events/${r.id}`)}">${r.id}</a></td><td>${r.reason}</td></tr>`)}</tbody></table>`}
  <p><a href="${back}">Back to the events</a></p>
</div>`;
  return pageResponse(ctx, `${DONE[action]} by filter`, "events", body);
}
