import type { Database } from "better-sqlite3";
import { prepareAll } from "../connection.js";

/** Columns of an event row plus its endpoint's name, as `toEvent` expects. */
export const EVENT_COLUMNS = `e.id, e.endpoint_id, k.name AS endpoint, e.received_at, e.provider_event_id,
  e.provider_delivery_id, e.event_type, e.method, e.headers_json, e.body_blob, e.query_json, e.dedupe_key,
  e.status, e.attempt_count, e.handled_at, e.last_error, e.ordering_key, e.trace_context`;

export const DELIVERY_COLUMNS = `d.id, d.endpoint_id, k.name AS endpoint, d.event_id, d.received_at, d.provider_event_id,
  d.provider_delivery_id, d.event_type, d.method, d.headers_json, d.body_blob, d.query_json, d.dedupe_key,
  d.signature_valid, d.signature_error, d.body_length, d.body_sha256`;

/** Every statement that moves an event through its lifecycle, prepared once on the writer. */
export function prepareEventStatements(db: Database) {
  return prepareAll(db, {
    getEvent: `SELECT ${EVENT_COLUMNS} FROM knocker_events e JOIN knocker_endpoints k ON k.id = e.endpoint_id WHERE e.id = ?`,
    getDelivery: `SELECT ${DELIVERY_COLUMNS} FROM knocker_deliveries d JOIN knocker_endpoints k ON k.id = d.endpoint_id WHERE d.id = ?`,
    markHandled: `UPDATE knocker_events SET status = 'handled', attempt_count = attempt_count + 1, handled_at = ?, last_error = NULL
       WHERE id = ?`,
    /** failed or dead after an attempt; `counts` = 1 when the attempt ran a handler. */
    markUnhandled: `UPDATE knocker_events SET status = ?, attempt_count = attempt_count + ?, last_error = ? WHERE id = ?`,
    markIgnored: `UPDATE knocker_events SET status = 'ignored' WHERE id = ?`,
    resetForReplay: `UPDATE knocker_events SET status = 'received', attempt_count = 0, last_error = NULL, handled_at = NULL WHERE id = ?`,
    insertAttempt: `INSERT INTO knocker_attempts (event_id, attempted_at, outcome, error, duration_ms) VALUES (?, ?, ?, ?, ?)`,
  });
}

export type EventStatements = ReturnType<typeof prepareEventStatements>;
