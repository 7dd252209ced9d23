// Seeds a Knocker file with a big inbox for bench/dashboard.bench.ts, with raw SQL: the file is
// created by Knocker (open(), endpoints registered, close()), then filled here in a few INSERT …
// SELECT statements over a recursive counter, every NOT NULL column of the real tables given a
// value. The shape is a busy month: events spread evenly over the last 30 days across five
// endpoints, ~96% handled, the rest received (with their pending jobs), failed, dead or ignored;
// one delivery and one attempt per event, 3% duplicate deliveries, 1% rejected deliveries.
import Database from "better-sqlite3";

export const SEED_ENDPOINTS = [
  { name: "stripe", path: "/webhooks/stripe", provider: null },
  { name: "github", path: "/webhooks/github", provider: null },
  { name: "shopify", path: "/webhooks/shopify", provider: null },
  { name: "slack", path: "/webhooks/slack", provider: null },
  { name: "orders", path: "/webhooks/orders", provider: null },
] as const;

const TYPES = ["checkout.session.completed", "invoice.paid", "push", "orders/create", "app_mention", "order.shipped"];

export interface SeedOptions {
  events: number;
  /** Unix seconds; events end here and start 30 days earlier. */
  now: number;
  queueName: string;
}

/** Fill an existing (closed) Knocker file. Returns the seconds it took. */
export function seedInbox(path: string, { events, now, queueName }: SeedOptions): number {
  const started = performance.now();
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -262144");
  const span = 30 * 86_400;
  const from = now - span;
  const types = `json_array(${TYPES.map((t) => `'${t}'`).join(", ")})`;
  // A new file's endpoints have consecutive ids.
  const firstEndpoint = db.prepare("SELECT MIN(id) FROM knocker_endpoints").pluck().get() as number;
  db.exec("BEGIN");
  // Statuses by i % 1000: 0-9 received, 10-14 failed, 15-19 dead, 20-29 ignored, the rest handled.
  db.prepare(`
    WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < @events),
      -- Parameters arrive as REAL (better-sqlite3 binds numbers as doubles): integer arithmetic by hand.
      timed(i, t) AS (SELECT i, CAST(@from AS INTEGER) + (i * CAST(@span AS INTEGER)) / CAST(@events AS INTEGER) FROM seq)
    INSERT INTO knocker_events (endpoint_id, received_at, provider_event_id, provider_delivery_id, event_type, method, headers_json,
      body_blob, query_json, dedupe_key, status, attempt_count, handled_at, last_error)
    SELECT
      CAST(@firstEndpoint AS INTEGER) + i % ${SEED_ENDPOINTS.length}, t, printf('evt_%010d', i), printf('dlv_%010d', i),
      json_extract(${types}, printf('$[%d]', i % ${TYPES.length})), 'POST',
      json_object('content-type', 'application/json', 'user-agent', 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'stripe-signature', printf('t=%d,v1=%064x', t, i)),
      CAST(json_object('id', printf('evt_%010d', i), 'object', 'event', 'type', json_extract(${types}, printf('$[%d]', i % ${TYPES.length})),
        'data', json_object('object', json_object('id', printf('cs_%d', i), 'amount_total', 4200, 'currency', 'eur', 'customer', 'cus_123'))) AS BLOB),
      '{}', printf('evt_%010d', i),
      CASE WHEN i % 1000 < 10 THEN 'received' WHEN i % 1000 < 15 THEN 'failed' WHEN i % 1000 < 20 THEN 'dead'
           WHEN i % 1000 < 30 THEN 'ignored' ELSE 'handled' END,
      CASE WHEN i % 1000 < 10 THEN 0 WHEN i % 1000 < 15 THEN 1 WHEN i % 1000 < 20 THEN 3 WHEN i % 1000 < 30 THEN 0 ELSE 1 END,
      CASE WHEN i % 1000 >= 30 THEN t + 1 END,
      CASE WHEN i % 1000 >= 10 AND i % 1000 < 20 THEN 'Error: upstream answered 502' END
    FROM timed
  `).run({ events, from, span, firstEndpoint });
  // One delivery per event, copied from it.
  db.exec(`
    INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id, event_type, method,
      headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key)
    SELECT endpoint_id, id, received_at, provider_event_id, provider_delivery_id, event_type, method, headers_json, body_blob, query_json,
      1, NULL, dedupe_key
    FROM knocker_events ORDER BY id`);
  // 3% duplicates an hour later; 1% rejected receipts (no event).
  db.prepare(`
    INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id, event_type, method,
      headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key)
    SELECT endpoint_id, id, MIN(received_at + 3600, CAST(@now AS INTEGER)), provider_event_id, provider_delivery_id || '-retry', event_type, method,
      headers_json, body_blob, query_json, 1, NULL, dedupe_key
    FROM knocker_events WHERE id % 100 < 3 ORDER BY id`).run({ now });
  db.exec(`
    INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id, event_type, method,
      headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key, body_length, body_sha256)
    SELECT endpoint_id, NULL, received_at + 7, NULL, NULL, NULL, 'POST', '{"content-type":"application/json"}', X'7B7D', '{}',
      0, 'stripe signature mismatch', NULL, 2, '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
    FROM knocker_events WHERE id % 100 = 50 ORDER BY id`);
  // An attempt for every event that ran a handler (3 for dead ones).
  db.exec(`
    INSERT INTO knocker_attempts (event_id, attempted_at, outcome, error, duration_ms)
    SELECT id, received_at + 1, CASE status WHEN 'handled' THEN 'handled' WHEN 'dead' THEN 'dead' ELSE 'failed' END, last_error, 3 + id % 40
    FROM knocker_events WHERE status IN ('handled', 'failed', 'dead') ORDER BY id`);
  // Jobs for the events still waiting: received now, failed ones retrying in a minute.
  db.prepare(`
    INSERT INTO _honker_live (queue, payload, state, priority, run_at, attempts, max_attempts, created_at)
    SELECT @queue, json_object('event_id', id), 'pending', 0, CASE status WHEN 'failed' THEN CAST(@now AS INTEGER) + 60 ELSE received_at END,
      attempt_count, 3, received_at
    FROM knocker_events WHERE status IN ('received', 'failed') ORDER BY id`).run({ queue: queueName, now });
  db.exec("COMMIT");
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return (performance.now() - started) / 1000;
}
