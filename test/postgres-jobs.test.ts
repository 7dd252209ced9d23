// The Postgres engine's queue and worker transactions on a real server, driven by the real worker
// loop (WorkerPool) over receipts stored by the real group commit: transactional handlers that
// await queries on `tx` commit with the ack or roll back with the attempt; retries, dead letters,
// an async handler's finalizer; two worker "nodes" draining one queue handle each event once.
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { EndpointRegistry } from "../src/endpoints.js";
import { buildReceipt } from "../src/ingest/ingress.js";
import { Observer } from "../src/observer.js";
import { PgChangeFeed } from "../src/store/postgres/change-feed.js";
import { PgJobStore, type PgHandlerTx } from "../src/store/postgres/job-store.js";
import { PgReceiptStore } from "../src/store/postgres/receipt-store.js";
import { PgSession } from "../src/store/postgres/session.js";
import { bootstrapPostgres, quoteIdentifier } from "../src/store/postgres/schema.js";
import { WorkerPool } from "../src/worker/worker.js";
import { usePostgres } from "./support/postgres.js";

const NOW = Math.floor(Date.now() / 1000);
const postgres = usePostgres();

interface Node {
  pool: pg.Pool;
  registry: EndpointRegistry;
  jobs: PgJobStore;
  workers: WorkerPool;
}

async function setUp(url: string, maxAttempts = 3): Promise<{ pool: pg.Pool; node: (pool?: pg.Pool) => Node; receive: (body: string, key?: string) => Promise<number> }> {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  const client = await pool.connect();
  await bootstrapPostgres(client, "knocker");
  await client.query("CREATE TABLE public.orders (event_id bigint PRIMARY KEY, note text)");
  const { rows } = await client.query("INSERT INTO knocker.knocker_endpoints (name, path, created_at) VALUES ('orders', '/orders', $1) RETURNING id", [NOW]);
  client.release();
  const endpointId = Number(rows[0].id);
  const s = quoteIdentifier("knocker");
  const receipts = new PgReceiptStore(pool, { schema: "knocker", quotedSchema: s, queueName: "knocker.events", maxAttempts, durability: "full", channel: "knocker_test", busyTimeoutMs: 5000 }, new Observer(), () => {});
  const ingress = new EndpointRegistry(() => endpointId).add({ name: "orders", path: "/orders" }, NOW);
  const receive = async (body: string, key?: string) => {
    const receipt = buildReceipt(ingress, { body, eventType: "order.paid", dedupeKey: key, signatureValid: true } as never, { now: NOW, maxBodyBytes: 1 << 20, invalidBodyBytes: 4096, trusted: true });
    return (await receipts.submit(receipt as never)).eventId!;
  };
  const node = (nodePool = pool): Node => {
    const registry = new EndpointRegistry(() => endpointId);
    registry.add({ name: "orders", path: "/orders" }, NOW);
    const jobs = new PgJobStore(new PgSession(nodePool, pg), { quotedSchema: s, channel: "knocker_test", queueName: "knocker.events", visibilityTimeoutS: 30, retryBackoff: false }, registry, () => Math.floor(Date.now() / 1000));
    const workers = new WorkerPool(jobs, new PgChangeFeed(), { batchSize: 16, queueName: "knocker.events", visibilityTimeoutS: 30, hasAsyncHandlers: () => registry.hasAsyncHandlers }, new Observer());
    return { pool: nodePool, registry, jobs, workers };
  };
  return { pool, node, receive };
}

/** Run a node's worker until `done()` holds (checked after each batch), then stop it. */
async function drain(nodes: Node[], done: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const stop = new AbortController();
  const runs = nodes.map((n) => n.workers.run({ signal: stop.signal, onError: () => {} }));
  const deadline = Date.now() + timeoutMs;
  try {
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error("timed out draining");
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    stop.abort();
    await Promise.all(runs);
  }
}

const count = async (pool: pg.Pool, sql: string) => Number((await pool.query(sql)).rows[0].n);

