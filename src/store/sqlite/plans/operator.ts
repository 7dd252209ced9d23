import type { Database } from "better-sqlite3";
import type { DeliveryFilter, EventCursor, EventFilter } from "../../store.js";
import { DELIVERY_COLUMNS, EVENT_COLUMNS } from "./events.js";
import type { AttemptRow, DeliveryRow, EventRow } from "../../rows.js";

type Filters = { clauses: string[]; params: unknown[] };

function where({ clauses }: Filters): string {
  return clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
}


/** Newest first; ids break ties within one second. */
function eventsQuery(filter: EventFilter, limit: number, after?: EventCursor): { sql: string; params: unknown[] } {
  const f: Filters = { clauses: [], params: [] };
  if (filter.status !== undefined) (f.clauses.push("e.status = ?"), f.params.push(filter.status));
  if (filter.endpoint !== undefined) (f.clauses.push("k.name = ?"), f.params.push(filter.endpoint));
  if (filter.eventType !== undefined) (f.clauses.push("e.event_type = ?"), f.params.push(filter.eventType));
  if (filter.since !== undefined) (f.clauses.push("e.received_at >= ?"), f.params.push(filter.since));
  if (after !== undefined) {
    f.clauses.push("(e.received_at, e.id) < (?, ?)"); // a row value: an index range, not a scan
    f.params.push(after.receivedAt, after.id);
  }
  f.params.push(limit);
  return {
    sql: `SELECT ${EVENT_COLUMNS} FROM knocker_events e JOIN knocker_endpoints k ON k.id = e.endpoint_id
       ${where(f)} ORDER BY e.received_at DESC, e.id DESC LIMIT ?`,
    params: f.params,
  };
}

export function selectEvents(db: Database, filter: EventFilter, limit: number, after?: EventCursor): EventRow[] {
  const { sql, params } = eventsQuery(filter, limit, after);
  return db.prepare(sql).all(...params) as EventRow[];
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
