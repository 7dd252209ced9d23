// Async handlers (CONTRACT §10): `handle(type, fn, { transaction: false })` runs outside every
// transaction, at most `concurrency` at once per worker, with a heartbeat on its claim, a
// timeout, a finalizer that commits with the ack, and a graceful shutdown. Real SQLite files.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import { KnockerError, open, type AsyncHandler, type Event, type HandlerContext, type OpenOptions, type RunWorkerOptions } from "../src/index.js";
import { engineMatrix, type TestEngine } from "./support/engines.js";
import { tempDbPath } from "./support.js";

const engines = engineMatrix();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An inbox on a file that also holds the app's `business` table; a trusted endpoint "acme". */
function setup(options: OpenOptions = {}) {
  const db = new Database(tempDbPath());
  db.exec("CREATE TABLE business (event_id INTEGER NOT NULL UNIQUE, note TEXT)");
  const webhooks = open(db, { retryBackoff: false, ...options });
  const acme = webhooks.endpoint("acme", { path: "/acme" });
  let n = 0;
  const ingest = async (eventType = "order.paid") =>
    (await acme.ingest({ body: JSON.stringify({ n: n++ }), eventType, dedupeKey: `k-${n}-${Math.random()}` })).eventId!;
  const business = () => db.prepare("SELECT event_id, note FROM business ORDER BY event_id").all() as Array<{ event_id: number; note: string }>;
  const status = async (id: number) => (await webhooks.getEvent(id))!.status;
  const close = () => {
    webhooks.close();
    db.close();
  };
  return { db, webhooks, acme, ingest, business, status, close };
}

/** The same on any engine, without the business table: a trusted endpoint "acme". */
async function setupOn(engine: TestEngine, options: OpenOptions = {}) {
  const webhooks = await engine.open({ retryBackoff: false, ...options });
  const acme = webhooks.endpoint("acme", { path: "/acme" });
  let n = 0;
  const ingest = async (eventType = "order.paid") =>
    (await acme.ingest({ body: JSON.stringify({ n: n++ }), eventType, dedupeKey: `k-${n}-${Math.random()}` })).eventId!;
  const status = async (id: number) => (await webhooks.getEvent(id))!.status;
  return { webhooks, acme, ingest, status, close: () => webhooks.close() };
}

/** Start a worker; `stop()` aborts it and resolves once runWorker() resolved. */
function worker(webhooks: ReturnType<typeof setup>["webhooks"], options: Omit<RunWorkerOptions, "signal"> = {}) {
  const controller = new AbortController();
  const errors: unknown[] = [];
  const running = webhooks.runWorker({ onError: (error) => errors.push(error), ...options, signal: controller.signal });
  return {
    errors,
    running,
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(10);
  }
}