test("a transactional handler's awaited queries commit with the ack: every event handled once, the queue empty", async () => {
  const { pool, node, receive } = await setUp(await postgres().createDatabase());
  try {
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push(await receive(`{"n":${i}}`, `o-${i}`));
    const n = node();
    n.registry.addHandler("orders", "order.paid", (async (event: { id: number; json(): { n: number } }, tx: PgHandlerTx) => {
      await tx.query("INSERT INTO public.orders (event_id, note) VALUES ($1, $2)", [event.id, `n=${event.json().n}`]);
    }) as never, undefined);
    await drain([n], async () => (await count(pool, "SELECT count(*) AS n FROM knocker._honker_live")) === 0);
    assert.equal(await count(pool, "SELECT count(*) AS n FROM public.orders"), 40);
    assert.equal(await count(pool, "SELECT count(*) AS n FROM knocker.knocker_events WHERE status = 'handled' AND attempt_count = 1 AND handled_at IS NOT NULL"), 40);
    assert.equal(await count(pool, "SELECT count(*) AS n FROM knocker.knocker_attempts WHERE outcome = 'handled'"), 40);
    assert.deepEqual((await pool.query("SELECT note FROM public.orders WHERE event_id = $1", [ids[7]])).rows, [{ note: "n=7" }]);
  } finally {
    await pool.end();
  }
});

test("a throwing handler's writes roll back with its attempt: retried, then handled; always throwing ends dead and dead-lettered", async () => {
  const { pool, node, receive } = await setUp(await postgres().createDatabase(), 2);
  try {
    const flaky = await receive('{"kind":"flaky"}', "flaky");
    const broken = await receive('{"kind":"broken"}', "broken");
    const n = node();
    const seen = new Map<number, number>();
    n.registry.addHandler("orders", "order.paid", (async (event: { id: number; json(): { kind: string } }, tx: PgHandlerTx) => {
      seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
      await tx.query("INSERT INTO public.orders (event_id, note) VALUES ($1, 'written before the throw')", [event.id]);
      if (event.json().kind === "broken" || seen.get(event.id) === 1) throw new Error(`boom ${event.id}`);
    }) as never, undefined);
    await drain([n], async () => (await count(pool, "SELECT count(*) AS n FROM knocker._honker_live")) === 0);
    const events = (await pool.query("SELECT id::int, status, attempt_count, last_error FROM knocker.knocker_events ORDER BY id")).rows;
    assert.deepEqual(events, [
      { id: flaky, status: "handled", attempt_count: 2, last_error: null },
      { id: broken, status: "dead", attempt_count: 2, last_error: `boom ${broken}` },
    ]);
    assert.deepEqual((await pool.query("SELECT event_id::int FROM public.orders")).rows, [{ event_id: flaky }], "only the handled attempt's write is kept");
    assert.deepEqual((await pool.query("SELECT event_id::int, outcome FROM knocker.knocker_attempts ORDER BY id")).rows.map((r) => `${r.event_id}:${r.outcome}`).sort(),
      [`${broken}:dead`, `${broken}:failed`, `${flaky}:failed`, `${flaky}:handled`].sort());
    const dead = (await pool.query("SELECT payload, attempts, last_error FROM knocker._honker_dead")).rows;
    assert.deepEqual(dead, [{ payload: JSON.stringify({ event_id: broken }), attempts: 2, last_error: `boom ${broken}` }]);
  } finally {
    await pool.end();
  }
});

