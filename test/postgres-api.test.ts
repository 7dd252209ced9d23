// The public API on the Postgres engine, on a real server: open("postgres://…") and open(pool),
// Stripe receipts signed by Stripe's own package, dedupe, the worker with a transactional handler
// whose queries commit with the ack, the operator's reads and replay, and close().
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import Stripe from "stripe";
import { open, type Knocker } from "../src/index.js";
import { engineOf } from "../src/store/engine-of.js";
import type { PgChangeFeed } from "../src/store/postgres/change-feed.js";
import { usePostgres } from "./support/postgres.js";

const SECRET = "whsec_pg_api_0123456789abcdef";
const stripe = new Stripe("sk_test_knocker");
const postgres = usePostgres();

const body = (id: string, type = "invoice.paid") => JSON.stringify({ id, object: "event", type, created: Math.floor(Date.now() / 1000), data: { object: { id: `in_${id}` } } });
const headers = (payload: string) => ({ "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }), "content-type": "application/json" });

/** Run the worker until `done()` holds. */
async function work(webhooks: Knocker, done: () => Promise<boolean>): Promise<void> {
  const stop = new AbortController();
  const errors: unknown[] = [];
  const run = webhooks.runWorker({ signal: stop.signal, onError: (error) => void errors.push(error) });
  const deadline = Date.now() + 20_000;
  try {
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out; worker errors: ${errors.map(String).join("; ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    stop.abort();
    await run;
  }
}

test("open(url): receive, dedupe, handle with tx.query, read, replay, close", async () => {
  const url = await postgres().createDatabase();
  const app = new pg.Pool({ connectionString: url, max: 2 });
  await app.query("CREATE TABLE invoices (stripe_id text PRIMARY KEY, event_id bigint NOT NULL, runs int NOT NULL DEFAULT 1)");
  const webhooks = open(url, { retryBackoff: false });
  try {
    const endpoint = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
    endpoint.handle("invoice.paid", (async (event: { id: number; json(): { data: { object: { id: string } } } }, tx: { query(text: string, params: unknown[]): Promise<unknown> }) => {
      await tx.query(
        "INSERT INTO public.invoices (stripe_id, event_id) VALUES ($1, $2) ON CONFLICT (stripe_id) DO UPDATE SET runs = invoices.runs + 1",
        [event.json().data.object.id, event.id],
      );
    }) as never);

    const first = body("evt_1");
    const stored = await endpoint.receive({ body: first, headers: headers(first) });
    assert.equal(stored.statusCode, 204);
    assert.equal(stored.duplicate, false);
    const again = await endpoint.receive({ body: first, headers: headers(first) });
    assert.deepEqual([again.eventId, again.duplicate], [stored.eventId, true]);
    const forged = await endpoint.receive({ body: body("evt_2"), headers: { "stripe-signature": "t=1,v1=00", "content-type": "application/json" } });
    assert.equal(forged.eventId, null);
    assert.ok(forged.statusCode >= 400 && forged.statusCode < 500, String(forged.statusCode));
    const second = body("evt_3");
    const other = await endpoint.receive({ body: second, headers: headers(second) });

    await work(webhooks, async () => (await webhooks.listEvents({ status: "handled" })).length === 2);
    const event = await webhooks.getEvent(stored.eventId!);
    assert.equal(event?.status, "handled");
    assert.equal(event?.attemptCount, 1);
    assert.equal(event?.endpoint, "stripe");
    assert.equal(event?.json<{ id: string }>().id, "evt_1");
    assert.deepEqual((await webhooks.listEvents({ endpoint: "stripe" })).map((e) => e.id), [other.eventId, stored.eventId]);
    assert.deepEqual(await webhooks.listEvents({ endpoint: "nobody" }), []);
    assert.equal((await webhooks.listDeliveries({ eventId: stored.eventId! })).length, 2);
    assert.equal((await webhooks.listDeliveries({ signatureValid: false })).length, 1);
    assert.deepEqual((await webhooks.listAttempts(stored.eventId!)).map((a) => a.outcome), ["handled"]);

    await webhooks.replay(stored.eventId!);
    await work(webhooks, async () => (await webhooks.getEvent(stored.eventId!))?.status === "handled");
    assert.deepEqual((await app.query("SELECT stripe_id, runs FROM invoices ORDER BY stripe_id")).rows, [
      { stripe_id: "in_evt_1", runs: 2 },
      { stripe_id: "in_evt_3", runs: 1 },
    ]);
    await assert.rejects(webhooks.replay(999_999), (error: { code?: string }) => error.code === "ERR_UNKNOWN_EVENT");
    await assert.rejects(webhooks.ignore(stored.eventId!), (error: { code?: string }) => error.code === "ERR_INVALID_STATE");
  } finally {
    await webhooks.close();
  }
  assert.equal((await app.query("SELECT count(*)::int AS n FROM knocker.knocker_events")).rows[0].n, 2);
  await app.end();
});

test("open(pool) with the app's own pool and a schema of its own; close() leaves the pool open", async () => {
  const url = await postgres().createDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const webhooks = open(pool, { schema: "inbox" });
  const endpoint = webhooks.endpoint("orders", { path: "/orders" });
  const result = await endpoint.receive({ body: '{"order":1}', dedupeKey: "o-1" });
  assert.equal(result.statusCode, 204);
  await webhooks.close();
  assert.equal((await pool.query("SELECT count(*)::int AS n FROM inbox.knocker_events")).rows[0].n, 1, "the app's pool still works");
  await pool.end();
});

test("two nodes: a receipt on one wakes the other's idle worker through LISTEN/NOTIFY, well before the poll backstop", async () => {
  const url = await postgres().createDatabase();
  const a = open(url);
  const b = open(url);
  const handledAt = new Map<number, number>();
  try {
    const onA = a.endpoint("orders", { path: "/orders" });
    onA.handle(((event: { id: number }) => void handledAt.set(event.id, Date.now())) as never);
    const onB = b.endpoint("orders", { path: "/orders" });
    await onA.receive({ body: "{}", dedupeKey: "warm-up" }); // schema and endpoint rows written
    const feed = engineOf(a).changes as PgChangeFeed;
    const stop = new AbortController();
    const worker = a.runWorker({ signal: stop.signal });
    await feed.ready();
    assert.equal(feed.listening, true);
    await new Promise((r) => setTimeout(r, 300)); // the warm-up handled, the worker idle
    try {
      for (let i = 0; i < 3; i++) {
        const sent = Date.now();
        const { eventId } = await onB.receive({ body: "{}", dedupeKey: `o-${i}` });
        while (!handledAt.has(eventId!) && Date.now() - sent < 8000) await new Promise((r) => setTimeout(r, 10));
        const latency = handledAt.get(eventId!)! - sent;
        assert.ok(latency < 1000, `handled ${latency} ms after the other node's receipt (the backstop while listening is 5000 ms)`);
      }
    } finally {
      stop.abort();
      await worker;
    }
  } finally {
    await a.close();
    await b.close();
  }
});

test("prune on Postgres: handled and ignored events older than the cutoff go with their deliveries, attempts and jobs; orphans too; one audit row per call", async () => {
  const clock = { now: 1_800_000_000 };
  const webhooks = open(await postgres().createDatabase(), { now: () => clock.now });
  try {
    const endpoint = webhooks.endpoint("orders", { path: "/orders" });
    endpoint.handle((() => {}) as never);
    const old = await endpoint.receive({ body: "{}", dedupeKey: "old" });
    await endpoint.receive({ body: "{}", dedupeKey: "old" }); // a second delivery of it
    const ignored = await endpoint.receive({ body: "{}", dedupeKey: "ignored" });
    const orphan = await webhooks.ingest({ endpoint: "orders", body: "{}", signatureValid: false, signatureError: "bad" });
    await webhooks.ignore(ignored.eventId!);
    await work(webhooks, async () => (await webhooks.getEvent(old.eventId!))?.status === "handled");
    clock.now += 100;
    const recent = await endpoint.receive({ body: "{}", dedupeKey: "recent" });
    await work(webhooks, async () => (await webhooks.getEvent(recent.eventId!))?.status === "handled");

    assert.deepEqual(await webhooks.pruneEvents({ olderThan: clock.now - 50 }), { eventsPruned: 2, deliveriesPruned: 3, attemptsPruned: 2, liveJobsPruned: 0 });
    assert.equal(await webhooks.getEvent(old.eventId!), null);
    assert.equal(await webhooks.getEvent(ignored.eventId!), null);
    assert.equal((await webhooks.getEvent(recent.eventId!))?.status, "handled");
    assert.deepEqual(await webhooks.pruneEvents({ olderThan: clock.now - 50 }), { eventsPruned: 0, deliveriesPruned: 0, attemptsPruned: 0, liveJobsPruned: 0 });
    assert.deepEqual(await webhooks.pruneOrphanDeliveries({ olderThan: clock.now }), { deliveriesPruned: 1 });
    assert.equal(await webhooks.getDelivery(orphan.deliveryId!), null);
    const audits = await webhooks.listPruneAudits();
    assert.deepEqual(audits.map((a) => [a.kind, a.eventsPruned, a.deliveriesPruned]), [
      ["prune_orphan_deliveries", 0, 1], ["prune_events", 0, 0], ["prune_events", 2, 3],
    ]);
    assert.deepEqual((await webhooks.listPruneAudits({ kind: "prune_orphan_deliveries" })).length, 1);
  } finally {
    await webhooks.close();
  }
});

test("rejected receipts over invalidDeliveriesPerMinute are counted in knocker_dropped_rejections, as on SQLite", async () => {
  const url = await postgres().createDatabase();
  const webhooks = open(url, { invalidDeliveriesPerMinute: 1 });
  const endpoint = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
  const forged = { body: body("evt_x"), headers: { "stripe-signature": "t=1,v1=00", "content-type": "application/json" } };
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await endpoint.receive(forged));
  assert.deepEqual(results.map((r) => r.deliveryId === null), [false, true, true, true], "one stored, three only counted");
  await webhooks.close(); // writes the counts
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query("SELECT sum(dropped)::int AS n FROM knocker.knocker_dropped_rejections");
  await client.end();
  assert.equal(rows[0].n, 3);
});

test("a server that is not there: receive() rejects with ERR_STORAGE; SQLite refuses the schema option", async () => {
  const webhooks = open("postgres://postgres:x@127.0.0.1:1/none");
  const endpoint = webhooks.endpoint("orders", { path: "/orders" });
  await assert.rejects(endpoint.receive({ body: "{}" }), (error: { code?: string }) => error.code === "ERR_STORAGE");
  await webhooks.close();
  assert.throws(() => open(":memory:", { schema: "knocker" }), (error: { code?: string }) => error.code === "ERR_INVALID_OPTION");
});
