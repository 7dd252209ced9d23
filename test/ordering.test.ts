// CONTRACT §11, ordered processing per key, through the public API on both engines: the key at
// ingest, one handler at a time per key in receipt order, what releases a key (handled, dead,
// ignored), replays behind the key's pending events, and listBlockedKeys().
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KnockerError, type Event, type Knocker, type OpenOptions, type OrderingKey } from "../src/index.js";
import { engineMatrix, type TestEngine } from "./support/engines.js";
import { drain, stripeSignature } from "./support.js";

const engines = engineMatrix();
const T0 = 1_700_000_000;

const isCode = (code: string) => (e: unknown) => e instanceof KnockerError && e.code === code;

/** The key each test's endpoint orders by: the body's `key` (none when it has none). */
const byBodyKey: OrderingKey = (receipt) => receipt.json<{ key?: string }>().key ?? null;

async function setup(engine: TestEngine, options: OpenOptions = {}, orderingKey: OrderingKey = byBodyKey) {
  const clock = { now: T0 };
  const { webhooks, sql } = await engine.inbox({ retryBackoff: false, now: () => clock.now, ...options });
  const ep = webhooks.endpoint("acme", { path: "/acme", orderingKey });
  /** Receive an event whose body says its key and its name; returns its id. */
  const send = async (name: string, key?: string) => (await ep.receive({ body: JSON.stringify({ key, name }), eventType: "thing.changed" })).eventId!;
  return { webhooks, ep, clock, sql, send };
}

const nameOf = (event: Event) => event.json<{ name: string }>().name;
const statusOf = async (webhooks: Knocker, id: number) => (await webhooks.getEvent(id))!.status;
const settled = (webhooks: Knocker, ids: readonly number[]) => async () =>
  (await Promise.all(ids.map((id) => statusOf(webhooks, id)))).every((status) => !["received", "failed"].includes(status));