test("a batch runs set-wise: handlers that query and handlers that do not share one commit; a second job for an event in the batch runs after it and is skipped", async () => {
  const { pool, node, receive } = await setUp(await postgres().createDatabase());
  try {
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await receive(`{"n":${i}}`, `b-${i}`));
    // A second live job for one event (as a replay racing a claim would leave): it must not run the handler again.
    await pool.query(`INSERT INTO knocker._honker_live (queue, payload, max_attempts) VALUES ('knocker.events', $1, 3)`, [JSON.stringify({ event_id: ids[3] })]);
    const n = node();
    const runs = new Map<number, number>();
    n.registry.addHandler("orders", "order.paid", (async (event: { id: number; json(): { n: number } }, tx: PgHandlerTx) => {
      runs.set(event.id, (runs.get(event.id) ?? 0) + 1);
      if (event.json().n % 2 === 0) await tx.query("INSERT INTO public.orders (event_id, note) VALUES ($1, 'even')", [event.id]);
      if (event.json().n === 4 && runs.get(event.id) === 1) throw new Error("four fails once, after its write");
    }) as never, undefined);
    await drain([n], async () => (await count(pool, "SELECT count(*) AS n FROM knocker._honker_live")) === 0);
    assert.equal(runs.size, 12);
    assert.deepEqual([...runs].filter(([, r]) => r !== 1).map(([id]) => id), [ids[4]], "each handler ran once, the failed one twice; the second job for one event did not run it again");
    assert.equal(await count(pool, "SELECT count(*) AS n FROM public.orders"), 6, "the even events' writes, the failed attempt's rolled back");
    assert.equal(await count(pool, "SELECT count(*) AS n FROM knocker.knocker_events WHERE status = 'handled'"), 12);
    assert.equal(await count(pool, "SELECT count(*) AS n FROM knocker.knocker_attempts WHERE outcome = 'handled'"), 12);
    assert.deepEqual((await pool.query("SELECT status, attempt_count, last_error FROM knocker.knocker_events WHERE id = $1", [ids[4]])).rows,
      [{ status: "handled", attempt_count: 2, last_error: null }]);
    assert.deepEqual((await pool.query("SELECT event_id::int, outcome FROM knocker.knocker_attempts WHERE outcome <> 'handled'")).rows, [{ event_id: ids[4], outcome: "failed" }]);
  } finally {
    await pool.end();
  }
});

test("an async handler runs outside the transaction; its finalizer's writes commit with the ack", async () => {
  const { pool, node, receive } = await setUp(await postgres().createDatabase());
  try {
    for (let i = 0; i < 10; i++) await receive(`{"n":${i}}`, `a-${i}`);
    const n = node();
    let inFlight = 0;
    let most = 0;
    n.registry.addHandler("orders", "order.paid", (async (event: { id: number }) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      return async (tx: PgHandlerTx) => {
        await tx.query("INSERT INTO public.orders (event_id, note) VALUES ($1, 'finalized')", [event.id]);
      };
    }) as never, { transaction: false });
    await drain([n], async () => (await count(pool, "SELECT count(*) AS n FROM knocker._honker_live")) === 0);
    assert.equal(await count(pool, "SELECT count(*) AS n FROM public.orders WHERE note = 'finalized'"), 10);
    assert.equal(await count(pool, "SELECT count(*) AS n FROM knocker.knocker_events WHERE status = 'handled'"), 10);
    assert.ok(most > 1, `async handlers overlapped (${most} at once)`);
  } finally {
    await pool.end();
  }
});

test("two worker nodes on one queue: SKIP LOCKED claims, each of 300 events handled exactly once", async () => {
  const url = await postgres().createDatabase();
  const { pool, node, receive } = await setUp(url);
  const otherPool = new pg.Pool({ connectionString: url, max: 6 });
  try {
    for (let i = 0; i < 300; i++) await receive(`{"n":${i}}`, `r-${i}`);
    const nodes = [node(), node(otherPool)];
    const ran = new Map<number, number>();
    for (const n of nodes) {
      n.registry.addHandler("orders", "order.paid", (async (event: { id: number }, tx: PgHandlerTx) => {
        ran.set(event.id, (ran.get(event.id) ?? 0) + 1);
        await tx.query("INSERT INTO public.orders (event_id, note) VALUES ($1, 'once')", [event.id]);
      }) as never, undefined);
    }
    await drain(nodes, async () => (await count(pool, "SELECT count(*) AS n FROM knocker._honker_live")) === 0);
    assert.equal(await count(pool, "SELECT count(*) AS n FROM public.orders"), 300);
    assert.equal(ran.size, 300);
    assert.ok([...ran.values()].every((runs) => runs === 1), "no handler ran twice");
    assert.equal(await count(pool, "SELECT count(*) AS n FROM knocker.knocker_attempts"), 300);
  } finally {
    await pool.end();
    await otherPool.end();
  }
});
