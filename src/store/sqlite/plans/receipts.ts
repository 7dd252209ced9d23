import type { Database, Statement } from "better-sqlite3";
import { prepareAll } from "../connection.js";
import type { Receipt } from "../../../ingest/receipt.js";

const EVENT_COLUMNS = `endpoint_id, received_at, provider_event_id, provider_delivery_id, event_type,
  method, headers_json, body_blob, query_json, dedupe_key, body_identity, trace_context, status, attempt_count`;
const EVENT_ROW = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', 0)`;

/** Most rows one multi-row event INSERT writes; longer runs take several statements. */
const MAX_ROWS_PER_INSERT = 32;

/**
 * Every statement that stores a receipt, prepared once on the writer connection. Parameters are
 * positional (see `eventValues` / `deliveryValues`): binding by name costs a property lookup per
 * parameter, and these run for every receipt.
 */
export function prepareReceiptStatements(db: Database) {
  const statements = prepareAll(db, {
    findEventByKey: { pluck: `SELECT id FROM knocker_events WHERE endpoint_id = ? AND dedupe_key = ?` },
    findEventByBodyIdentity: { pluck: `SELECT id FROM knocker_events WHERE endpoint_id = ? AND body_identity = ?` },

    /** Rows this connection has written so far, triggers' and foreign-key actions' included. */
    totalChanges: { pluck: `SELECT total_changes()` },

    insertEvent: `INSERT INTO knocker_events (${EVENT_COLUMNS}) VALUES ${EVENT_ROW}`,

    insertDelivery: `INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id,
         event_type, method, headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key, body_length, body_sha256)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,

    /**
     * The delivery of each new event in an id range, copied from the event row in id order: the
     * same values insertDelivery would bind, without passing the body and headers in again.
     * Only for receipts that are valid and carry no signature error.
     */
    copyDeliveriesOfEvents: `INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id,
         event_type, method, headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key)
       SELECT endpoint_id, id, received_at, provider_event_id, provider_delivery_id,
         event_type, method, headers_json, body_blob, query_json, 1, NULL, dedupe_key
       FROM knocker_events WHERE id BETWEEN ? AND ? ORDER BY id`,
  });
  // One row is insertEvent itself.
  const insertEventRows = new Map<number, Statement<unknown[], unknown>>([[1, statements.insertEvent]]);
  const insertEventsStatement = (rows: number) => {
    let statement = insertEventRows.get(rows);
    if (statement === undefined) {
      statement = db.prepare(`INSERT INTO knocker_events (${EVENT_COLUMNS}) VALUES ${Array(rows).fill(EVENT_ROW).join(", ")}`);
      insertEventRows.set(rows, statement);
    }
    return statement;
  };
  return Object.assign(statements, {
    /**
     * Insert an event for each receipt, in order, with as few statements as possible (row counts
     * are powers of two, so a handful of statements serve every batch size). Returns the last id.
     */
    insertEvents(receipts: readonly Receipt[]): number {
      let lastId = 0;
      for (let at = 0; at < receipts.length; ) {
        let rows = MAX_ROWS_PER_INSERT;
        while (rows > receipts.length - at) rows >>= 1;
        const values: unknown[] = [];
        for (let i = at; i < at + rows; i++) values.push(...eventValues(receipts[i]!));
        lastId = Number(insertEventsStatement(rows).run(values).lastInsertRowid);
        at += rows;
      }
      return lastId;
    },
  });
}

/** insertEvent's parameters, in its column order. */
export function eventValues(r: Receipt) {
  return [r.endpointId, r.receivedAt, r.providerEventId, r.providerDeliveryId, r.eventType,
    r.method, r.headersJson, r.body, r.queryJson, r.dedupeKey, r.bodyIdentity, r.traceParent] as const;
}

/** insertDelivery's parameters, in its column order. */
export function deliveryValues(r: Receipt, eventId: number | null) {
  return [r.endpointId, eventId, r.receivedAt, r.providerEventId, r.providerDeliveryId,
    r.eventType, r.method, r.headersJson, r.body, r.queryJson, r.signatureValid ? 1 : 0, r.signatureError, r.dedupeKey,
    r.bodyDigest?.length ?? null, r.bodyDigest?.sha256 ?? null] as const;
}

export type ReceiptStatements = ReturnType<typeof prepareReceiptStatements>;
