import type { Database } from "better-sqlite3";
import type { DeliveryFilter, EventCursor, EventFilter } from "../../store.js";
import { DELIVERY_COLUMNS, EVENT_COLUMNS } from "./events.js";
import type { AttemptRow, DeliveryRow, EventRow } from "../../rows.js";
import { eventListWalk } from "../../ranges.js";
import { endpointScope } from "./endpoint-scope.js";

type Filters = { clauses: string[]; params: unknown[] };

function where({ clauses }: Filters): string {
  return clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
}

/**
 * Newest first, ids breaking ties within one second: the filter's index ranges walked and merged
 * (src/store/ranges.ts), so a page costs the same on a file of any size. `endpointId` is the filter's
 * endpoint, looked up by name.
 */
export function eventListPlan(
  filter: Omit<EventFilter, "endpoint">,
  endpointId: number | undefined,
  everyEndpoint: readonly number[],
  limit: number,
  after?: EventCursor,
): { sql: string; params: Record<string, unknown> } {
  const { page, params } = eventListWalk("knocker_events", filter, endpointId, everyEndpoint, limit, after);
  return {
    sql: `SELECT ${EVENT_COLUMNS} FROM (${page}) page JOIN knocker_events e ON e.id = page.id JOIN knocker_endpoints k ON k.id = e.endpoint_id
       ORDER BY page.received_at DESC, page.id DESC`,
    params,
  };
}

/** An endpoint name that is not registered matches nothing. */
export function selectEvents(db: Database, filter: EventFilter, limit: number, after?: EventCursor): EventRow[] {
  const scope = endpointScope(db, filter.endpoint);
  if (scope === null) return [];
  const plan = eventListPlan(filter, scope.endpointId, scope.everyEndpoint, limit, after);
  return db.prepare(plan.sql).all(plan.params) as EventRow[];
}

export function selectDeliveries(db: Database, filter: DeliveryFilter): DeliveryRow[] {
  const f: Filters = { clauses: [], params: [] };
  if (filter.eventId !== undefined) (f.clauses.push("d.event_id = ?"), f.params.push(filter.eventId));
  if (filter.endpoint !== undefined) (f.clauses.push("k.name = ?"), f.params.push(filter.endpoint));
  if (filter.signatureValid !== undefined) (f.clauses.push("d.signature_valid = ?"), f.params.push(filter.signatureValid ? 1 : 0));
  if (filter.orphaned !== undefined) f.clauses.push(filter.orphaned ? "d.event_id IS NULL" : "d.event_id IS NOT NULL");
  if (filter.since !== undefined) (f.clauses.push("d.received_at >= ?"), f.params.push(filter.since));
  return db
    .prepare(
      `SELECT ${DELIVERY_COLUMNS} FROM knocker_deliveries d JOIN knocker_endpoints k ON k.id = d.endpoint_id
       ${where(f)} ORDER BY d.received_at DESC, d.id DESC LIMIT ?`,
    )
    .all(...f.params, filter.limit) as DeliveryRow[];
}

export function selectEvent(db: Database, id: number): EventRow | undefined {
  return db
    .prepare(`SELECT ${EVENT_COLUMNS} FROM knocker_events e JOIN knocker_endpoints k ON k.id = e.endpoint_id WHERE e.id = ?`)
    .get(id) as EventRow | undefined;
}

export function selectDelivery(db: Database, id: number): DeliveryRow | undefined {
  return db
    .prepare(`SELECT ${DELIVERY_COLUMNS} FROM knocker_deliveries d JOIN knocker_endpoints k ON k.id = d.endpoint_id WHERE d.id = ?`)
    .get(id) as DeliveryRow | undefined;
}

/** Attempt history, newest first. */
export function selectAttempts(db: Database, eventId: number): AttemptRow[] {
  return db
    .prepare(`SELECT id, event_id, attempted_at, outcome, error, duration_ms FROM knocker_attempts WHERE event_id = ? ORDER BY id DESC`)
    .all(eventId) as AttemptRow[];
}
