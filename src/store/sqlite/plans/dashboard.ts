// Every statement of the operator dashboard's own reads (src/dashboard/queries.ts). Each is an
// index range, never a scan of a whole table: pages and bulk selections walk index ranges and
// merge them (src/store/ranges.ts), counts are range counts on the schema's dashboard indexes (schema.ts,
// version 5). test/dashboard-queries.test.ts checks the plans. better-sqlite3 binds JS numbers as
// REAL: slot arithmetic is done in JS, not in SQL.
import type { DeliverySelection, EventSelection, PageCursor } from "../../../dashboard/queries.js";
import { countRanges, eventRanges, walkRanges, type Range } from "../../ranges.js";

export const DASHBOARD_SQL = {
  endpoints: "SELECT id, name, path, provider, enabled FROM knocker_endpoints ORDER BY name",
  /** One endpoint and status: a range count on knocker_events_endpoint_status. */
  statusCount: { pluck: "SELECT COUNT(*) FROM knocker_events WHERE endpoint_id = ? AND status = ?" },
  /** Receipts of one endpoint with one verdict in [from, to): a range count on knocker_deliveries_endpoint_signature. */
  receiptCount: { pluck: "SELECT COUNT(*) FROM knocker_deliveries WHERE endpoint_id = ? AND signature_valid = ? AND received_at >= ? AND received_at < ?" },
  receiptUncheckedCount: {
    pluck: "SELECT COUNT(*) FROM knocker_deliveries WHERE endpoint_id = ? AND signature_valid IS NULL AND received_at >= ? AND received_at < ?",
  },
  dropped: { pluck: "SELECT COALESCE(SUM(dropped), 0) FROM knocker_dropped_rejections WHERE endpoint_id = ? AND minute >= ? AND minute < ?" },
  oldestWith: { pluck: "SELECT MIN(received_at) FROM knocker_events WHERE endpoint_id = ? AND status = ?" },
  /** Partial indexes of the queue: _honker_live_pending_deadline, _honker_live_processing_deadline. */
  dueJobs: { pluck: "SELECT COUNT(*) FROM _honker_live WHERE queue = ? AND state = 'pending' AND run_at <= ?" },
  scheduledJobs: { pluck: "SELECT COUNT(*) FROM _honker_live WHERE queue = ? AND state = 'pending' AND run_at > ?" },
  processingJobs: { pluck: "SELECT COUNT(*) FROM _honker_live WHERE queue = ? AND state = 'processing'" },
  oldestDue: { pluck: "SELECT MIN(run_at) FROM _honker_live WHERE queue = ? AND state = 'pending'" },
  maxEventId: { pluck: "SELECT COALESCE(MAX(id), 0) FROM knocker_events" },
  eventById: "SELECT e.id AS eventId, NULL AS deliveryId, k.name AS endpoint FROM knocker_events e JOIN knocker_endpoints k ON k.id = e.endpoint_id WHERE e.id = ?",
  deliveryById: "SELECT d.event_id AS eventId, d.id AS deliveryId, k.name AS endpoint FROM knocker_deliveries d JOIN knocker_endpoints k ON k.id = d.endpoint_id WHERE d.id = ?",
  /** The dedupe index (endpoint_id, dedupe_key), probed once per endpoint. */
  eventsByDedupeKey: `SELECT e.id AS eventId, NULL AS deliveryId, k.name AS endpoint FROM knocker_events e JOIN knocker_endpoints k ON k.id = e.endpoint_id
    WHERE e.endpoint_id IN (SELECT id FROM knocker_endpoints) AND e.dedupe_key = ? LIMIT 100`,
  /** The newest `limit` deliveries by knocker_deliveries_received, filtered: bounded work, whatever the file's size. */
  recentDeliveriesByProviderId: `SELECT r.event_id AS eventId, r.id AS deliveryId, k.name AS endpoint,
      CASE WHEN r.provider_event_id = @text THEN 'provider event id' ELSE 'provider delivery id' END AS "match"
    FROM (SELECT id, endpoint_id, event_id, provider_event_id, provider_delivery_id FROM knocker_deliveries
          ORDER BY received_at DESC, id DESC LIMIT @limit) r
    JOIN knocker_endpoints k ON k.id = r.endpoint_id
    WHERE r.provider_event_id = @text OR r.provider_delivery_id = @text ORDER BY r.id DESC LIMIT 20`,
} as const;

/** Columns of the events page (no body, the start of the error). */
const EVENT_SUMMARY = `e.id, k.name AS endpoint, e.event_type AS eventType, e.status, e.received_at AS receivedAt,
  e.attempt_count AS attemptCount, substr(e.last_error, 1, @text) AS lastError, e.provider_event_id AS providerEventId`;

const DELIVERY_SUMMARY = `d.id, k.name AS endpoint, d.event_id AS eventId, d.event_type AS eventType, d.received_at AS receivedAt,
  d.signature_valid AS signatureValid, substr(d.signature_error, 1, @text) AS signatureError,
  d.provider_event_id AS providerEventId, d.provider_delivery_id AS providerDeliveryId`;

export interface Plan {
  sql: string;
  params: Record<string, unknown>;
}

