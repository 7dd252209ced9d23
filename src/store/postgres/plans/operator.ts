// The operator's reads on Postgres, for schema `s` (quoted): the same selections as SQLite's
// (the index ranges of store/ranges.ts, merged newest first), with named parameters.
import type { DeliveryFilter, EventCursor, EventFilter } from "../../store.js";
import { eventListWalk } from "../../ranges.js";

/** Every column of an event row and its endpoint's name, as rows.ts maps it. */
export function selectEvents(s: string): string {
  return `SELECT e.id, e.endpoint_id, k.name AS endpoint, e.received_at, e.provider_event_id,
  e.provider_delivery_id, e.event_type, e.method, e.headers_json, e.body_blob, e.query_json, e.dedupe_key,
  e.status, e.attempt_count, e.handled_at, e.last_error, e.ordering_key FROM ${s}.knocker_events e JOIN ${s}.knocker_endpoints k ON k.id = e.endpoint_id`;
}

export function selectDeliveries(s: string): string {
  return `SELECT d.id, d.endpoint_id, k.name AS endpoint, d.event_id, d.received_at, d.provider_event_id,
  d.provider_delivery_id, d.event_type, d.method, d.headers_json, d.body_blob, d.query_json, d.dedupe_key,
  d.signature_valid, d.signature_error, d.body_length, d.body_sha256 FROM ${s}.knocker_deliveries d JOIN ${s}.knocker_endpoints k ON k.id = d.endpoint_id`;
}

export function operatorPlans(s: string) {
  return {
    event: `${selectEvents(s)} WHERE e.id = $1`,
    delivery: `${selectDeliveries(s)} WHERE d.id = $1`,
    attempts: `SELECT id, event_id, attempted_at, outcome, error, duration_ms FROM ${s}.knocker_attempts WHERE event_id = $1 ORDER BY id DESC`,
    endpointId: `SELECT id FROM ${s}.knocker_endpoints WHERE name = $1`,
    endpointIds: `SELECT id FROM ${s}.knocker_endpoints ORDER BY id`,
    markIgnored: `UPDATE ${s}.knocker_events SET status = 'ignored' WHERE id = $1`,
    resetForReplay: `UPDATE ${s}.knocker_events SET status = 'received', attempt_count = 0, last_error = NULL, handled_at = NULL WHERE id = $1`,
    insertAttempt: `INSERT INTO ${s}.knocker_attempts (event_id, attempted_at, outcome, error, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
    /** Locks the event for the transition (two operators acting at once take turns). */
    lockEvent: `${selectEvents(s)} WHERE e.id = $1 FOR UPDATE OF e`,
    removeEventJobs: `DELETE FROM ${s}._honker_live WHERE queue = $1 AND ${s}.knocker_job_event_id(payload) = $2`,
    enqueue: `INSERT INTO ${s}._honker_live (queue, payload, state, priority, run_at, attempts, max_attempts, created_at)
      VALUES ($1, $2, 'pending', 0, $3, 0, $4, $3)`,
  };
}

/** Newest first through the filter's index ranges (the same walk as SQLite's); `endpointId` is the filter's endpoint. */
export function eventListPlan(s: string, filter: Omit<EventFilter, "endpoint">, endpointId: number | undefined, everyEndpoint: readonly number[], limit: number, after?: EventCursor) {
  const { page, params } = eventListWalk(`${s}.knocker_events`, filter, endpointId, everyEndpoint, limit, after, "postgres");
  return { sql: `${selectEvents(s)} JOIN (${page}) page ON page.id = e.id ORDER BY page.received_at DESC, page.id DESC`, params };
}

export function deliveryListPlan(s: string, filter: DeliveryFilter) {
  const clauses: string[] = [];
  const params: Record<string, unknown> = { limit: filter.limit };
  if (filter.eventId !== undefined) (clauses.push("d.event_id = @eventId"), (params.eventId = filter.eventId));
  if (filter.endpoint !== undefined) (clauses.push("k.name = @endpoint"), (params.endpoint = filter.endpoint));
  if (filter.signatureValid !== undefined) (clauses.push("d.signature_valid = @valid"), (params.valid = filter.signatureValid ? 1 : 0));
  if (filter.orphaned !== undefined) clauses.push(filter.orphaned ? "d.event_id IS NULL" : "d.event_id IS NOT NULL");
  if (filter.since !== undefined) (clauses.push("d.received_at >= @since"), (params.since = filter.since));
  const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
  return { sql: `${selectDeliveries(s)} ${where} ORDER BY d.received_at DESC, d.id DESC LIMIT @limit`, params };
}
