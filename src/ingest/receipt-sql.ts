import type { Database } from "better-sqlite3";
import { prepareAll } from "../storage/database.js";
import type { Receipt } from "./receipt.js";

/**
 * Every statement that stores a receipt, prepared once on the writer connection. Parameters are
 * positional (see `eventValues` / `deliveryValues`): binding by name costs a property lookup per
 * parameter, and these run for every receipt.
 */
export function prepareReceiptStatements(db: Database) {
  return prepareAll(db, {
    findEventByKey: { pluck: `SELECT id FROM knocker_events WHERE endpoint_id = ? AND dedupe_key = ?` },

    insertEvent: `INSERT INTO knocker_events (endpoint_id, received_at, provider_event_id, provider_delivery_id, event_type,
         method, headers_json, body_blob, query_json, dedupe_key, status, attempt_count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', 0)`,

    insertDelivery: `INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id,
         event_type, method, headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  });
}

/** insertEvent's parameters, in its column order. */
export function eventValues(r: Receipt) {
  return [r.endpointId, r.receivedAt, r.providerEventId, r.providerDeliveryId, r.eventType,
    r.method, r.headersJson, r.body, r.queryJson, r.dedupeKey] as const;
}

/** insertDelivery's parameters, in its column order. */
export function deliveryValues(r: Receipt, eventId: number | null) {
  return [r.endpointId, eventId, r.receivedAt, r.providerEventId, r.providerDeliveryId,
    r.eventType, r.method, r.headersJson, r.body, r.queryJson, r.signatureValid ? 1 : 0, r.signatureError, r.dedupeKey] as const;
}

export type ReceiptStatements = ReturnType<typeof prepareReceiptStatements>;
