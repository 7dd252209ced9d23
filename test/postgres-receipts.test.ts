// The Postgres engine's group commit on a real server: receipts built by the real ingress (Stripe
// signatures made by Stripe's own package) stored in one transaction per batch, with the same
// results and rows the SQLite engine gives: new events with their job, duplicates of stored
// events and of earlier receipts in the same batch, rejected receipts and receipts without an
// identity; and two "nodes" (two pools) racing on the same identities make one event each.
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import Stripe from "stripe";
import { buildReceipt, type IngressEndpoint } from "../src/ingest/ingress.js";
import type { Receipt } from "../src/ingest/receipt.js";
import { Observer } from "../src/observer.js";
import { prepareProvider } from "../src/providers/registry.js";
import { PgReceiptStore } from "../src/store/postgres/receipt-store.js";
import { bootstrapPostgres, quoteIdentifier } from "../src/store/postgres/schema.js";
import { usePostgres } from "./support/postgres.js";

const SECRET = "whsec_pg_receipts_0123456789abcdef";
const NOW = Math.floor(Date.now() / 1000);
const stripe = new Stripe("sk_test_knocker");
const postgres = usePostgres();

async function inbox(url: string): Promise<{ pool: pg.Pool; endpoint: IngressEndpoint; store: (pool: pg.Pool) => PgReceiptStore }> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const client = await pool.connect();
  await bootstrapPostgres(client, "knocker");
  const { rows } = await client.query("INSERT INTO knocker.knocker_endpoints (name, path, provider, created_at) VALUES ('stripe', '/stripe', 'stripe', $1) RETURNING id", [NOW]);
  client.release();
  const endpoint: IngressEndpoint = { id: Number(rows[0].id), name: "stripe", enabled: true, provider: prepareProvider("stripe", "stripe", [SECRET], undefined), orderingKey: null };
  const config = { schema: "knocker", quotedSchema: quoteIdentifier("knocker"), queueName: "knocker.events", maxAttempts: 3, durability: "full" as const, channel: "knocker_test", busyTimeoutMs: 5000 };
  return { pool, endpoint, store: (p) => new PgReceiptStore(p, config, new Observer(), () => {}) };
}

const stripeEvent = (id: string) => JSON.stringify({ id, object: "event", type: "invoice.paid", created: NOW, data: { object: { id: `in_${id}` } } });

function signed(endpoint: IngressEndpoint, body: string, secret = SECRET): Receipt {
  const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: NOW });
  const built = buildReceipt(endpoint, { body, headers: { "stripe-signature": signature, "content-type": "application/json" } }, {
    now: NOW, maxBodyBytes: 1 << 20, invalidBodyBytes: 4096, trusted: false,
  });
  assert.ok(!(built instanceof Promise));
  return built;
}

function trusted(endpoint: IngressEndpoint, body: string, dedupeKey?: string): Receipt {
  return buildReceipt(endpoint, { body, dedupeKey, eventType: "note", signatureValid: true } as never, {
    now: NOW, maxBodyBytes: 1 << 20, invalidBodyBytes: 4096, trusted: true,
  }) as Receipt;
}