for (const engine of engines) {
  describe(engine.name, () => {
    test("100 events whose handlers each await 50 ms: never more than `concurrency` in flight, far faster than serial", async () => {
      const { webhooks, acme, ingest, status, close } = await setupOn(engine);
      let inFlight = 0;
      let maxInFlight = 0;
      let runs = 0;
      acme.handle(async () => {
        inFlight++;
        runs++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(50);
        inFlight--;
      }, { transaction: false });
      const ids: number[] = [];
      for (let i = 0; i < 100; i++) ids.push(await ingest());
      const started = performance.now();
      const w = worker(webhooks, { concurrency: 8 });
      await waitFor(async () => (await webhooks.listEvents({ status: "handled", limit: 200 })).length === 100, 20_000, "all 100 are handled");
      const elapsed = performance.now() - started;
      await w.stop();
      assert.deepEqual(w.errors, []);
      assert.equal(runs, 100, "each handler ran once");
      assert.equal(maxInFlight, 8, "the cap was reached and never passed");
      // Serial: 100 x 50 ms = 5 s. With 8 at a time, ~13 rounds of 50 ms plus commits.
      assert.ok(elapsed < 2500, `took ${elapsed.toFixed(0)} ms, serial would be 5000 ms`);
      for (const id of ids) assert.equal(await status(id), "handled");
      await close();
    });

    test("a handler past its timeoutS sees its signal abort, the attempt fails naming the timeout, and the event is retried", async () => {
      const { webhooks, acme, ingest, status, close } = await setupOn(engine, { maxAttempts: 3 });
      const contexts: Array<{ attempt: number; key: string; workerId: string; abortedWith?: unknown }> = [];
      acme.handle(async (_event, ctx: HandlerContext) => {
        const seen: (typeof contexts)[number] = { attempt: ctx.attempt, key: ctx.idempotencyKey, workerId: ctx.workerId };
        contexts.push(seen);
        if (ctx.attempt === 1) {
          await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
          seen.abortedWith = ctx.signal.reason;
        }
      }, { transaction: false, timeoutS: 0.3 });
      const id = await ingest();
      const w = worker(webhooks, { workerId: "w-timeout" });
      await waitFor(async () => (await status(id)) === "handled", 5000, "the retry handles it");
      await w.stop();
      assert.deepEqual(contexts.map((c) => c.attempt), [1, 2]);
      assert.ok(contexts[0]!.abortedWith instanceof KnockerError && contexts[0]!.abortedWith.code === "ERR_HANDLER_TIMEOUT");
      assert.equal(contexts[0]!.key, contexts[1]!.key, "one idempotency key across the retries");
      assert.deepEqual(contexts.map((c) => c.workerId), ["w-timeout", "w-timeout"]);
      const attempts = await webhooks.listAttempts(id);
      assert.deepEqual(attempts.map((a) => a.outcome), ["handled", "failed"]); // newest first
      assert.equal(attempts[1]!.error, "async handler timed out after timeoutS (0.3 s) on attempt 1");
      assert.ok(attempts[1]!.durationMs! >= 250, `the timed-out attempt lasted ${attempts[1]!.durationMs} ms`);
      await close();
    });

    test("idempotency keys differ between events, also across inboxes whose event ids coincide", async () => {
      const keys: string[] = [];
      for (const _ of [1, 2]) {
        const { webhooks, acme, ingest, close } = await setupOn(engine);
        acme.handle(async (_event, ctx) => {
          keys.push(ctx.idempotencyKey);
        }, { transaction: false });
        await ingest();
        await ingest();
        const w = worker(webhooks);
        await waitFor(async () => (await webhooks.listEvents({ status: "handled" })).length === 2, 5000, "both handled");
        await w.stop();
        await close();
      }
      assert.equal(keys.length, 4);
      assert.equal(new Set(keys).size, 4, JSON.stringify(keys));
      for (const key of keys) assert.match(key, /^knocker-\d+-[A-Za-z0-9_-]{22}$/);
    });

    test("a handler running for 3x visibilityTimeoutS keeps its claim: a second worker never runs it", async () => {
      const { webhooks, acme, ingest, status, close } = await setupOn(engine, { visibilityTimeoutS: 1 });
      const runs: string[] = [];
      acme.handle(async (_event, ctx) => {
        runs.push(ctx.workerId);
        await sleep(3200);
      }, { transaction: false, timeoutS: 30 });
      const id = await ingest();
      const a = worker(webhooks, { workerId: "a" });
      await waitFor(() => runs.length === 1, 5000, "worker a runs it");
      const b = worker(webhooks, { workerId: "b" }); // polls the queue all along; would claim an expired job
      await waitFor(async () => (await status(id)) === "handled", 10_000, "handled");
      await Promise.all([a.stop(), b.stop()]);
      assert.deepEqual(runs, ["a"]);
      assert.deepEqual(a.errors, []);
      assert.equal((await webhooks.getEvent(id))!.attemptCount, 1);
      await close();
    });

    test("without the heartbeat's renewal the claim would expire: a handler that blocks the event loop past it loses the claim", async () => {
      // The control for the test above: the same two workers, but the handler blocks the thread
      // (no heartbeat can run) for longer than the claim lasts, so worker b takes the job over.
      const { webhooks, acme, ingest, status, close } = await setupOn(engine, { visibilityTimeoutS: 1, maxAttempts: 5 });
      const runs: string[] = [];
      acme.handle(async (_event, ctx) => {
        runs.push(ctx.workerId);
        if (runs.length === 1) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2600);
      }, { transaction: false, timeoutS: 30 });
      const id = await ingest();
      const a = worker(webhooks, { workerId: "a" });
      const b = worker(webhooks, { workerId: "b" });
      await waitFor(async () => (await status(id)) === "handled", 10_000, "handled");
      await Promise.all([a.stop(), b.stop()]);
      // The first run outlived its claim; whichever worker claimed the expired job ran it again.
      assert.equal(runs.length, 2, JSON.stringify(runs));
      assert.ok([...a.errors, ...b.errors].some((e) => e instanceof KnockerError && e.code === "ERR_CLAIM_LOST"), "the first run's worker reports its lost claim");
      assert.equal((await webhooks.getEvent(id))!.attemptCount, 2);
      await close();
    });

    test("graceful shutdown waits for async handlers in flight", async () => {
      const { webhooks, acme, ingest, status, close } = await setupOn(engine);
      let started = 0;
      let finished = 0;
      acme.handle(async () => {
        started++;
        await sleep(300);
        finished++;
      }, { transaction: false });
      const ids = [await ingest(), await ingest(), await ingest()];
      const w = worker(webhooks);
      await waitFor(() => started === 3, 5000, "the three are running");
      const t0 = performance.now();
      await w.stop();
      const waited = performance.now() - t0;
      assert.equal(finished, 3);
      assert.ok(waited >= 150, `runWorker() resolved after ${waited.toFixed(0)} ms, before its handlers finished`);
      for (const id of ids) assert.equal(await status(id), "handled");
      await close();
    });

    test("handle() and runWorker() options are checked at once", async () => {
      const { webhooks, acme, close } = await setupOn(engine);
      const bad: Array<[unknown, RegExp]> = [
        [{ transaction: "no" }, /option "transaction" must be a boolean/],
        [{ transaction: false, timeoutS: 0 }, /option "timeoutS" must be a number of seconds above 0/],
        [{ transaction: false, timeoutS: Number.NaN }, /option "timeoutS"/],
        [{ transaction: true, timeoutS: 5 }, /"timeoutS" is for async handlers/],
        [{ timeoutS: 5 }, /"timeoutS" is for async handlers/],
      ];
      for (const [options, message] of bad) {
        assert.throws(() => acme.handle("x", async () => {}, options as never), (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_OPTION" && message.test(e.message));
      }
      assert.throws(() => acme.handle("x", async () => {}, { transaction: false, retries: 1 } as never), /handle\(\) has no option "retries"/);
      for (const [options, message] of [[{ concurrency: 0 }, /"concurrency" must be an integer from 1/], [{ concurrency: 2.5 }, /"concurrency"/], [{ shutdownTimeoutS: -1 }, /"shutdownTimeoutS"/]] as const) {
        await assert.rejects(webhooks.runWorker(options), (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_OPTION" && message.test(e.message));
      }
      await close();
    });
  });
}

// SQLite: handlers and finalizers that write the app's table through tx.run.
test("receive() resolves while 8 async handlers are blocked on promises that never settle; close() hands their claims back", async () => {
  const { db, webhooks, acme, ingest, close } = setup({ visibilityTimeoutS: 60 });
  const started = new Set<number>();
  acme.handle((event) => {
    started.add(event.id);
    return new Promise<void>(() => {}); // never settles
  }, { transaction: false });
  const blocked: number[] = [];
  for (let i = 0; i < 8; i++) blocked.push(await ingest());
  const w = worker(webhooks, { concurrency: 8 });
  await waitFor(() => started.size === 8, 5000, "8 handlers are running");
  const t0 = performance.now();
  const result = await acme.receive({ body: JSON.stringify({ late: true }), headers: {} });
  const ms = performance.now() - t0;
  assert.equal(result.statusCode, 204);
  assert.ok(result.eventId! > Math.max(...blocked));
  assert.ok(ms < 1000, `receive() took ${ms.toFixed(0)} ms while async handlers were blocked`);
  // At the cap the worker claims nothing more: the new event is still waiting.
  await sleep(200);
  assert.equal(started.has(result.eventId!), false);
  assert.equal((await webhooks.getEvent(result.eventId!))!.status, "received");
  // close() does not wait for handlers that never settle; their claims go back, attempts refunded.
  webhooks.close();
  await w.running;
  const claims = db.prepare("SELECT state, attempts FROM _honker_live ORDER BY id").all() as Array<{ state: string; attempts: number }>;
  assert.equal(claims.length, 9);
  assert.ok(claims.every((claim) => claim.state === "pending" && claim.attempts === 0), JSON.stringify(claims));
  close();
});

test("a finalizer's writes commit with the ack, and roll back with it when the finalizer throws", async () => {
  const { db, webhooks, acme, ingest, business, status, close } = setup({ maxAttempts: 1 });
  acme.handle("order.paid", async (event) => {
    await sleep(5);
    return (tx) => {
      tx.run("INSERT INTO business (event_id, note) VALUES (?, 'paid')", [event.id]);
    };
  }, { transaction: false });
  acme.handle("order.broken", async (event) => {
    await sleep(5);
    return (tx) => {
      tx.run("INSERT INTO business (event_id, note) VALUES (?, 'broken')", [event.id]);
      throw new Error("finalizer failed after its write");
    };
  }, { transaction: false });
  const paid = await ingest("order.paid");
  const broken = await ingest("order.broken");
  const w = worker(webhooks);
  await waitFor(async () => (await status(paid)) === "handled" && (await status(broken)) === "dead", 5000, "both settle");
  await w.stop();
  assert.deepEqual(business(), [{ event_id: paid, note: "paid" }]);
  const dead = (await webhooks.getEvent(broken))!;
  assert.equal(dead.lastError, "finalizer failed after its write");
  assert.deepEqual((await webhooks.listAttempts(broken)).map((a) => a.outcome), ["dead"]);
  assert.deepEqual((await webhooks.listAttempts(paid)).map((a) => a.outcome), ["handled"]);
  assert.equal(db.prepare("SELECT COUNT(*) FROM _honker_live").pluck().get(), 0, "both jobs acked or dead-lettered");
  close();
});

test("a finalizer that returns a Promise, or a handler resolving to something else, fails the attempt with a clear error", async () => {
  const { webhooks, acme, ingest, business, close } = setup({ maxAttempts: 1 });
  acme.handle("async.finalizer", (async (event: Event) => async (tx: { run(sql: string, p: unknown[]): void }) => {
    tx.run("INSERT INTO business (event_id, note) VALUES (?, 'never')", [event.id]);
  }) as unknown as AsyncHandler, { transaction: false });
  acme.handle("odd.result", (async () => 42) as unknown as AsyncHandler, { transaction: false });
  const a = await ingest("async.finalizer");
  const b = await ingest("odd.result");
  const w = worker(webhooks);
  await waitFor(async () => (await webhooks.listEvents({ status: "dead" })).length === 2, 5000, "both dead");
  await w.stop();
  assert.match((await webhooks.getEvent(a))!.lastError!, /finalizer returned a Promise/);
  assert.match((await webhooks.getEvent(b))!.lastError!, /resolved to number: expected nothing, or a finalizer function/);
  assert.deepEqual(business(), [], "the async finalizer's write was rolled back");
  close();
});

test("past shutdownTimeoutS, handlers in flight are aborted and their claims handed back with the attempt refunded", async () => {
  const { db, webhooks, acme, ingest, status, close } = setup();
  const reasons: unknown[] = [];
  let slow = true;
  let running = false;
  acme.handle(async (_event, ctx) => {
    if (!slow) return;
    running = true;
    ctx.signal.addEventListener("abort", () => reasons.push(ctx.signal.reason));
    await sleep(5000); // ignores its signal
  }, { transaction: false });
  const id = await ingest();
  const w = worker(webhooks, { shutdownTimeoutS: 0.2 });
  await waitFor(() => running, 5000, "the handler runs");
  const t0 = performance.now();
  await w.stop();
  const waited = performance.now() - t0;
  assert.ok(waited >= 180 && waited < 2000, `stopped after ${waited.toFixed(0)} ms`);
  assert.equal(reasons.length, 1);
  assert.ok(reasons[0] instanceof KnockerError && reasons[0].code === "ERR_SHUTDOWN");
  const event = (await webhooks.getEvent(id))!;
  assert.equal(event.status, "received");
  assert.equal(event.attemptCount, 0);
  assert.deepEqual(await webhooks.listAttempts(id), []);
  assert.deepEqual(db.prepare("SELECT state, attempts FROM _honker_live").all(), [{ state: "pending", attempts: 0 }]);
  // The next worker runs it from the first attempt.
  slow = false;
  const again = worker(webhooks);
  await waitFor(async () => (await status(id)) === "handled", 5000, "handled by the next worker");
  await again.stop();
  assert.equal((await webhooks.getEvent(id))!.attemptCount, 1);
  close();
});

test("transactional and async handlers share one worker; an async handler's failure is retried like any other", async () => {
  const { webhooks, acme, ingest, business, status, close } = setup({ maxAttempts: 2 });
  acme.handle("sync.kind", (event, tx) => {
    tx.run("INSERT INTO business (event_id, note) VALUES (?, 'sync')", [event.id]);
  });
  let calls = 0;
  acme.handle("async.kind", async (event, ctx) => {
    calls++;
    if (ctx.attempt === 1) throw new Error("upstream 502");
    return (tx) => tx.run("INSERT INTO business (event_id, note) VALUES (?, 'async')", [event.id]);
  }, { transaction: false });
  const s = await ingest("sync.kind");
  const a = await ingest("async.kind");
  const w = worker(webhooks);
  await waitFor(async () => (await status(s)) === "handled" && (await status(a)) === "handled", 5000, "both handled");
  await w.stop();
  assert.equal(calls, 2);
  assert.deepEqual(business(), [{ event_id: s, note: "sync" }, { event_id: a, note: "async" }]);
  assert.equal((w.errors[0] as Error).message, "upstream 502");
  assert.deepEqual((await webhooks.listAttempts(a)).map((x) => [x.outcome, x.error]), [["handled", null], ["failed", "upstream 502"]]); // newest first
  close();
});

test("an event ignored while its async handler runs stays ignored; nothing is recorded for the run", async () => {
  const { webhooks, acme, ingest, business, status, close } = setup();
  let release!: () => void;
  acme.handle(async (event) => {
    await new Promise<void>((resolve) => (release = resolve));
    return (tx) => tx.run("INSERT INTO business (event_id, note) VALUES (?, 'late')", [event.id]);
  }, { transaction: false });
  const id = await ingest();
  const w = worker(webhooks);
  await waitFor(() => release !== undefined, 5000, "the handler runs");
  await webhooks.ignore(id);
  release();
  await sleep(100);
  await w.stop();
  assert.equal(await status(id), "ignored");
  assert.deepEqual(business(), []);
  assert.deepEqual(w.errors, []);
  close();
});