for (const engine of engines) {
  describe(engine.name, () => {
    test("orderingKey must be a function, checked at registration", async () => {
      const webhooks = await engine.open();
      for (const bad of ["customer", 42, null, {}]) {
        assert.throws(() => webhooks.endpoint(`e${String(bad)}`, { path: `/e${String(bad)}`, orderingKey: bad as never }), isCode("ERR_INVALID_ARGUMENT"));
        assert.throws(() => webhooks.addEndpoint({ name: "x", path: "/x", orderingKey: bad as never }), isCode("ERR_INVALID_ARGUMENT"));
      }
      await webhooks.close();
    });

    test("the key is stored with the event; places count up per key in receipt order; duplicates take none", async () => {
      const { webhooks, ep, sql, send } = await setup(engine);
      const a1 = await send("a1", "a");
      const b1 = await send("b1", "b");
      const none = await send("none");
      // One group commit with several events of one key, and a duplicate of one of them.
      const batch = await Promise.all([
        ep.receive({ body: JSON.stringify({ key: "a", name: "a2" }), dedupeKey: "a2" }),
        ep.receive({ body: JSON.stringify({ key: "b", name: "b2" }) }),
        ep.receive({ body: JSON.stringify({ key: "a", name: "a3" }) }),
        ep.receive({ body: JSON.stringify({ key: "a", name: "a2 again" }), dedupeKey: "a2" }),
      ]);
      assert.deepEqual(batch.map((r) => r.duplicate), [false, false, false, true]);
      assert.equal((await webhooks.getEvent(a1))!.orderingKey, "a");
      assert.equal((await webhooks.getEvent(none))!.orderingKey, null);
      const rows = await sql.all<{ id: number; ordering_key: string | null; ordering_seq: number | null }>(
        "SELECT id, ordering_key, ordering_seq FROM knocker_events ORDER BY id");
      assert.deepEqual(rows, [
        { id: a1, ordering_key: "a", ordering_seq: 1 },
        { id: b1, ordering_key: "b", ordering_seq: 1 },
        { id: none, ordering_key: null, ordering_seq: null },
        { id: batch[0]!.eventId, ordering_key: "a", ordering_seq: 2 },
        { id: batch[1]!.eventId, ordering_key: "b", ordering_seq: 2 },
        { id: batch[2]!.eventId, ordering_key: "a", ordering_seq: 3 },
      ]);
      await webhooks.close();
    });

    test("a key function that throws or returns no usable key stores the event unordered and says so; null says nothing", async () => {
      const results: unknown[] = [
        "ok", null, undefined, "", 7, { key: "a" }, "x".repeat(513), "x".repeat(512), "nul\u0000key", Promise.resolve("a"),
      ];
      let call = 0;
      const { webhooks, ep } = await setup(engine, {}, () => {
        const result = results[call++];
        if (call === 3) throw new Error("no customer in this body");
        return result as string;
      });
      const reports: Array<{ endpoint: string; error: unknown }> = [];
      webhooks.on("ingest:ordering-key-error", (report) => reports.push(report));
      const keys: Array<string | null> = [];
      for (let i = 0; i < results.length; i++) {
        const result = await ep.receive({ body: "{}" });
        assert.equal(result.statusCode, 204);
        keys.push((await webhooks.getEvent(result.eventId!))!.orderingKey);
      }
      assert.deepEqual(keys, ["ok", null, null, null, null, null, null, "x".repeat(512), null, null]);
      assert.deepEqual(reports.map((r) => r.endpoint), Array(7).fill("acme"));
      const messages = reports.map((r) => (r.error as Error).message);
      assert.equal(messages[0], "no customer in this body");
      assert.match(messages[1]!, /empty string/);
      assert.match(messages[2]!, /a number, not a string/);
      assert.match(messages[3]!, /an object, not a string/);
      assert.match(messages[4]!, /513 characters, more than 512/);
      assert.match(messages[5]!, /NUL/);
      assert.match(messages[6]!, /a Promise: it must return the key synchronously/);
      assert.ok(reports.slice(1).every((r) => isCode("ERR_INVALID_ORDERING_KEY")(r.error)));
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(reports.length, 7, "a Promise is reported once, its value never used");
      await webhooks.close();
    });

    test("the key is evaluated on verified receipts only: not for rejected ones nor handshakes; it sees json(), header() and eventType", async () => {
      const { webhooks, sql } = await engine.inbox();
      const seen: string[] = [];
      const stripe = webhooks.endpoint("stripe", {
        path: "/stripe", provider: "stripe", secrets: ["whsec_test"],
        orderingKey: (receipt) => {
          seen.push(`${receipt.eventType} ${receipt.header("X-Tenant") ?? "-"}`);
          return receipt.json<{ data: { object: { customer: string } } }>().data.object.customer;
        },
      });
      const body = JSON.stringify({ id: "evt_1", type: "customer.subscription.updated", data: { object: { customer: "cus_9" } } });
      const valid = await stripe.receive({ body, headers: { "stripe-signature": stripeSignature(body, "whsec_test"), "x-tenant": "t1" } });
      const rejected = await stripe.receive({ body, headers: { "stripe-signature": stripeSignature(body, "whsec_wrong") } });
      assert.equal(rejected.statusCode, 401);
      assert.deepEqual(seen, ["customer.subscription.updated t1"]);
      assert.equal((await webhooks.getEvent(valid.eventId!))!.orderingKey, "cus_9");
      assert.equal(await sql.one("SELECT COUNT(*) FROM knocker_events WHERE ordering_key IS NOT NULL"), 1);

      // Trusted ingest: the key is evaluated when the caller states the receipt valid, not otherwise.
      const called: string[] = [];
      const trusted = webhooks.endpoint("trusted", { path: "/trusted", orderingKey: (r) => (called.push(String(r.eventType)), "k") });
      await trusted.ingest({ body: "{}", eventType: "given.type" });
      await trusted.ingest({ body: "{}", signatureValid: false });
      assert.deepEqual(called, ["given.type"]);
      await webhooks.close();
    });

    test("one key runs in receipt order, a failure holds the key until its retry succeeds; other keys and unkeyed events run meanwhile", async () => {
      const { webhooks, ep, clock, send } = await setup(engine, { retryBackoff: { initialS: 60, maxS: 60 } });
      const runs: string[] = [];
      let failA1 = true;
      ep.handle((event) => {
        runs.push(nameOf(event));
        if (nameOf(event) === "a1" && failA1) throw new Error("a1 fails once");
      });
      const ids = [await send("a1", "a"), await send("a2", "a"), await send("b1", "b"), await send("a3", "a"), await send("free"), await send("b2", "b")];
      // a1 fails and waits 60 s for its retry: a2 and a3 wait with it, everything else runs.
      await drain(webhooks, async () => runs.length >= 4 && (await statusOf(webhooks, ids[5]!)) === "handled");
      assert.deepEqual(runs, ["a1", "b1", "free", "b2"]);
      assert.deepEqual(await Promise.all(ids.map((id) => statusOf(webhooks, id))), ["failed", "received", "handled", "received", "handled", "handled"]);
      assert.deepEqual(await webhooks.listBlockedKeys(), [{ endpoint: "acme", key: "a", blockingEventId: ids[0], blockingStatus: "failed", waiting: 2 }]);
      failA1 = false;
      clock.now += 61;
      await drain(webhooks, settled(webhooks, ids));
      assert.deepEqual(runs, ["a1", "b1", "free", "b2", "a1", "a2", "a3"]);
      assert.deepEqual(await webhooks.listBlockedKeys(), []);
      await webhooks.close();
    });

    test("a dead event releases its key", async () => {
      const { webhooks, ep, send } = await setup(engine, { maxAttempts: 2 });
      const runs: string[] = [];
      ep.handle((event) => {
        runs.push(nameOf(event));
        if (nameOf(event) === "a1") throw new Error("a1 always fails");
      });
      const ids = [await send("a1", "a"), await send("a2", "a"), await send("a3", "a")];
      await drain(webhooks, settled(webhooks, ids));
      assert.deepEqual(runs, ["a1", "a1", "a2", "a3"]);
      assert.deepEqual(await Promise.all(ids.map((id) => statusOf(webhooks, id))), ["dead", "handled", "handled"]);
      await webhooks.close();
    });

    test("an event with no handler goes dead at once and releases its key", async () => {
      const { webhooks, ep } = await setup(engine);
      const runs: string[] = [];
      ep.handle("thing.changed", (event) => void runs.push(nameOf(event)));
      const orphan = (await ep.receive({ body: JSON.stringify({ key: "a", name: "nobody" }), eventType: "unknown.type" })).eventId!;
      const next = (await ep.receive({ body: JSON.stringify({ key: "a", name: "a2" }), eventType: "thing.changed" })).eventId!;
      await drain(webhooks, settled(webhooks, [orphan, next]));
      assert.equal(await statusOf(webhooks, orphan), "dead");
      assert.deepEqual(runs, ["a2"]);
      await webhooks.close();
    });

    test("an ignored event releases its key: listBlockedKeys shows the key until the operator ignores its head", async () => {
      const { webhooks, ep, send } = await setup(engine, { retryBackoff: { initialS: 3600, maxS: 3600 } });
      const runs: string[] = [];
      ep.handle((event) => {
        runs.push(nameOf(event));
        if (nameOf(event) === "a1") throw new Error("a1 fails");
      });
      const other = webhooks.endpoint("other", { path: "/other", orderingKey: byBodyKey });
      other.handle(() => {});
      const ids = [await send("a1", "a"), await send("a2", "a"), await send("a3", "a"), await send("b1", "b")];
      await other.receive({ body: JSON.stringify({ key: "a" }) });
      await drain(webhooks, async () => (await statusOf(webhooks, ids[0]!)) === "failed" && (await statusOf(webhooks, ids[3]!)) === "handled");
      const blocked = [{ endpoint: "acme", key: "a", blockingEventId: ids[0], blockingStatus: "failed", waiting: 2 }];
      assert.deepEqual(await webhooks.listBlockedKeys(), blocked);
      assert.deepEqual(await webhooks.listBlockedKeys({ endpoint: "acme", limit: 1 }), blocked);
      assert.deepEqual(await webhooks.listBlockedKeys({ endpoint: "other" }), [], "the same key on another endpoint is another key");
      assert.deepEqual(await webhooks.listBlockedKeys({ endpoint: "nobody" }), []);
      await webhooks.ignore(ids[0]!);
      await drain(webhooks, settled(webhooks, ids));
      assert.deepEqual(runs, ["a1", "b1", "a2", "a3"]);
      assert.deepEqual(await Promise.all(ids.map((id) => statusOf(webhooks, id))), ["ignored", "handled", "handled", "handled"]);
      assert.deepEqual(await webhooks.listBlockedKeys(), []);
      await webhooks.close();
    });

    test("a replayed old event runs after the key's pending ones; requeue and replayDelivery too", async () => {
      const { webhooks, ep, clock, sql, send } = await setup(engine, { retryBackoff: { initialS: 60, maxS: 60 } });
      const runs: string[] = [];
      let failA2 = true;
      ep.handle((event) => {
        runs.push(`${nameOf(event)}${event.deliveryId === null ? "" : "@delivery"}`);
        if (nameOf(event) === "a2" && failA2) throw new Error("a2 fails until the clock moves");
      });
      const a1 = await send("a1", "a");
      const a2 = await send("a2", "a");
      const a3 = await send("a3", "a");
      await drain(webhooks, async () => (await statusOf(webhooks, a2)) === "failed");
      assert.deepEqual(runs, ["a1", "a2"]);
      // a1 is done; a2 waits for its retry and a3 behind it. Replaying a1 puts it behind both.
      assert.equal((await webhooks.replay(a1)).status, "received");
      const places = async () => Object.fromEntries((await sql.all<{ id: number; ordering_seq: number }>(
        "SELECT id, ordering_seq FROM knocker_events ORDER BY id")).map((row) => [row.id, row.ordering_seq]));
      assert.deepEqual(await places(), { [a1]: 4, [a2]: 2, [a3]: 3 });
      assert.deepEqual(await webhooks.listBlockedKeys(), [{ endpoint: "acme", key: "a", blockingEventId: a2, blockingStatus: "failed", waiting: 2 }]);
      await drain(webhooks, async () => false, { timeoutMs: 150 });
      assert.deepEqual(runs, ["a1", "a2"], "nothing of the key runs while a2 waits for its retry");
      failA2 = false;
      clock.now += 61;
      await drain(webhooks, settled(webhooks, [a1, a2, a3]));
      assert.deepEqual(runs, ["a1", "a2", "a2", "a3", "a1"]);

      // requeue (of a dead event) and replayDelivery go to the end of the key as well.
      const a4 = await send("a4", "a");
      const a5 = await send("a5", "a");
      await webhooks.ignore(a4);
      await webhooks.requeue(a4);
      const [delivery] = await webhooks.listDeliveries({ eventId: a1 });
      await webhooks.replayDelivery(delivery!.id);
      assert.deepEqual(await places(), { [a1]: 8, [a2]: 2, [a3]: 3, [a4]: 7, [a5]: 6 });
      await drain(webhooks, settled(webhooks, [a1, a4, a5]));
      assert.deepEqual(runs.slice(5), ["a5", "a4", "a1@delivery"]);
      await webhooks.close();
    });

    test("async handlers: one run at a time per key, keys in parallel, each key in receipt order", async () => {
      const { webhooks, ep, send } = await setup(engine);
      const running = new Map<string, number>();
      let maxPerKey = 0;
      let maxOverall = 0;
      let inFlight = 0;
      const runs = new Map<string, string[]>();
      ep.handle(async (event) => {
        const key = event.orderingKey!;
        running.set(key, (running.get(key) ?? 0) + 1);
        inFlight++;
        maxPerKey = Math.max(maxPerKey, running.get(key)!);
        maxOverall = Math.max(maxOverall, inFlight);
        runs.set(key, [...(runs.get(key) ?? []), nameOf(event)]);
        await new Promise((r) => setTimeout(r, 5));
        running.set(key, running.get(key)! - 1);
        inFlight--;
      }, { transaction: false });
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) for (const key of ["a", "b", "c", "d"]) ids.push(await send(`${key}${i}`, key));
      await drain(webhooks, settled(webhooks, ids), { timeoutMs: 20_000 });
      assert.equal(maxPerKey, 1);
      assert.ok(maxOverall >= 2, `keys ran in parallel (at most ${maxOverall} at once)`);
      for (const key of ["a", "b", "c", "d"]) assert.deepEqual(runs.get(key), [0, 1, 2, 3, 4].map((i) => `${key}${i}`));
      await webhooks.close();
    });

    test("an idle worker whose due jobs all wait behind a key does not spin", async () => {
      const { webhooks, ep, send } = await setup(engine, { retryBackoff: { initialS: 3600, maxS: 3600 } });
      let calls = 0;
      ep.handle(() => {
        calls++;
        throw new Error("fails");
      });
      const ids = [await send("a1", "a"), await send("a2", "a"), await send("a3", "a")];
      await drain(webhooks, async () => (await statusOf(webhooks, ids[0]!)) === "failed");
      const controller = new AbortController();
      const worker = webhooks.runWorker({ signal: controller.signal });
      await new Promise((r) => setTimeout(r, 100));
      const cpu = process.cpuUsage();
      const started = performance.now();
      await new Promise((r) => setTimeout(r, 400));
      const used = process.cpuUsage(cpu);
      const share = (used.user + used.system) / 1000 / (performance.now() - started);
      controller.abort();
      await worker;
      assert.equal(calls, 1);
      assert.ok(share < 0.3, `the waiting worker used ${(share * 100).toFixed(0)}% of a CPU`);
      await webhooks.close();
    });

    test("a worker whose Knocker registered no orderingKey keeps the order of keyed events another Knocker stored, from its first keyed claim", async () => {
      const clock = { now: T0 };
      const options: OpenOptions = { retryBackoff: { initialS: 60, maxS: 60 }, now: () => clock.now };
      const { webhooks: writer, reopen } = await engine.inbox(options);
      const worker = reopen(options);
      const sender = writer.endpoint("acme", { path: "/acme", orderingKey: byBodyKey });
      const send = async (name: string, key?: string) => (await sender.receive({ body: JSON.stringify({ key, name }) })).eventId!;
      const runs: string[] = [];
      let failA1 = true;
      worker.endpoint("acme", { path: "/acme" }).handle((event) => {
        runs.push(nameOf(event));
        if (nameOf(event) === "a1" && failA1) throw new Error("a1 fails once");
      });
      // Nothing keyed yet: the worker claims as an inbox that orders nothing.
      const first = await send("free1");
      await drain(worker, async () => (await statusOf(worker, first)) === "handled");
      const ids = [await send("a1", "a"), await send("a2", "a"), await send("free2")];
      await drain(worker, async () => runs.length >= 3 && (await statusOf(worker, ids[2]!)) === "handled");
      assert.deepEqual(runs, ["free1", "a1", "free2"]);
      assert.equal(await statusOf(worker, ids[1]!), "received");
      failA1 = false;
      clock.now += 61;
      await drain(worker, settled(worker, ids));
      assert.deepEqual(runs, ["free1", "a1", "free2", "a1", "a2"]);
      await worker.close();
      await writer.close();
    });

    test("two Knockers on one inbox (processes, or nodes on Postgres) storing events of the same keys at once: each key's places are 1..n", async () => {
      const { webhooks: nodeA, sql, reopen } = await engine.inbox({ durability: "normal" });
      const nodeB = reopen({ durability: "normal" });
      const endpoints = [nodeA, nodeB].map((node) => node.endpoint("acme", { path: "/acme", orderingKey: byBodyKey }));
      const sends: Array<Promise<unknown>> = [];
      for (let round = 0; round < 10; round++) {
        for (const [i, ep] of endpoints.entries()) {
          for (let k = 0; k < 8; k++) sends.push(ep.receive({ body: JSON.stringify({ key: `k${k}`, name: `${i}-${round}` }) }));
        }
        await new Promise((r) => setImmediate(r)); // several group commits per node, racing the other node's
      }
      await Promise.all(sends);
      const rows = await sql.all<{ ordering_key: string; places: string }>(
        "SELECT ordering_key, COUNT(*) AS n, MIN(ordering_seq) AS low, MAX(ordering_seq) AS high, COUNT(DISTINCT ordering_seq) AS places FROM knocker_events GROUP BY ordering_key ORDER BY ordering_key");
      assert.deepEqual(rows.map((row) => ({ ...row })), Array.from({ length: 8 }, (_, k) => ({ ordering_key: `k${k}`, n: 20, low: 1, high: 20, places: 20 })));
      await nodeB.close();
      await nodeA.close();
    });

    test("listBlockedKeys checks its options", async () => {
      const webhooks = await engine.open();
      await assert.rejects(webhooks.listBlockedKeys({ limit: 0 }), isCode("ERR_INVALID_ARGUMENT"));
      await assert.rejects(webhooks.listBlockedKeys({ endpoint: "" }), isCode("ERR_INVALID_ARGUMENT"));
      await assert.rejects(webhooks.listBlockedKeys({ key: "a" } as never), isCode("ERR_INVALID_ARGUMENT"));
      assert.deepEqual(await webhooks.listBlockedKeys(), []);
      await webhooks.close();
      await assert.rejects(webhooks.listBlockedKeys(), isCode("ERR_CLOSED"));
    });
  });
}