test("a mixed batch: one transaction, results and rows as the contract says, ids in arrival order", async () => {
  const url = await postgres().createDatabase();
  const { pool, endpoint, store: makeStore } = await inbox(url);
  const store = makeStore(pool);
  try {
    const first = await store.submit(signed(endpoint, stripeEvent("evt_old")));
    assert.deepEqual(first, { deliveryId: first.deliveryId, eventId: first.eventId, duplicate: false, statusCode: 204 });

    const receipts = [
      signed(endpoint, stripeEvent("evt_a")), // new
      signed(endpoint, stripeEvent("evt_old")), // a stored event again
      signed(endpoint, stripeEvent("evt_a")), // an earlier receipt of this batch again
      signed(endpoint, stripeEvent("evt_forged"), "whsec_wrong"), // rejected
      trusted(endpoint, "no identity 1"), // no identity: always new
      trusted(endpoint, "no identity 2"),
      signed(endpoint, stripeEvent("evt_b")),
    ];
    const results = await Promise.all(receipts.map((receipt) => store.submit(receipt)));
    const [a, old, aAgain, forged, n1, n2, b] = results;
    assert.equal(a!.duplicate, false);
    assert.deepEqual([old!.eventId, old!.duplicate], [first.eventId, true]);
    assert.deepEqual([aAgain!.eventId, aAgain!.duplicate], [a!.eventId, true]);
    assert.deepEqual([forged!.eventId, forged!.statusCode], [null, 401]);
    assert.ok(n1!.eventId! > a!.eventId! && n2!.eventId! > n1!.eventId! && b!.eventId! > n2!.eventId!, "new events numbered in arrival order");
    const deliveryIds = results.map((r) => r.deliveryId!);
    assert.deepEqual(deliveryIds, [...deliveryIds].sort((x, y) => x - y));
    assert.ok(deliveryIds[0]! > first.deliveryId!);

    const q = async (sql: string) => (await pool.query(sql)).rows;
    assert.deepEqual(await q("SELECT dedupe_key, status, attempt_count FROM knocker.knocker_events ORDER BY id"), [
      { dedupe_key: "evt_old", status: "received", attempt_count: 0 },
      { dedupe_key: "evt_a", status: "received", attempt_count: 0 },
      { dedupe_key: null, status: "received", attempt_count: 0 },
      { dedupe_key: null, status: "received", attempt_count: 0 },
      { dedupe_key: "evt_b", status: "received", attempt_count: 0 },
    ]);
    const deliveries = await q("SELECT id::int, event_id::int, signature_valid, dedupe_key FROM knocker.knocker_deliveries ORDER BY id");
    assert.equal(deliveries.length, 8);
    assert.deepEqual(deliveries.slice(1).map((d) => [d.id, d.event_id, d.signature_valid]),
      results.map((r, i) => [r.deliveryId, r.eventId, i === 3 ? 0 : 1]));
    const jobs = await q("SELECT payload, state, attempts, max_attempts, run_at::int FROM knocker._honker_live ORDER BY id");
    assert.deepEqual(jobs.map((j) => j.payload), [first, a, n1, n2, b].map((r) => JSON.stringify({ event_id: r!.eventId })));
    assert.ok(jobs.every((j) => j.state === "pending" && j.attempts === 0 && j.max_attempts === 3 && j.run_at === NOW));
    const body = await q(`SELECT body_blob FROM knocker.knocker_events WHERE dedupe_key = 'evt_b'`);
    assert.equal(body[0].body_blob.toString("utf8"), stripeEvent("evt_b"));
  } finally {
    await pool.end();
  }
});

test("two nodes racing on the same identities: one event per identity, every other receipt a duplicate of it", async () => {
  const url = await postgres().createDatabase();
  const { pool, endpoint, store: makeStore } = await inbox(url);
  const other = new pg.Pool({ connectionString: url, max: 4 });
  const nodes = [makeStore(pool), makeStore(other)];
  try {
    const ids = Array.from({ length: 200 }, (_, i) => `evt_race_${i % 50}`); // each identity 4 times
    const results = await Promise.all(ids.map((id, i) => nodes[i % 2]!.submit(signed(endpoint, stripeEvent(id)))));
    const byIdentity = new Map<string, Set<number>>();
    ids.forEach((id, i) => byIdentity.set(id, (byIdentity.get(id) ?? new Set()).add(results[i]!.eventId!)));
    for (const [id, events] of byIdentity) assert.equal(events.size, 1, `${id}: ${[...events]}`);
    assert.equal(results.filter((r) => !r.duplicate).length, 50);
    const counts = (await pool.query("SELECT (SELECT count(*) FROM knocker.knocker_events)::int AS events, (SELECT count(*) FROM knocker.knocker_deliveries)::int AS deliveries, (SELECT count(*) FROM knocker._honker_live)::int AS jobs")).rows[0];
    assert.deepEqual(counts, { events: 50, deliveries: 200, jobs: 50 });
  } finally {
    await pool.end();
    await other.end();
  }
});

test("a receipt the server refuses is refused alone; a server that is gone refuses with ERR_STORAGE", async () => {
  const url = await postgres().createDatabase();
  const { pool, endpoint, store: makeStore } = await inbox(url);
  const store = makeStore(pool);
  try {
    const bad = { ...trusted(endpoint, "bad"), eventType: "nul\u0000byte" }; // text cannot hold NUL
    const [good, refused] = await Promise.allSettled([store.submit(trusted(endpoint, "good", "k-good")), store.submit(bad)]);
    assert.equal(good.status, "fulfilled");
    assert.equal(refused.status, "rejected");
    assert.equal((refused as PromiseRejectedResult).reason.code, "ERR_STORAGE");
    assert.equal((await pool.query("SELECT count(*)::int AS n FROM knocker.knocker_events")).rows[0].n, 1);
  } finally {
    await pool.end();
  }
  const gone = new pg.Pool({ connectionString: url.replace(/:(\d+)\//, ":1/"), max: 1, connectionTimeoutMillis: 2000 });
  const store2 = makeStore(gone);
  await assert.rejects(store2.submit(trusted(endpoint, "x")), (error: { code?: string }) => error.code === "ERR_STORAGE");
  await gone.end();
});
