// CONTRACT §5: every row of the event lifecycle table, through the public API.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import { KnockerError, open, type Event, type HandlerTx, type Knocker } from "../src/index.js";
import { engineMatrix, type TestEngine } from "./support/engines.js";
import { drain, tempDbPath } from "./support.js";

const engines = engineMatrix();

const T0 = 1_700_000_000;

// Each setup() opens the inbox on the test's own connection, as an app does, to make its business
// table and to read the queue's rows; they are closed when the file's tests are done.
const connections: Database.Database[] = [];
after(() => connections.forEach((db) => db.close()));

function setup(options: Parameters<typeof open>[1] = {}) {
  const clock = { now: T0 };
  const db = new Database(tempDbPath());
  connections.push(db);
  const webhooks = open(db, { retryBackoff: false, now: () => clock.now, ...options });
  db.exec("CREATE TABLE business (event_id INTEGER, note TEXT)");
  const ep = webhooks.endpoint("acme", { path: "/acme" });
  const q = (sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as Record<string, unknown>[];
  const one = (sql: string, ...params: unknown[]) => db.prepare(sql).pluck().get(...params);
  const ingest = async (type: string, key?: string, body: unknown = { type }) =>
    (await ep.receive({ body: JSON.stringify(body), eventType: type, dedupeKey: key ?? null })).eventId!;
  return { webhooks, ep, clock, q, one, ingest };
}

/** The same on any engine, without the business table; its rows read through the engine's `sql`. */
async function setupOn(engine: TestEngine, options: Parameters<typeof open>[1] = {}) {
  const clock = { now: T0 };
  const { webhooks, sql } = await engine.inbox({ retryBackoff: false, now: () => clock.now, ...options });
  const ep = webhooks.endpoint("acme", { path: "/acme" });
  const ingest = async (type: string, key?: string, body: unknown = { type }) =>
    (await ep.receive({ body: JSON.stringify(body), eventType: type, dedupeKey: key ?? null })).eventId!;
  return { webhooks, ep, clock, q: sql.all, one: sql.one, ingest };
}

const isCode = (code: string) => (e: unknown) => e instanceof KnockerError && e.code === code;
const statusesOf = async (w: Knocker, ids: readonly number[]) =>
  (await Promise.all(ids.map((id) => w.getEvent(id)))).map((event) => event!.status);
const settled = (w: Knocker, id: number) => async () => !["received", "failed"].includes((await w.getEvent(id))!.status);

for (const engine of engines) {
  describe(engine.name, () => {
    test("retries follow the exponential backoff and the last failure dead-letters: dead, attempt row, job in _honker_dead", async () => {
      const { webhooks, ep, ingest, q, clock } = await setupOn(engine, { maxAttempts: 3, retryBackoff: { initialS: 4, maxS: 6 } });
      let calls = 0;
      ep.handle(() => {
        calls++;
        throw new Error(`boom ${calls}`);
      });
      const id = await ingest("x");
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt++) {
        await drain(webhooks, async () => (await webhooks.listAttempts(id)).length === attempt);
        const job = (await q("SELECT run_at FROM _honker_live"))[0];
        if (job) {
          delays.push((job.run_at as number) - clock.now);
          clock.now = job.run_at as number; // jump to when the retry is due
        }
      }
      assert.equal(calls, 3);
      assert.ok(delays[0]! >= 2 && delays[0]! <= 4, `first delay ${delays[0]}`);
      assert.ok(delays[1]! >= 3 && delays[1]! <= 6, `second delay capped by maxS: ${delays[1]}`);
      const event = (await webhooks.getEvent(id))!;
      assert.equal(event.status, "dead");
      assert.equal(event.lastError, "boom 3");
      assert.deepEqual((await webhooks.listAttempts(id)).map((a) => a.outcome), ["dead", "failed", "failed"], "newest first");
      assert.equal((await q("SELECT COUNT(*) AS n FROM _honker_live"))[0]!.n, 0);
      const [dead] = await q("SELECT queue, payload, attempts, last_error FROM _honker_dead");
      assert.deepEqual(dead, { queue: "knocker.events", payload: JSON.stringify({ event_id: id }), attempts: 3, last_error: "boom 3" });
      await webhooks.close();
    });

    test("no handler for the type and no fallback: dead immediately, error names endpoint and type", async () => {
      const { webhooks, ep, ingest, q } = await setupOn(engine, { maxAttempts: 5 });
      ep.handle("known", () => {});
      const id = await ingest("unknown.type");
      await drain(webhooks, settled(webhooks, id));
      const event = (await webhooks.getEvent(id))!;
      assert.equal(event.status, "dead");
      assert.match(event.lastError!, /endpoint "acme".*event type "unknown.type"/);
      assert.equal((await webhooks.listAttempts(id))[0]!.outcome, "dead");
      assert.equal((await q("SELECT COUNT(*) AS n FROM _honker_dead"))[0]!.n, 1);
      await webhooks.close();
    });

    test("exact type handler first, then the endpoint's fallback; handle({endpoint, eventType}) is equivalent", async () => {
      const { webhooks, ep, ingest } = await setupOn(engine);
      const seen: string[] = [];
      webhooks.handle({ endpoint: "acme", eventType: "a" }, () => void seen.push("exact:a"));
      ep.handle((event) => void seen.push(`fallback:${event.eventType}`));
      const ids = [await ingest("a"), await ingest("b")];
      await drain(webhooks, async () => (await statusesOf(webhooks, ids)).every((status) => status === "handled"));
      assert.deepEqual(seen.sort(), ["exact:a", "fallback:b"]);
      assert.throws(() => ep.handle("a", () => {}), isCode("ERR_INVALID_ARGUMENT"));
      assert.throws(() => ep.handle(() => {}), isCode("ERR_INVALID_ARGUMENT"));
      assert.throws(() => webhooks.handle({ endpoint: "nope" }, () => {}), isCode("ERR_UNKNOWN_ENDPOINT"));
      await webhooks.close();
    });

    test("ignore(): received, failed and dead become ignored with an attempt row; ignored is a no-op; others refuse", async () => {
      const { webhooks, ep, ingest, one } = await setupOn(engine, { maxAttempts: 1 });
      ep.handle("fail", () => {
        throw new Error("nope");
      });
      ep.handle("ok", () => {});
      const received = await ingest("ok");
      assert.equal((await webhooks.ignore(received)).status, "ignored");
      const dead = await ingest("fail");
      await drain(webhooks, settled(webhooks, dead));
      assert.equal((await webhooks.getEvent(dead))!.status, "dead");
      assert.equal((await webhooks.ignore(dead)).status, "ignored");
      assert.equal((await webhooks.listAttempts(dead))[0]!.outcome, "ignored");
      const attempts = (await webhooks.listAttempts(dead)).length;
      assert.equal((await webhooks.ignore(dead)).status, "ignored", "ignoring twice is a no-op");
      assert.equal((await webhooks.listAttempts(dead)).length, attempts);

      const handled = await ingest("ok");
      await drain(webhooks, settled(webhooks, handled));
      await assert.rejects(webhooks.ignore(handled), (e: unknown) => isCode("ERR_INVALID_STATE")(e) && /status is "handled"/.test((e as Error).message));
      await assert.rejects(webhooks.ignore(999), isCode("ERR_UNKNOWN_EVENT"));
      assert.ok((await one("SELECT COUNT(*) FROM knocker_attempts WHERE outcome = 'ignored'") as number) >= 2);
      await webhooks.close();
    });

    test("failed → ignored via ignore(), and the worker acks an ignored event's job quietly without running a handler", async () => {
      const { webhooks, ep, ingest, one, clock } = await setupOn(engine, { maxAttempts: 3, retryBackoff: { initialS: 10, maxS: 10 } });
      let calls = 0;
      ep.handle(() => {
        calls++;
        throw new Error("flaky");
      });
      const id = await ingest("x");
      await drain(webhooks, async () => (await webhooks.getEvent(id))!.status === "failed");
      assert.equal((await webhooks.ignore(id)).status, "ignored");
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live"), 1, "the retry job is still queued");
      clock.now += 1000;
      await drain(webhooks, async () => (await one("SELECT COUNT(*) FROM _honker_live")) === 0);
      assert.equal(calls, 1, "no handler ran for the ignored event");
      assert.equal((await webhooks.getEvent(id))!.status, "ignored");
      await webhooks.close();
    });

    test("replay(): handled, failed, dead and ignored go back to received with counters reset and one fresh job", async () => {
      const { webhooks, ep, ingest, one } = await setupOn(engine, { maxAttempts: 1 });
      let fail = true;
      ep.handle(() => {
        if (fail) throw new Error("first time");
      });
      const id = await ingest("x");
      await assert.rejects(webhooks.replay(id), isCode("ERR_INVALID_STATE"), "received cannot be replayed");
      await drain(webhooks, settled(webhooks, id));
      assert.equal((await webhooks.getEvent(id))!.status, "dead");
      for (const from of ["dead", "handled", "ignored"]) {
        assert.equal((await webhooks.getEvent(id))!.status, from);
        const replayed = await webhooks.replay(id);
        assert.deepEqual([replayed.status, replayed.attemptCount, replayed.lastError, replayed.handledAt], ["received", 0, null, null]);
        assert.equal(await one("SELECT COUNT(*) FROM _honker_live"), 1);
        if (from === "handled") {
          await webhooks.ignore(id);
          continue;
        }
        fail = false;
        await drain(webhooks, settled(webhooks, id));
      }
      await webhooks.close();
    });

    test("replay() of a failed event removes its pending retry job instead of adding a second one", async () => {
      const { webhooks, ep, ingest, one } = await setupOn(engine, { maxAttempts: 3, retryBackoff: { initialS: 100, maxS: 100 } });
      ep.handle(() => {
        throw new Error("x");
      });
      const id = await ingest("x");
      await drain(webhooks, async () => (await webhooks.getEvent(id))!.status === "failed");
      await webhooks.replay(id);
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live"), 1);
      assert.equal(await one("SELECT state FROM _honker_live"), "pending");
      assert.equal(await one("SELECT attempts FROM _honker_live"), 0);
      await webhooks.close();
    });

    test("requeue(): failed, dead and ignored go back to received; handled and received refuse", async () => {
      const { webhooks, ep, ingest } = await setupOn(engine, { maxAttempts: 1 });
      let fail = true;
      ep.handle(() => {
        if (fail) throw new Error("x");
      });
      const id = await ingest("x");
      await assert.rejects(webhooks.requeue(id), isCode("ERR_INVALID_STATE"));
      await drain(webhooks, settled(webhooks, id));
      assert.equal((await webhooks.requeue(id)).status, "received");
      await webhooks.ignore(id);
      assert.equal((await webhooks.requeue(id)).status, "received");
      fail = false;
      await drain(webhooks, settled(webhooks, id));
      assert.equal((await webhooks.getEvent(id))!.status, "handled");
      await assert.rejects(webhooks.requeue(id), isCode("ERR_INVALID_STATE"));
      await webhooks.close();
    });

    test("requeue() of a failed event: received with counters reset, its pending retry job replaced by one due job, then handled", async () => {
      const { webhooks, ep, ingest, q, one, clock } = await setupOn(engine, { maxAttempts: 3, retryBackoff: { initialS: 100, maxS: 100 } });
      let calls = 0;
      ep.handle(() => {
        calls++;
        if (calls === 1) throw new Error("first run fails");
      });
      const id = await ingest("x");
      await drain(webhooks, async () => (await webhooks.getEvent(id))!.status === "failed");
      const failed = (await webhooks.getEvent(id))!;
      assert.deepEqual([failed.status, failed.attemptCount, failed.lastError], ["failed", 1, "first run fails"]);
      const retryJobs = await q("SELECT id, state, run_at FROM _honker_live");
      assert.equal(retryJobs.length, 1);
      assert.equal(retryJobs[0]!.state, "pending");
      assert.ok((retryJobs[0]!.run_at as number) >= clock.now + 50, `the retry is not due yet: ${retryJobs[0]!.run_at}`);

      const requeued = await webhooks.requeue(id);
      const stored = (await webhooks.getEvent(id))!;
      for (const event of [requeued, stored]) {
        assert.deepEqual([event.status, event.attemptCount, event.lastError, event.handledAt], ["received", 0, null, null]);
      }
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live WHERE id = ?", retryJobs[0]!.id), 0, "the pending retry job was removed");
      assert.deepEqual(
        await q("SELECT payload, state, run_at, attempts FROM _honker_live"),
        [{ payload: JSON.stringify({ event_id: id }), state: "pending", run_at: clock.now, attempts: 0 }],
        "exactly one live job, due now",
      );

      // The clock has not moved: only the fresh job is due, so the worker handling the event proves it ran.
      await drain(webhooks, settled(webhooks, id));
      assert.equal(calls, 2);
      const handled = (await webhooks.getEvent(id))!;
      assert.deepEqual([handled.status, handled.attemptCount, handled.lastError, handled.handledAt], ["handled", 1, null, T0]);
      assert.deepEqual((await webhooks.listAttempts(id)).map((a) => a.outcome), ["handled", "failed"]);
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live"), 0);
      await webhooks.close();
    });

    test("replayDelivery(): the handler sees that delivery's payload; the event row keeps its own", async () => {
      const { webhooks, ep } = await setupOn(engine);
      const seen: Array<Pick<Event, "body" | "eventType" | "headers" | "deliveryId">> = [];
      ep.handle((event) => void seen.push({ body: event.body, eventType: event.eventType, headers: event.headers, deliveryId: event.deliveryId }));
      const first = await ep.receive({ body: '{"v":1}', headers: { "x-v": "1" }, eventType: "t1", dedupeKey: "k" });
      const retry = await ep.receive({ body: '{"v":2}', headers: { "x-v": "2" }, eventType: "t2", dedupeKey: "k" });
      assert.equal(retry.duplicate, true);
      const id = first.eventId!;
      await drain(webhooks, settled(webhooks, id));
      await assert.rejects(webhooks.replayDelivery(999), isCode("ERR_UNKNOWN_DELIVERY"));
      const replayed = await webhooks.replayDelivery(retry.deliveryId!);
      assert.equal(replayed.status, "received");
      await drain(webhooks, settled(webhooks, id));
      assert.equal(seen.length, 2);
      assert.deepEqual([seen[1]!.body.toString(), seen[1]!.eventType, seen[1]!.headers, seen[1]!.deliveryId], ['{"v":2}', "t2", { "x-v": "2" }, retry.deliveryId]);
      const event = (await webhooks.getEvent(id))!;
      assert.deepEqual([event.body.toString(), event.eventType, event.status], ['{"v":1}', "t1", "handled"]);
      await webhooks.close();
    });

    test("replayDelivery() refuses orphan deliveries and events that are still received", async () => {
      const { webhooks, ep } = await setupOn(engine);
      const orphan = await ep.ingest({ body: "{}", signatureValid: false });
      await assert.rejects(webhooks.replayDelivery(orphan.deliveryId!), (e: unknown) => isCode("ERR_INVALID_STATE")(e) && /not linked/.test((e as Error).message));
      const fresh = await ep.receive({ body: "{}" });
      await assert.rejects(webhooks.replayDelivery(fresh.deliveryId!), isCode("ERR_INVALID_STATE"));
      await webhooks.close();
    });

    /**
     * One event with two deliveries (the original and a retry carrying another body, headers and type),
     * brought to `from` through the public API, then replayed with the retry delivery.
     */
    async function replayDeliveryFrom(from: "failed" | "dead" | "ignored") {
      const { webhooks, ep, q, clock } = setup(from === "dead" ? { maxAttempts: 1 } : { maxAttempts: 3, retryBackoff: { initialS: 100, maxS: 100 } });
      const seen: Array<[string, string | null, unknown, number | null]> = [];
      let fail = true;
      ep.handle((event) => {
        seen.push([event.body.toString(), event.eventType, event.headers, event.deliveryId]);
        if (fail) throw new Error("first run fails");
      });
      const first = await ep.receive({ body: '{"v":1}', headers: { "x-v": "1" }, eventType: "t1", dedupeKey: "k" });
      const retry = await ep.receive({ body: '{"v":2}', headers: { "x-v": "2" }, eventType: "t2", dedupeKey: "k" });
      assert.equal(retry.duplicate, true);
      const id = first.eventId!;
      await drain(webhooks, async () => (await webhooks.getEvent(id))!.status === (from === "dead" ? "dead" : "failed"));
      if (from === "ignored") await webhooks.ignore(id);
      assert.equal((await webhooks.getEvent(id))!.status, from);
      const before = await q("SELECT id, run_at FROM _honker_live");
      if (from !== "dead") {
        assert.equal(before.length, 1, "the failed run left its retry job queued");
        assert.ok((before[0]!.run_at as number) >= clock.now + 50, "and it is not due yet");
      }

      const replayed = await webhooks.replayDelivery(retry.deliveryId!);
      assert.deepEqual([replayed.status, replayed.attemptCount, replayed.lastError, replayed.handledAt], ["received", 0, null, null]);
      assert.equal((await webhooks.getEvent(id))!.status, "received");
      const jobs = await q("SELECT id, payload, run_at FROM _honker_live");
      assert.deepEqual(
        jobs.map((j) => [JSON.parse(j.payload as string), j.run_at]),
        [[{ event_id: id, delivery_id: retry.deliveryId }, clock.now]],
        "exactly one live job, due now, naming the delivery",
      );
      assert.ok(before.every((old) => !jobs.some((j) => j.id === old.id)), "the event's previous live jobs were removed");

      fail = false;
      await drain(webhooks, settled(webhooks, id)); // the clock has not moved: only the fresh job is due
      assert.deepEqual(seen, [
        ['{"v":1}', "t1", { "x-v": "1" }, null],
        ['{"v":2}', "t2", { "x-v": "2" }, retry.deliveryId],
      ]);
      const event = (await webhooks.getEvent(id))!;
      assert.deepEqual([event.status, event.body.toString(), event.headers, event.eventType], ["handled", '{"v":1}', { "x-v": "1" }, "t1"], "the event row keeps its own payload");
      assert.equal((await webhooks.getDelivery(retry.deliveryId!))!.body.toString(), '{"v":2}');
      await webhooks.close();
    }

    for (const from of ["failed", "dead", "ignored"] as const) {
      test(`replayDelivery() from ${from}: received, previous live jobs replaced by one job for that delivery, handler sees its payload, event row unchanged`, () =>
        replayDeliveryFrom(from));
    }

    test("a duplicate receipt in every status reached through the API: linked delivery only, event row and queue untouched", async () => {
      type Ctx = ReturnType<typeof setup>;
      const reach: Record<string, { options: Parameters<typeof open>[1]; to: (c: Ctx, id: number) => Promise<void> }> = {
        received: { options: {}, to: async () => {} },
        handled: { options: {}, to: async ({ webhooks }, id) => drain(webhooks, settled(webhooks, id)) },
        failed: {
          options: { maxAttempts: 3, retryBackoff: { initialS: 100, maxS: 100 } },
          to: async ({ webhooks }, id) => drain(webhooks, async () => (await webhooks.getEvent(id))!.status === "failed"),
        },
        dead: { options: { maxAttempts: 1 }, to: async ({ webhooks }, id) => drain(webhooks, settled(webhooks, id)) },
        ignored: { options: {}, to: async ({ webhooks }, id) => void await webhooks.ignore(id) },
      };
      for (const [status, { options, to }] of Object.entries(reach)) {
        const ctx = setup(options);
        const { webhooks, ep, q, one } = ctx;
        ep.handle("ok", () => {});
        ep.handle("bad", () => {
          throw new Error("always fails");
        });
        const type = status === "failed" || status === "dead" ? "bad" : "ok";
        const first = await ep.receive({ body: '{"v":1}', eventType: type, dedupeKey: "k" });
        const id = first.eventId!;
        await to(ctx, id);
        assert.equal((await webhooks.getEvent(id))!.status, status);
        const row = async () => (await q("SELECT * FROM knocker_events WHERE id = ?", id))[0];
        const live = () => q("SELECT * FROM _honker_live ORDER BY id");
        const rowBefore = await row();
        const liveBefore = await live();
        const deadBefore = await one("SELECT COUNT(*) FROM _honker_dead");
        const eventBefore = (await webhooks.getEvent(id))!;

        const again = await ep.receive({ body: `{"v":2,"status":"${status}"}`, eventType: type, dedupeKey: "k" });
        assert.deepEqual([again.duplicate, again.eventId, again.statusCode], [true, id, 204], status);
        const delivery = (await webhooks.getDelivery(again.deliveryId!))!;
        assert.deepEqual([delivery.eventId, delivery.body.toString()], [id, `{"v":2,"status":"${status}"}`], `${status}: a linked delivery`);
        assert.deepEqual((await webhooks.listDeliveries({ eventId: id })).map((d) => d.id).sort((a, b) => a - b), [first.deliveryId, again.deliveryId], status);

        const event = (await webhooks.getEvent(id))!;
        assert.deepEqual(
          [event.status, event.attemptCount, event.lastError, event.body.toString()],
          [status, eventBefore.attemptCount, eventBefore.lastError, '{"v":1}'],
          `${status}: the event is untouched`,
        );
        assert.deepEqual(await row(), rowBefore, `${status}: the event row is untouched`);
        assert.deepEqual(await live(), liveBefore, `${status}: no job enqueued or changed`);
        assert.equal(await one("SELECT COUNT(*) FROM _honker_dead"), deadBefore, status);
        assert.equal(await one("SELECT COUNT(*) FROM knocker_events"), 1, status);
        await webhooks.close();
      }
    });

    test("runWorker drains the claimed batch before honouring the signal; workerStates reflects the loop", async () => {
      const { webhooks, ep, ingest } = await setupOn(engine);
      const controller = new AbortController();
      let during: ReturnType<typeof webhooks.workerStates> = [];
      ep.handle(() => {
        if (during.length === 0) during = webhooks.workerStates();
        controller.abort();
      });
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push(await ingest("x"));
      await webhooks.runWorker({ signal: controller.signal, workerId: "w-1" });
      assert.ok((await statusesOf(webhooks, ids)).every((status) => status === "handled"), "all claimed jobs ran");
      assert.deepEqual(during, [{ workerId: "w-1", running: true, currentEventId: ids[0], lastError: null }]);
      assert.deepEqual(webhooks.workerStates(), [{ workerId: "w-1", running: false, currentEventId: null, lastError: null }]);
      await webhooks.close();
    });

    test("event.json() parses once and throws ERR_NOT_JSON for other bodies", async () => {
      const { webhooks, ep } = await setupOn(engine);
      const a = await ep.receive({ body: '{"a":1}' });
      const b = await ep.receive({ body: "plain text" });
      const event = (await webhooks.getEvent(a.eventId!))!;
      assert.equal(event.json(), event.json());
      const notJson = (await webhooks.getEvent(b.eventId!))!;
      assert.throws(() => notJson.json(), isCode("ERR_NOT_JSON"));
      await webhooks.close();
    });

    test("close() stops running workers quietly: runWorker resolves and reports nothing", async () => {
      const { webhooks, ep, ingest } = await setupOn(engine);
      ep.handle(() => {});
      const errors: unknown[] = [];
      const running = webhooks.runWorker({ onError: (e) => errors.push(e) });
      const id = await ingest("x");
      while ((await webhooks.getEvent(id))!.status !== "handled") await new Promise((r) => setTimeout(r, 2));
      await webhooks.close();
      await running;
      assert.deepEqual(errors, []);
      await assert.rejects(webhooks.replay(id), (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED");
    });

    test("each job of a batch gets its own visibility window: slow neighbours do not cost a later job its claim", async () => {
      const { webhooks, ep, ingest, clock } = await setupOn(engine, { maxAttempts: 1, visibilityTimeoutS: 30 });
      ep.handle(() => {
        clock.now += 20; // each handler well inside 30 s, together past it
      });
      const ids = [await ingest("a", "a"), await ingest("b", "b"), await ingest("c", "c")];
      const errors: unknown[] = [];
      await drain(webhooks, async () => (await statusesOf(webhooks, ids)).every((status) => status === "handled"), { onError: (e) => errors.push(e) });
      assert.deepEqual(await statusesOf(webhooks, ids), ["handled", "handled", "handled"]);
      assert.deepEqual(errors, []);
      await webhooks.close();
    });
  });
}

// SQLite: handlers that write the app's table through tx.run, and the file itself.
test("handler returns: handled, attempt row, job acked, handler writes committed — one transaction", async () => {
  const { webhooks, ep, ingest, q, one } = setup();
  let inTransaction = false;
  ep.handle("order.paid", (event, tx) => {
    inTransaction = tx.db.inTransaction;
    tx.run("INSERT INTO business VALUES (?, ?)", [event.id, event.json<{ type: string }>().type]);
  });
  const id = await ingest("order.paid");
  await drain(webhooks, settled(webhooks, id));
  const event = (await webhooks.getEvent(id))!;
  assert.equal(event.status, "handled");
  assert.equal(event.attemptCount, 1);
  assert.equal(event.handledAt, T0);
  assert.equal(inTransaction, true, "tx.db is inside the dispatch transaction");
  assert.deepEqual((await webhooks.listAttempts(id)).map((a) => [a.outcome, a.error]), [["handled", null]]);
  assert.equal(one("SELECT COUNT(*) FROM _honker_live"), 0);
  assert.deepEqual(q("SELECT * FROM business"), [{ event_id: id, note: "order.paid" }]);
  await webhooks.close();
});

test("handler throws with attempts left: failed, writes rolled back, attempt row, job pending after the backoff", async () => {
  const { webhooks, ep, ingest, q, clock } = setup({ retryBackoff: { initialS: 10, maxS: 600 } });
  ep.handle((event, tx) => {
    tx.run("INSERT INTO business VALUES (?, 'partial')", [event.id]);
    throw new Error("downstream unavailable");
  });
  const id = await ingest("x");
  await drain(webhooks, async () => (await webhooks.getEvent(id))!.status === "failed");
  const event = (await webhooks.getEvent(id))!;
  assert.equal(event.status, "failed");
  assert.equal(event.lastError, "downstream unavailable");
  assert.equal(event.attemptCount, 1);
  assert.deepEqual(q("SELECT * FROM business"), [], "handler writes rolled back");
  assert.deepEqual((await webhooks.listAttempts(id)).map((a) => [a.outcome, a.error]), [["failed", "downstream unavailable"]]);
  const [job] = q("SELECT state, run_at, attempts, worker_id FROM _honker_live");
  assert.equal(job!.state, "pending");
  assert.equal(job!.worker_id, null);
  assert.ok((job!.run_at as number) >= clock.now + 5 && (job!.run_at as number) <= clock.now + 10, `backoff with jitter: ${job!.run_at}`);
  await webhooks.close();
});

test("a claim that expires on the last allowed attempt: the handler's work is rolled back, the event is dead with an explaining error", async () => {
  const { webhooks, ep, ingest, q, clock } = setup({ maxAttempts: 1, visibilityTimeoutS: 30 });
  ep.handle((event, tx) => {
    tx.run("INSERT INTO business VALUES (?, 'slow')", [event.id]);
    clock.now += 31; // the handler outlives its visibility timeout
  });
  const id = await ingest("x");
  const errors: unknown[] = [];
  await drain(webhooks, settled(webhooks, id), { onError: (e) => errors.push(e) });
  const event = (await webhooks.getEvent(id))!;
  assert.equal(event.status, "dead");
  assert.match(event.lastError!, /claim expired on the final attempt \(1 of 1\)/);
  assert.ok(errors.some(isCode("ERR_CLAIM_LOST")), "the lost claim was reported");
  assert.deepEqual(q("SELECT * FROM business"), [], "the late handler's writes were rolled back");
  assert.equal(q("SELECT COUNT(*) AS n FROM _honker_live")[0]!.n, 0, "no event without a job: the job is dead-lettered");
  assert.match(q("SELECT last_error FROM _honker_dead")[0]!.last_error as string, /claim expired/);
  await webhooks.close();
});

test("a lost claim with attempts left is reported, the worker keeps running and a later claim handles the event", async () => {
  const { webhooks, ep, ingest, q, clock } = setup({ maxAttempts: 3, visibilityTimeoutS: 30 });
  let calls = 0;
  ep.handle((event, tx) => {
    calls++;
    tx.run("INSERT INTO business VALUES (?, ?)", [event.id, `call ${calls}`]);
    if (calls === 1) clock.now += 31;
  });
  const id = await ingest("x");
  const errors: unknown[] = [];
  await drain(webhooks, settled(webhooks, id), { onError: (e) => errors.push(e) });
  assert.equal((await webhooks.getEvent(id))!.status, "handled");
  assert.equal(errors.filter(isCode("ERR_CLAIM_LOST")).length, 1);
  assert.match(webhooks.workerStates()[0]!.lastError!, /expired or was taken/);
  assert.deepEqual(q("SELECT note FROM business"), [{ note: "call 2" }], "only the second run's writes exist");
  // The lost run is in the history as the failed attempt it was; the count matches the attempts used.
  assert.deepEqual((await webhooks.listAttempts(id)).map((a) => a.outcome), ["handled", "failed"]);
  assert.match((await webhooks.listAttempts(id))[1]!.error!, /^claim expired on attempt 1 of 3 before an outcome was recorded/);
  assert.equal((await webhooks.getEvent(id))!.attemptCount, 2);
  await webhooks.close();
});

test("a transactional handler that returns a Promise fails the attempt with an error pointing to { transaction: false }", async () => {
  const { webhooks, ep, ingest, q } = setup({ maxAttempts: 1 });
  ep.handle(((event: Event, tx: HandlerTx) => {
    tx.run("INSERT INTO business VALUES (?, 'async')", [event.id]);
    return Promise.resolve();
  }) as unknown as (event: Event, tx: HandlerTx) => void);
  const id = await ingest("x");
  await drain(webhooks, settled(webhooks, id));
  assert.equal((await webhooks.getEvent(id))!.status, "dead");
  assert.match((await webhooks.getEvent(id))!.lastError!, /must be synchronous; register an async handler with handle\(type, fn, \{ transaction: false \}\)/);
  assert.deepEqual(q("SELECT * FROM business"), []);
  await webhooks.close();
});

test("a batch shares one commit; one failing handler rolls back only its own writes", async () => {
  const { webhooks, ep, ingest, q } = setup({ maxAttempts: 1 });
  const batches: number[] = [];
  webhooks.on("worker:batch", ({ jobs }) => batches.push(jobs));
  ep.handle((event, tx) => {
    tx.run("INSERT INTO business VALUES (?, 'x')", [event.id]);
    if (event.json<{ n: number }>().n === 3) throw new Error("only me");
  });
  const ids: number[] = [];
  for (let n = 0; n < 10; n++) ids.push(await ingest("x", undefined, { n }));
  await drain(webhooks, async () => (await statusesOf(webhooks, ids)).every((status) => !["received", "failed"].includes(status)));
  assert.deepEqual(batches, [10]);
  assert.equal(q("SELECT COUNT(*) AS n FROM business")[0]!.n, 9);
  assert.equal((await webhooks.getEvent(ids[3]!))!.status, "dead");
  await webhooks.close();
});

test("an idle worker wakes at once for commits through the same Knocker", async () => {
  const webhooks = open(tempDbPath());
  const ep = webhooks.endpoint("e", { path: "/e" });
  let handledAt = 0;
  ep.handle(() => void (handledAt = performance.now()));
  const controller = new AbortController();
  const running = webhooks.runWorker({ signal: controller.signal });
  await new Promise((r) => setTimeout(r, 300)); // idle: nothing queued
  const sentAt = performance.now();
  await ep.receive({ body: "{}" });
  while (handledAt === 0 && performance.now() - sentAt < 2000) await new Promise((r) => setTimeout(r, 1));
  controller.abort();
  await running;
  assert.ok(handledAt > 0 && handledAt - sentAt < 500, `woke after ${handledAt - sentAt} ms (the idle safety pass is 1000 ms)`);
  await webhooks.close();
});

test("close() returns a promise: closed at the call, resolved once the inbox's worker loops have ended; a second call resolves too", async () => {
  // On a path, not the app's connection: close() closes the inbox's own connections.
  const path = tempDbPath();
  const webhooks = open(path, { retryBackoff: false });
  const ep = webhooks.endpoint("acme", { path: "/acme" });
  ep.handle(() => {});
  const id = (await ep.receive({ body: JSON.stringify({ type: "x" }), eventType: "x" })).eventId!;
  const ended: string[] = [];
  const loops = [webhooks.runWorker({ workerId: "w1" }), webhooks.runWorker({ workerId: "w2" })];
  loops.forEach((loop, index) => void loop.then(() => ended.push(`w${index + 1}`)));
  while ((await webhooks.getEvent(id))!.status !== "handled") await new Promise((r) => setTimeout(r, 2));
  assert.equal(existsSync(`${path}-wal`), true, "the WAL is there while the inbox is open");
  const closing = webhooks.close();
  assert.ok(closing instanceof Promise);
  assert.equal(webhooks.closed, true, "closed before the promise settles");
  assert.equal(existsSync(`${path}-wal`), false, "its own connections are closed at the call (the last one out removed the WAL)");
  assert.deepEqual(ended, [], "the loops end after the call returns");
  const again = webhooks.close();
  assert.equal(again, closing, "a second call returns the same promise");
  await closing;
  assert.deepEqual(ended.sort(), ["w1", "w2"], "both worker loops had ended when close() resolved");
  await again;
  await Promise.all(loops);
  await webhooks.close(); // and later calls still resolve
});

test("claims that expire on every attempt: each lost run is a failed attempt, the final one dead — attempt_count = maxAttempts", async () => {
  const { webhooks, ep, ingest, q, clock } = setup({ maxAttempts: 2, visibilityTimeoutS: 30 });
  ep.handle((event, tx) => {
    tx.run("INSERT INTO business VALUES (?, 'late')", [event.id]);
    clock.now += 31; // outlives its claim every time
  });
  const id = await ingest("x");
  await drain(webhooks, settled(webhooks, id));
  const event = (await webhooks.getEvent(id))!;
  assert.equal(event.status, "dead");
  assert.equal(event.attemptCount, 2);
  const history = await webhooks.listAttempts(id);
  assert.deepEqual(history.map((a) => a.outcome), ["dead", "failed"]);
  assert.match(history[0]!.error!, /^claim expired on the final attempt \(2 of 2\)/);
  assert.match(history[1]!.error!, /^claim expired on attempt 1 of 2 before an outcome was recorded/);
  assert.deepEqual(q("SELECT * FROM business"), [], "no late run committed its writes");
  await webhooks.close();
});
