// The dashboard's pages and bulk selections, the same selections on every engine: the index
// ranges of ranges.ts walked and merged newest first (pages) or oldest first (a bulk action's
// ids), joined back to their rows for the summary columns. The statements differ per engine only
// in what `SqlTarget` says: the tables' schema, and whether SQLite is told each range's index.
// Column aliases are quoted, so Postgres keeps their case. Parameters are named (@name).
import type { DeliverySelection, EventSelection, PageCursor } from "../dashboard/queries.js";
import { countRanges, eventRanges, walkRanges, type Range } from "./ranges.js";

/** Where the tables are: `prefix` ("" on SQLite, `"schema".` on Postgres) and the dialect. */
export interface SqlTarget {
  prefix: string;
  dialect: "sqlite" | "postgres";
}

export interface Plan {
  sql: string;
  params: Record<string, unknown>;
}

/** Columns of the events page (no body, the start of the error). */
const EVENT_SUMMARY = `e.id, k.name AS endpoint, e.event_type AS "eventType", e.status, e.received_at AS "receivedAt",
  e.attempt_count AS "attemptCount", substr(e.last_error, 1, @text) AS "lastError", e.provider_event_id AS "providerEventId"`;

const DELIVERY_SUMMARY = `d.id, k.name AS endpoint, d.event_id AS "eventId", d.event_type AS "eventType", d.received_at AS "receivedAt",
  d.signature_valid AS "signatureValid", substr(d.signature_error, 1, @text) AS "signatureError",
  d.provider_event_id AS "providerEventId", d.provider_delivery_id AS "providerDeliveryId"`;

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
export function eventPagePlan(
  { prefix, dialect }: SqlTarget,
  selection: EventSelection,
  everyEndpoint: readonly number[],
  limit: number,
  text: number,
  after?: PageCursor,
): Plan {
  const params: Record<string, unknown> = { limit, text };
  const ranges = eventRanges(selection, everyEndpoint, params);
  const page = walkRanges(`${prefix}knocker_events`, ranges, pageBounds(selection.since, upperBound(selection.until, after), params), "DESC", dialect);
  return {
    sql: `SELECT ${EVENT_SUMMARY} FROM (${page}) page
      JOIN ${prefix}knocker_events e ON e.id = page.id JOIN ${prefix}knocker_endpoints k ON k.id = e.endpoint_id
      ORDER BY page.received_at DESC, page.id DESC`,
    params,
  };
}

/** Oldest first: the ids a bulk action takes, and (separately) how many match up to a cap. */
export function selectionPlans(
  { prefix, dialect }: SqlTarget,
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
  const table = `${prefix}knocker_events`;
  return {
    ids: { sql: `SELECT id FROM (${walkRanges(table, ranges, bounds, "ASC", dialect)}) AS selection`, params },
    count: { sql: countRanges(table, ranges, bounds, dialect), params },
  };
}

/**
 * Deliveries newest first:
 * - invalid: knocker_deliveries_endpoint_signature (signature_valid = 0), one arm per endpoint when none is given;
 * - orphaned: knocker_deliveries_orphans (partial on event_id IS NULL), the endpoint filtering;
 * - otherwise: an endpoint's arms per verdict (1, 0, NULL) on knocker_deliveries_endpoint_signature, or knocker_deliveries_received.
 */
export function deliveryPagePlan(
  { prefix, dialect }: SqlTarget,
  selection: DeliverySelection,
  endpointIds: readonly number[],
  limit: number,
  text: number,
  after?: PageCursor,
): Plan {
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
  const page = walkRanges(`${prefix}knocker_deliveries`, arms, pageBounds(selection.since, upper, params), "DESC", dialect);
  return {
    sql: `SELECT ${DELIVERY_SUMMARY} FROM (${page}) page
      JOIN ${prefix}knocker_deliveries d ON d.id = page.id JOIN ${prefix}knocker_endpoints k ON k.id = d.endpoint_id
      ORDER BY page.received_at DESC, page.id DESC`,
    params,
  };
}
