// Issue 2, must show 4: a worker process SIGKILLed inside a handler. The handler has already
// written its business row through `tx` (uncommitted) when the process dies; after the
// visibility timeout another process claims the job again. Real child processes, a real file or
// a real Postgres server (the engine matrix).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { open, type OpenOptions } from "../src/index.js";
import { engineMatrix, type TestEngine } from "./support/engines.js";
import { Child, fixture, sleep } from "./support/processes.js";

interface LiveJob {
  state: string;
  worker_id: string | null;
  attempts: number;
  max_attempts: number;
  claim_expires_at: number | null;
}

/** The app's connection: its business table, and a look at the queue, on either engine. */
async function appConnection(engine: TestEngine, path: string) {
  if (engine.name === "sqlite") {
    const db = new Database(path);
    db.exec("CREATE TABLE business (event_key TEXT NOT NULL UNIQUE, event_id INTEGER NOT NULL, worker TEXT NOT NULL)");
    return {
      all: async <T>(text: string, ...params: unknown[]) => db.prepare(text).all(...params) as T[],
      eventIdOf: "json_extract(payload, '$.event_id')",
      healthy: async () => assert.equal(db.pragma("integrity_check", { simple: true }), "ok"),
      close: async () => void db.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: path, max: 2, options: "-c search_path=knocker,public" });
  await pool.query("CREATE TABLE public.business (event_key text NOT NULL UNIQUE, event_id bigint NOT NULL, worker text NOT NULL)");
  return {
    all: async <T>(text: string, ...params: unknown[]) => {
      let n = 0;
      return (await pool.query({ text: text.replace(/\?/g, () => `$${++n}`), values: params, types: { getTypeParser: numbers } })).rows as T[];
    },
    eventIdOf: "knocker_job_event_id(payload)",
    healthy: async () => {},
    close: () => pool.end(),
  };
}

/** bigint columns as numbers, as on SQLite. */
const numbers = ((oid: number, format?: string) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as never))) as typeof pg.types.getTypeParser;

async function setup(engine: TestEngine, options: OpenOptions) {
  const path = (await engine.location()).db;
  const app = await appConnection(engine, path);
  const webhooks = open(path, options);
  const acme = webhooks.endpoint("acme", { path: "/acme" });
  const receive = async (key: string) =>
    (await acme.receive({ body: JSON.stringify({ order: key }), eventType: "order.paid", dedupeKey: key })).eventId!;
  const jobsFor = (eventId: number) =>
    app.all<LiveJob>(`SELECT state, worker_id, attempts, max_attempts, claim_expires_at FROM _honker_live WHERE ${app.eventIdOf} = ?`, eventId);
  const businessRows = () => app.all("SELECT event_key, event_id, worker FROM business ORDER BY event_id, event_key");
  const spawnWorker = (mode: "worker" | "victim") =>
    new Child(fixture("worker-child.ts"), [JSON.stringify({ path, options, mode, reportEach: true })]);
  const close = async () => {
    await webhooks.close();
    await app.close();
  };
  return { path, webhooks, app, receive, jobsFor, businessRows, spawnWorker, close };
}

/** Poll (from this process) until `predicate` holds. */
async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}

/** CONTRACT §5: an event still to be worked on always has its job. */
async function assertNoEventWithoutJob({ app, webhooks }: Awaited<ReturnType<typeof setup>>): Promise<void> {
  const orphans = await app.all(
    `SELECT id, status FROM knocker_events e WHERE status IN ('received', 'failed') AND NOT EXISTS (
       SELECT 1 FROM _honker_live j WHERE j.queue = ? AND ${app.eventIdOf.replace("payload", "j.payload")} = e.id)`,
    webhooks.queueName,
  );
  assert.deepEqual(orphans, [], "a received/failed event without a live job");
}

/** Start a victim worker, wait until it is blocked inside the handler for `eventId`, kill it. */
async function killInsideHandler(env: Awaited<ReturnType<typeof setup>>, eventId: number) {
  const victim = env.spawnWorker("victim");
  const inHandler = await victim.next("in-handler", 30_000);
  assert.equal(inHandler.eventId, eventId);

  // The claim is committed (durable before the handler ran); the business row is not.
  const [claim] = await env.jobsFor(eventId);
  assert.ok(claim, "the claimed job must exist while its handler runs");
  assert.equal(claim.state, "processing");
  assert.equal(claim.worker_id, `victim-${victim.pid}`);
  assert.equal(claim.attempts, 1);
  assert.deepEqual(await env.businessRows(), [], "the handler's write must not be visible before its commit");

  victim.kill("SIGKILL");
  const exit = await victim.closed;
  assert.equal(exit.signal, "SIGKILL", victim.stderr);
  assert.deepEqual(victim.of("error"), []);

  // Killed mid-transaction: the write is gone, the claim is still there, waiting to expire.
  assert.deepEqual(await env.businessRows(), []);
  assert.deepEqual(await env.jobsFor(eventId), [claim]);
  assert.equal((await env.webhooks.getEvent(eventId))!.status, "received");
  await assertNoEventWithoutJob(env);
  return { claim: claim as LiveJob & { claim_expires_at: number }, killedAt: Date.now() };
}

