// Failures on a real Postgres server: the server stopped in the middle of a burst of receipts and
// started again (every receipt that resolved is stored, every other one rejected with ERR_STORAGE
// or, over HTTP, 503; none hangs; the same Knocker and worker carry on), and a worker process
// SIGKILLed among several nodes (each event handled exactly once).
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { open, type IngestResult } from "../src/index.js";
import { createServer } from "node:http";
import { closeServer, listen, SECRETS, stripeEvent, stripeHeaders } from "./support/http-suite.js";
import { usePostgres } from "./support/postgres.js";
import { Child, fixture } from "./support/processes.js";

const postgres = usePostgres();

test("server stopped during a burst: resolved receipts are stored, the rest rejected, and the same inbox recovers", { timeout: 120_000 }, async () => {
  const url = await postgres().createDatabase();
  // A claim whose batch failed in the outage cannot be handed back while the server is down: it
  // expires after visibilityTimeoutS and runs again (short here, so the test need not wait a minute).
  const webhooks = open(url, { visibilityTimeoutS: 3 });
  const endpoint = webhooks.endpoint("orders", { path: "/orders" });
  const handled = new Set<number>();
  endpoint.handle(((event: { id: number }) => void handled.add(event.id)) as never);
  const outcomes: Array<{ key: string; result?: IngestResult; error?: { code?: string } }> = [];
  const send = async (key: string) => {
    try {
      outcomes.push({ key, result: await endpoint.receive({ body: JSON.stringify({ key }), dedupeKey: key }) });
    } catch (error) {
      outcomes.push({ key, error: error as { code?: string } });
    }
  };
  const workerErrors: unknown[] = [];
  const stop = new AbortController();
  const worker = webhooks.runWorker({ signal: stop.signal, onError: (error) => void workerErrors.push(error) });
  try {
    let n = 0;
    const wave = () => Promise.all(Array.from({ length: 20 }, () => send(`k-${n++}`)));
    for (let i = 0; i < 5; i++) await wave();
    // Stop the server while a wave is in flight.
    const inFlight = wave();
    const halted = postgres().halt();
    await Promise.all([inFlight, halted]);
    for (let i = 0; i < 3; i++) await wave(); // the server is down: every one rejects
    await postgres().start();
    // The same Knocker: the first calls may still find broken connections; it recovers.
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      await wave();
      recovered = outcomes.slice(-20).every((o) => o.result !== undefined);
      if (!recovered) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(recovered, "receipts succeed again after the restart");
    // The worker carries on: everything stored gets handled.
    const stored = outcomes.filter((o) => o.result).map((o) => o.result!.eventId!);
    const deadline = Date.now() + 30_000;
    while (!stored.every((id) => handled.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(stored.every((id) => handled.has(id)), `handled ${stored.filter((id) => handled.has(id)).length} of ${stored.length}`);
  } finally {
    stop.abort();
    await worker;
    await webhooks.close();
  }

  assert.equal(outcomes.length, new Set(outcomes.map((o) => o.key)).size, "every receipt settled once");
  const rejected = outcomes.filter((o) => o.error);
  assert.ok(rejected.length >= 60, `${rejected.length} rejected while the server was down`);
  for (const o of rejected) assert.ok(o.error!.code === "ERR_STORAGE" || o.error!.code === "ERR_STORAGE_BUSY", `rejected with ${o.error!.code}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const rows = (await client.query("SELECT id::int, dedupe_key FROM knocker.knocker_events")).rows as Array<{ id: number; dedupe_key: string }>;
  await client.end();
  const storedKeys = new Map(rows.map((row) => [row.dedupe_key, row.id]));
  for (const o of outcomes.filter((x) => x.result)) {
    assert.equal(storedKeys.get(o.key), o.result!.eventId, `${o.key} resolved, so it is stored under its event id`);
  }
  assert.ok(workerErrors.length > 0, "the worker reported the outage through onError");
});

test("over HTTP (nodeHandler): 204 while the server is up, 503 with Retry-After while it is down (never 2xx), 204 again after", { timeout: 120_000 }, async () => {
  const url = await postgres().createDatabase();
  const webhooks = open(url);
  webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRETS.stripe] });
  const server = createServer(webhooks.nodeHandler());
  const base = await listen(server);
  const post = async (id: string) => {
    const body = stripeEvent(id);
    return fetch(`${base}/webhooks/stripe`, { method: "POST", body, headers: stripeHeaders(body) });
  };
  try {
    assert.equal((await post("evt_up")).status, 204);
    const forged = stripeEvent("evt_forged");
    assert.equal((await fetch(`${base}/webhooks/stripe`, { method: "POST", body: forged, headers: stripeHeaders(forged, "whsec_other") })).status, 401);
    await postgres().halt();
    const down = await Promise.all(Array.from({ length: 10 }, (_, i) => post(`evt_down_${i}`)));
    for (const response of down) {
      assert.equal(response.status, 503);
      assert.ok(Number(response.headers.get("retry-after")) > 0, "Retry-After");
    }
    await postgres().start();
    let status = 0;
    for (let i = 0; i < 50 && status !== 204; i++) {
      status = (await post(`evt_back_${i}`)).status;
      if (status !== 204) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status, 204, "the same server and Knocker answer 204 again");
  } finally {
    await closeServer(server);
    await webhooks.close();
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const keys = (await client.query("SELECT dedupe_key FROM knocker.knocker_events ORDER BY id")).rows.map((r) => r.dedupe_key as string);
  await client.end();
  assert.equal(keys[0], "evt_up");
  assert.ok(!keys.some((key) => key.startsWith("evt_down_")), "nothing answered 503 was stored");
  assert.ok(keys.at(-1)!.startsWith("evt_back_"));
});

test("an exhausted pool and a lock held elsewhere are bounded waits: ERR_STORAGE_BUSY after busyTimeoutMs (HTTP 503 + Retry-After), nothing stored, then 204", { timeout: 60_000 }, async () => {
  const url = await postgres().createDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 1 }); // the app's pool, no connectionTimeoutMillis: pg alone would wait forever
  const webhooks = open(pool, { busyTimeoutMs: 300 });
  const endpoint = webhooks.endpoint("orders", { path: "/orders" });
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  try {
    await webhooks.listEvents({ limit: 1 }); // the schema exists
    const isBusy = (pattern: RegExp) => (e: unknown) => (e as { code?: string }).code === "ERR_STORAGE_BUSY" && pattern.test((e as Error).message);

    // The app holds the pool's only client.
    const held = await pool.connect();
    const started = Date.now();
    await assert.rejects(endpoint.receive({ body: "{}", dedupeKey: "k-1" }), isBusy(/every connection of the Postgres pool stayed in use for busyTimeoutMs \(300 ms\)/));
    const waited = Date.now() - started;
    assert.ok(waited >= 290 && waited < 5000, `waited ${waited} ms`);
    const refused = await webhooks.fetch(new Request("http://localhost/orders", { method: "POST", body: "{}" }));
    assert.deepEqual([refused.status, refused.headers.get("retry-after")], [503, "5"]);
    held.release();

    // Another session locks the events table: the receipt waits for it at most busyTimeoutMs.
    await other.query("BEGIN");
    await other.query("LOCK TABLE knocker.knocker_events IN EXCLUSIVE MODE");
    await assert.rejects(endpoint.receive({ body: "{}", dedupeKey: "k-2" }), isBusy(/lock timeout/));
    await other.query("ROLLBACK");

    assert.equal((await webhooks.listDeliveries()).length, 0, "nothing stored for the refused receipts");
    const stored = await endpoint.receive({ body: "{}", dedupeKey: "k-1" });
    assert.deepEqual([stored.statusCode, stored.duplicate], [204, false]);
  } finally {
    await other.end();
    await webhooks.close();
    await pool.end();
  }
});

test("several nodes: 2 ingesting and 2 worker processes, 5,000 receipts with 10% repeated identities across the ingesters, a worker SIGKILLed mid-run: one event per identity, each handled exactly once", { timeout: 180_000 }, async () => {
  const url = await postgres().createDatabase();
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query("CREATE TABLE public.business (event_id bigint PRIMARY KEY, pid int NOT NULL)");
  // Each ingester sends 2,250 identities of its own and 250 of the other's: 5,000 receipts, 4,500 identities.
  const own = (n: number) => Array.from({ length: 2250 }, (_, i) => `k-${n}-${i}`);
  const keysA = [...own(0), ...own(1).slice(0, 250)];
  const keysB = [...own(1), ...own(0).slice(0, 250)];
  const workers = [new Child(fixture("pg-node-child.ts"), ["work", url]), new Child(fixture("pg-node-child.ts"), ["work", url])];
  const ingesters = [new Child(fixture("pg-node-child.ts"), ["ingest", url, JSON.stringify(keysA)]), new Child(fixture("pg-node-child.ts"), ["ingest", url, JSON.stringify(keysB)])];
  const count = async (sql: string) => Number((await setup.query(sql)).rows[0].n);
  try {
    await Promise.all(workers.map((w) => w.next("working", 30_000)));
    // SIGKILL one worker once it has handled a few hundred events, in the middle of its batches.
    const deadline = Date.now() + 60_000;
    while ((await count(`SELECT count(*) AS n FROM public.business WHERE pid = ${workers[0]!.pid}`)) < 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    workers[0]!.kill("SIGKILL");
    const ingested = await Promise.all(ingesters.map((i) => i.next("ingested", 120_000)));
    assert.deepEqual(ingested.map((m) => [m.ok, m.failed]), [[2500, 0], [2500, 0]], "no rejected receive()");
    const until = Date.now() + 90_000;
    while ((await count("SELECT count(*) AS n FROM public.business")) < 4500 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  } finally {
    for (const child of [...workers, ...ingesters]) child.kill("SIGKILL");
  }
  assert.equal(await count("SELECT count(*) AS n FROM knocker.knocker_events"), 4500, "one event per identity");
  assert.equal(await count("SELECT count(*) AS n FROM knocker.knocker_deliveries"), 5000, "every receipt stored");
  assert.equal(await count("SELECT count(*) AS n FROM public.business"), 4500, "every event handled, none twice (UNIQUE)");
  assert.equal(await count("SELECT count(*) AS n FROM knocker.knocker_events WHERE status = 'handled'"), 4500);
  assert.ok((await count(`SELECT count(*) AS n FROM public.business WHERE pid = ${workers[1]!.pid}`)) > 0, "the surviving worker carried on");
  await setup.end();
});