/** The upper row-value bound of a newest-first walk: below the cursor and at or before `until`. */
function upperBound(until: number | undefined, after: PageCursor | undefined): [number, number] | null {
  const untilBound: [number, number] | null = until === undefined ? null : [until + 1, 0];
  const cursorBound: [number, number] | null = after === undefined ? null : [after.receivedAt, after.id];
  if (untilBound === null) return cursorBound;
  if (cursorBound === null) return untilBound;
  const cursorFirst = cursorBound[0] < untilBound[0] || (cursorBound[0] === untilBound[0] && cursorBound[1] < untilBound[1]);
  return cursorFirst ? cursorBound : untilBound;
}

/**
 * Bounds of a newest-first page: `since`, and `upper` as one row value, so that a page after a
 * cursor, and `until`, are one range bound (with both a plain bound and a row value the planner
 * scans from the plain one and filters).
 */
function pageBounds(since: number | undefined, upper: readonly [number, number] | null, params: Record<string, unknown>): string[] {
  const bounds: string[] = [];
  if (since !== undefined) (bounds.push("received_at >= @since"), (params.since = since));
  if (upper !== null) (bounds.push("(received_at, id) < (@upperAt, @upperId)"), (params.upperAt = upper[0]), (params.upperId = upper[1]));
  return bounds;
}

/** One page of events, newest first: `everyEndpoint` is every endpoint's id (a selection of statuses alone walks each endpoint's ranges). */
export function eventPagePlan(selection: EventSelection, everyEndpoint: readonly number[], limit: number, text: number, after?: PageCursor): Plan {
  const params: Record<string, unknown> = { limit, text };
  const ranges = eventRanges(selection, everyEndpoint, params);
  const page = walkRanges("knocker_events", ranges, pageBounds(selection.since, upperBound(selection.until, after), params), "DESC");
  return {
    sql: `SELECT ${EVENT_SUMMARY} FROM (${page}) page
      JOIN knocker_events e ON e.id = page.id JOIN knocker_endpoints k ON k.id = e.endpoint_id
      ORDER BY page.received_at DESC, page.id DESC`,
    params,
  };
}

/** Oldest first: the ids a bulk action takes, and (separately) how many match up to a cap. */
export function selectionPlans(
  selection: EventSelection,
  everyEndpoint: readonly number[],
  limit: number,
  throughId: number | undefined,
  countCap: number,
): { ids: Plan; count: Plan } {
  const params: Record<string, unknown> = { limit, cap: countCap };
  const ranges = eventRanges(selection, everyEndpoint, params);
  const bounds: string[] = [];
  if (selection.since !== undefined) (bounds.push("received_at >= @since"), (params.since = selection.since));
  if (selection.until !== undefined) (bounds.push("received_at <= @until"), (params.until = selection.until));
  if (throughId !== undefined) (bounds.push("id <= @through"), (params.through = throughId));
  return {
    ids: { sql: `SELECT id FROM (${walkRanges("knocker_events", ranges, bounds, "ASC")})`, params },
    count: { sql: countRanges("knocker_events", ranges, bounds), params },
  };
}

/**
 * Deliveries newest first:
 * - invalid: knocker_deliveries_endpoint_signature (signature_valid = 0), one arm per endpoint when none is given;
 * - orphaned: knocker_deliveries_orphans (partial on event_id IS NULL), the endpoint filtering;
 * - otherwise: an endpoint's arms per verdict (1, 0, NULL) on knocker_deliveries_endpoint_signature, or knocker_deliveries_received.
 */
export function deliveryPagePlan(selection: DeliverySelection, endpointIds: readonly number[], limit: number, text: number, after?: PageCursor): Plan {
  const params: Record<string, unknown> = { limit, text };
  const upper = upperBound(selection.until, after);
  const arms: Range[] = [];
  const endpoints = selection.endpointId !== undefined ? [selection.endpointId] : endpointIds;
  if (selection.kind === "invalid") {
    endpoints.forEach((id, i) => arms.push({ index: "knocker_deliveries_endpoint_signature", where: [`endpoint_id = @e${i}`, "signature_valid = 0"] }));
    endpoints.forEach((id, i) => (params[`e${i}`] = id));
  } else if (selection.kind === "orphaned") {
    const where = ["event_id IS NULL"];
    if (selection.endpointId !== undefined) (where.push("endpoint_id = @endpoint"), (params.endpoint = selection.endpointId));
    arms.push({ index: "knocker_deliveries_orphans", where });
  } else if (selection.endpointId !== undefined) {
    params.endpoint = selection.endpointId;
    for (const verdict of ["signature_valid = 1", "signature_valid = 0", "signature_valid IS NULL"]) {
      arms.push({ index: "knocker_deliveries_endpoint_signature", where: ["endpoint_id = @endpoint", verdict] });
    }
  } else {
    arms.push({ index: "knocker_deliveries_received", where: [] });
  }
  const page = walkRanges("knocker_deliveries", arms, pageBounds(selection.since, upper, params), "DESC");
  return {
    sql: `SELECT ${DELIVERY_SUMMARY} FROM (${page}) page
      JOIN knocker_deliveries d ON d.id = page.id JOIN knocker_endpoints k ON k.id = d.endpoint_id
      ORDER BY page.received_at DESC, page.id DESC`,
    params,
  };
}
