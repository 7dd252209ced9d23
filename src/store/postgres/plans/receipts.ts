// Every statement that stores receipts on Postgres, for schema `s` (quoted). A batch travels as
// arrays bound to unnest(), so storing 64 receipts costs the same handful of round trips as one.
// Ids are taken from the tables' sequences first and inserted explicitly: the client then knows
// which id is whose without relying on the order of RETURNING rows.

/** Columns of a new event, in the order eventArrays() gives them. */
const EVENT_INPUT = `r(id, endpoint_id, received_at, provider_event_id, provider_delivery_id, event_type, method,
  headers_json, body_blob, query_json, dedupe_key, body_identity, ordering_key, trace_context, ord)`;

export function receiptPlans(s: string) {
  return {
    /** `$1` new event ids and `$2` new delivery ids, each increasing, in one round trip. */
    nextIds: `SELECT
        ARRAY(SELECT nextval(pg_get_serial_sequence('${s}.knocker_events', 'id')) FROM generate_series(1, $1::int) ORDER BY 1)::text[] AS events,
        ARRAY(SELECT nextval(pg_get_serial_sequence('${s}.knocker_deliveries', 'id')) FROM generate_series(1, $2::int) ORDER BY 1)::text[] AS deliveries`,

    /**
     * New events in arrival order; a row whose dedupe key or body identity is already taken — by a
     * committed event, another node's insert (waited for), or an earlier row of this statement —
     * is skipped. Returns the ids inserted.
     */
    insertEvents: `INSERT INTO ${s}.knocker_events (id, endpoint_id, received_at, provider_event_id, provider_delivery_id, event_type,
        method, headers_json, body_blob, query_json, dedupe_key, body_identity, ordering_key, trace_context, status, attempt_count)
      SELECT id, endpoint_id, received_at, provider_event_id, provider_delivery_id, event_type,
        method, headers_json, body_blob, query_json, dedupe_key, body_identity, ordering_key, trace_context, 'received', 0
      FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::bytea[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[]) WITH ORDINALITY AS ${EVENT_INPUT}
      ORDER BY ord
      ON CONFLICT DO NOTHING
      RETURNING id`,

    /**
     * The new keyed events ($1, ids) take the next places of their keys, under the keys' advisory
     * locks (knocker_order_events, schema version 3): only sent when a batch has one.
     */
    orderEvents: `SELECT ${s}.knocker_order_events($1::bigint[])`,

    /** The stored events holding any of these (endpoint, dedupe key) or (endpoint, body identity) pairs. */
    existingEvents: `SELECT id, endpoint_id, dedupe_key, body_identity FROM ${s}.knocker_events
      WHERE (endpoint_id, dedupe_key) IN (SELECT * FROM unnest($1::bigint[], $2::text[]))
         OR (endpoint_id, body_identity) IN (SELECT * FROM unnest($3::bigint[], $4::text[]))`,

    /**
     * Every receipt's delivery ($1–$16), then one job per new event ($17 queue, $18 max attempts,
     * $19 event ids, $20 their receive times; the payload's text is JSON.stringify's), and a
     * NOTIFY ($21 channel) when there is one — a single round trip.
     */
    insertDeliveriesAndJobs: `WITH deliveries AS (
        INSERT INTO ${s}.knocker_deliveries (id, endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id,
          event_type, method, headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key, body_length, body_sha256)
        SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
          $9::text[], $10::bytea[], $11::text[], $12::smallint[], $13::text[], $14::text[], $15::bigint[], $16::text[])),
      jobs AS (
        INSERT INTO ${s}._honker_live (queue, payload, state, priority, run_at, attempts, max_attempts, created_at)
        SELECT $17, '{"event_id":' || id || '}', 'pending', 0, received_at, 0, $18, received_at
        FROM unnest($19::bigint[], $20::bigint[]) AS j(id, received_at) ORDER BY id)
      SELECT pg_notify($21, '') FROM (SELECT 1) AS one WHERE cardinality($19::bigint[]) > 0`,
  };
}

export type ReceiptPlans = ReturnType<typeof receiptPlans>;