for (const engine of engineMatrix()) {
  describe(engine.name, () => {
    test("a worker killed inside a handler: another process handles the event after the visibility timeout, business row exactly once", async (t) => {
      const env = await setup(engine, { visibilityTimeoutS: 2, maxAttempts: 3 });
      t.after(() => env.close());
      const eventId = await env.receive("order-1");

      const { claim } = await killInsideHandler(env, eventId);

      const rescuer = env.spawnWorker("worker");
      t.after(() => rescuer.kill());
      const handled = await rescuer.next("handler", 30_000);
      assert.equal(handled.eventId, eventId);
      // Not before the dead worker's claim expired (claim_expires_at is in unix seconds).
      assert.ok(
        Math.floor((handled.t as number) / 1000) >= claim.claim_expires_at,
        `re-run at ${String(handled.t)} ms, claim expires at ${claim.claim_expires_at} s`,
      );
      await waitUntil(async () => (await env.webhooks.getEvent(eventId))!.status === "handled", 15_000, "the event is handled");

      rescuer.send({ type: "stop" });
      const stopped = await rescuer.next("stopped", 15_000);
      assert.equal((await rescuer.closed).code, 0, rescuer.stderr);
      assert.equal(stopped.handlerCalls, 1, "the rescuer ran the handler once");
      assert.equal(stopped.errors, 0, JSON.stringify(rescuer.of("error")));

      // The business row exists exactly once, written by the rescuer; the victim's write was rolled back.
      assert.deepEqual(await env.businessRows(), [{ event_key: "order-1", event_id: eventId, worker: `worker-${rescuer.pid}` }]);
      const event = (await env.webhooks.getEvent(eventId))!;
      assert.equal(event.status, "handled");
      assert.equal(event.lastError, null);
      assert.ok(event.handledAt !== null);
      // Attempt history: the killed run's transaction never committed; the rescuer records it as the
      // failed attempt it was (its claim expired), then its own run as handled.
      assert.equal(event.attemptCount, 2);
      const history = await env.webhooks.listAttempts(eventId);
      assert.deepEqual(history.map((a) => a.outcome), ["handled", "failed"]);
      assert.equal(history[0]!.error, null);
      assert.match(history[1]!.error ?? "", /^claim expired on attempt 1 of 3 before an outcome was recorded/);
      assert.deepEqual(await env.jobsFor(eventId), [], "acked");
      assert.deepEqual(await env.app.all("SELECT id FROM _honker_dead"), []);
      await env.app.healthy();
    });

    test("a worker killed inside a handler on the last allowed attempt: the event is dead-lettered with a claim-expired error, never left without a job", async (t) => {
      const env = await setup(engine, { visibilityTimeoutS: 1, maxAttempts: 1 });
      t.after(() => env.close());
      const eventId = await env.receive("order-1");

      const { claim } = await killInsideHandler(env, eventId);
      assert.equal(claim.max_attempts, 1);

      const rescuer = env.spawnWorker("worker");
      t.after(() => rescuer.kill());
      await rescuer.next("ready", 30_000);
      await waitUntil(async () => (await env.webhooks.getEvent(eventId))!.status !== "received", 15_000, "the expired claim is settled");

      const event = (await env.webhooks.getEvent(eventId))!;
      assert.equal(event.status, "dead");
      assert.match(event.lastError ?? "", /claim expired on the final attempt \(1 of 1\)/);
      const attempts = await env.webhooks.listAttempts(eventId);
      assert.deepEqual(attempts.map((a) => a.outcome), ["dead"]);
      assert.match(attempts[0]!.error ?? "", /claim expired/);
      assert.deepEqual(await env.jobsFor(eventId), [], "no live job is left");
      const dead = await env.app.all<{ payload: string; attempts: number; max_attempts: number; last_error: string }>(
        "SELECT payload, attempts, max_attempts, last_error FROM _honker_dead");
      assert.equal(dead.length, 1);
      assert.deepEqual(JSON.parse(dead[0]!.payload), { event_id: eventId });
      assert.equal(dead[0]!.attempts, 1);
      assert.equal(dead[0]!.max_attempts, 1);
      assert.match(dead[0]!.last_error, /claim expired/);
      await assertNoEventWithoutJob(env);

      // The rescuer never ran the dead event's handler, and keeps serving new work.
      const nextId = await env.receive("order-2");
      const handled = await rescuer.next("handler", 15_000);
      assert.equal(handled.eventId, nextId);
      await waitUntil(async () => (await env.webhooks.getEvent(nextId))!.status === "handled", 15_000, "the next event is handled");
      rescuer.send({ type: "stop" });
      const stopped = await rescuer.next("stopped", 15_000);
      assert.equal((await rescuer.closed).code, 0, rescuer.stderr);
      assert.equal(stopped.handlerCalls, 1);
      assert.equal(stopped.errors, 0, JSON.stringify(rescuer.of("error")));
      assert.deepEqual(await env.businessRows(), [{ event_key: "order-2", event_id: nextId, worker: `worker-${rescuer.pid}` }]);
      assert.equal((await env.webhooks.getEvent(eventId))!.status, "dead", "the dead event stays dead");
      await env.app.healthy();
    });
  });
}
