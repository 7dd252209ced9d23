import type { Database } from "better-sqlite3";
import { prepareAll } from "../storage/database.js";

/** Every statement that stores a receipt, prepared once on the writer connection. */
export function prepareReceiptStatements(db: Database) {
  return prepareAll(db, {
    findEventByKey: { pluck: `SELECT id FROM knocker_events WHERE endpoint_id = ? AND dedupe_key = ?` },

    insertEvent: `INSERT INTO knocker_events (endpoint_id, received_at, provider_event_id, provider_delivery_id, event_type,
         method, headers_json, body_blob, query_json, dedupe_key, status, attempt_count)
       VALUES (@endpointId, @receivedAt, @providerEventId, @providerDeliveryId, @eventType,
         @method, @headersJson, @body, @queryJson, @dedupeKey, 'received', 0)`,

    insertDelivery: `INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id,
         event_type, method, headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key)
       VALUES (@endpointId, @eventId, @receivedAt, @providerEventId, @providerDeliveryId,
         @eventType, @method, @headersJson, @body, @queryJson, @signatureValid, @signatureError, @dedupeKey)`,
  });
}

export type ReceiptStatements = ReturnType<typeof prepareReceiptStatements>;
