// Every statement of the operator dashboard's own reads on Postgres, for schema `s` (quoted): the
// same counts and lookups as SQLite's (sqlite/plans/dashboard.ts), each an index range on the
// schema's dashboard indexes, a few of them folded into one statement to save round trips (a
// count per endpoint and status, per endpoint and slot). The pages and bulk selections are
// src/store/page-plans.ts, on this schema.
import type { DeliverySelection, EventSelection, PageCursor } from "../../../dashboard/queries.js";
import * as pages from "../../page-plans.js";

export function dashboardPlans(s: string) {
  return {
    endpoints: `SELECT id, name, path, provider, enabled FROM ${s}.knocker_endpoints ORDER BY name`,
    /** Per endpoint (by name) and status ($1, in its order): a range count on knocker_events_endpoint_status. */
    statusCounts: `SELECT k.id AS endpoint_id, st.status,
        (SELECT count(*) FROM ${s}.knocker_events e WHERE e.endpoint_id = k.id AND e.status = st.status) AS n
      FROM ${s}.knocker_endpoints k CROSS JOIN unnest($1::text[]) WITH ORDINALITY AS st(status, ord)
      ORDER BY k.name, st.ord`,
    /**
     * Receipts per endpoint and slot of [$1, $1 + $2 * $3): accepted (valid, or not checked) and
     * rejected ones, range counts on knocker_deliveries_endpoint_signature.
     */
    receiptsPerSlot: `WITH slot AS (SELECT i, $1::bigint + i * $2::bigint AS start FROM generate_series(0, $3::int - 1) AS g(i))
      SELECT k.id AS endpoint_id, slot.i,
        (SELECT count(*) FROM ${s}.knocker_deliveries d WHERE d.endpoint_id = k.id AND d.signature_valid = 1
           AND d.received_at >= slot.start AND d.received_at < slot.start + $2::bigint)
        + (SELECT count(*) FROM ${s}.knocker_deliveries d WHERE d.endpoint_id = k.id AND d.signature_valid IS NULL
           AND d.received_at >= slot.start AND d.received_at < slot.start + $2::bigint) AS accepted,
        (SELECT count(*) FROM ${s}.knocker_deliveries d WHERE d.endpoint_id = k.id AND d.signature_valid = 0
           AND d.received_at >= slot.start AND d.received_at < slot.start + $2::bigint) AS rejected
      FROM ${s}.knocker_endpoints k CROSS JOIN slot
      ORDER BY k.name, slot.i`,
    /** Per endpoint: rejections counted in [$1, $2), and the oldest event still waiting for a handler. */
    endpointBacklog: `SELECT k.id AS endpoint_id,
        (SELECT COALESCE(sum(r.dropped), 0)::bigint FROM ${s}.knocker_dropped_rejections r
           WHERE r.endpoint_id = k.id AND r.minute >= $1 AND r.minute < $2) AS dropped,
        LEAST(
          (SELECT min(e.received_at) FROM ${s}.knocker_events e WHERE e.endpoint_id = k.id AND e.status = 'received'),
          (SELECT min(e.received_at) FROM ${s}.knocker_events e WHERE e.endpoint_id = k.id AND e.status = 'failed'),
          (SELECT min(e.received_at) FROM ${s}.knocker_events e WHERE e.endpoint_id = k.id AND e.status = 'processing')) AS oldest_unhandled_at
      FROM ${s}.knocker_endpoints k ORDER BY k.name`,
    /** The queue ($1) as of $2, on the partial indexes _honker_live_pending_deadline and _honker_live_processing_deadline. */
    queue: `SELECT
        (SELECT count(*) FROM ${s}._honker_live WHERE queue = $1 AND state = 'pending' AND run_at <= $2) AS due,
        (SELECT count(*) FROM ${s}._honker_live WHERE queue = $1 AND state = 'pending' AND run_at > $2) AS scheduled,
        (SELECT count(*) FROM ${s}._honker_live WHERE queue = $1 AND state = 'processing') AS processing,
        (SELECT min(run_at) FROM ${s}._honker_live WHERE queue = $1 AND state = 'pending') AS oldest_due_at`,
    maxEventId: `SELECT COALESCE(max(id), 0) AS n FROM ${s}.knocker_events`,
    eventById: `SELECT e.id AS "eventId", NULL::bigint AS "deliveryId", k.name AS endpoint
      FROM ${s}.knocker_events e JOIN ${s}.knocker_endpoints k ON k.id = e.endpoint_id WHERE e.id = $1`,
    deliveryById: `SELECT d.event_id AS "eventId", d.id AS "deliveryId", k.name AS endpoint
      FROM ${s}.knocker_deliveries d JOIN ${s}.knocker_endpoints k ON k.id = d.endpoint_id WHERE d.id = $1`,
    /** The dedupe index (endpoint_id, dedupe_key), probed once per endpoint. */
    eventsByDedupeKey: `SELECT e.id AS "eventId", NULL::bigint AS "deliveryId", k.name AS endpoint
      FROM ${s}.knocker_events e JOIN ${s}.knocker_endpoints k ON k.id = e.endpoint_id
      WHERE e.endpoint_id IN (SELECT id FROM ${s}.knocker_endpoints) AND e.dedupe_key = $1
      ORDER BY e.endpoint_id LIMIT 100`,
    /** The newest $2 deliveries by knocker_deliveries_received, filtered by provider id ($1): bounded work, whatever the table's size. */
    recentDeliveriesByProviderId: `SELECT r.event_id AS "eventId", r.id AS "deliveryId", k.name AS endpoint,
        CASE WHEN r.provider_event_id = $1 THEN 'provider event id' ELSE 'provider delivery id' END AS "match"
      FROM (SELECT id, endpoint_id, event_id, provider_event_id, provider_delivery_id FROM ${s}.knocker_deliveries
            ORDER BY received_at DESC, id DESC LIMIT $2) r
      JOIN ${s}.knocker_endpoints k ON k.id = r.endpoint_id
      WHERE r.provider_event_id = $1 OR r.provider_delivery_id = $1 ORDER BY r.id DESC LIMIT 20`,
  };
}

export type DashboardPlans = ReturnType<typeof dashboardPlans>;

/** The page and selection plans (page-plans.ts) on schema `s`. */
export function pagePlans(s: string) {
  const target: pages.SqlTarget = { prefix: `${s}.`, dialect: "postgres" };
  return {
    eventPage: (selection: EventSelection, everyEndpoint: readonly number[], limit: number, text: number, after?: PageCursor) =>
      pages.eventPagePlan(target, selection, everyEndpoint, limit, text, after),
    selection: (selection: EventSelection, everyEndpoint: readonly number[], limit: number, throughId: number | undefined, countCap: number) =>
      pages.selectionPlans(target, selection, everyEndpoint, limit, throughId, countCap),
    deliveryPage: (selection: DeliverySelection, endpointIds: readonly number[], limit: number, text: number, after?: PageCursor) =>
      pages.deliveryPagePlan(target, selection, endpointIds, limit, text, after),
  };
}
