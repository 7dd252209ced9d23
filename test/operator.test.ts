// The operator read surface: filters, newest-first ordering and argument validation, on every
// engine; then SQLite's reader connections.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import { KnockerError, open, type Knocker, type OpenOptions } from "../src/index.js";
import { engineMatrix } from "./support/engines.js";
import { tempDbPath } from "./support.js";

const engines = engineMatrix();

const isInvalid = (pattern: RegExp) => (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_ARGUMENT" && pattern.test(e.message);

async function seeded(openInbox: (options: OpenOptions) => Promise<Knocker> = async (options) => open(tempDbPath(), options)) {
  const clock = { now: 1_700_000_000 };
  const path = tempDbPath();
  const webhooks = await openInbox({ now: () => clock.now });
  const a = webhooks.endpoint("a", { path: "/a" });
  const b = webhooks.endpoint("b", { path: "/b" });
  const r1 = await a.receive({ body: "{}", eventType: "x", dedupeKey: "1" }); // t0
  clock.now += 10;
  const r2 = await b.receive({ body: "{}", eventType: "y", dedupeKey: "2" }); // t0+10
  const r3 = await a.receive({ body: "{}", eventType: "y", dedupeKey: "1" }); // duplicate of r1
  clock.now += 10;
  const r4 = await a.ingest({ body: "{}", signatureValid: false, signatureError: "bad" }); // orphan, t0+20
  const r5 = await a.receive({ body: "{}", eventType: "x" }); // t0+20
  return { path, webhooks, clock, r1, r2, r3, r4, r5 };
}

for (const engine of engines) {
  describe(engine.name, () => {
    test("listEvents filters by status, endpoint, type and since, newest first", async () => {
      const { webhooks, clock, r1, r2, r5 } = await seeded(engine.open);
      const ids = (list: { id: number }[]) => list.map((e) => e.id);
      assert.deepEqual(ids(await webhooks.listEvents()), [r5.eventId, r2.eventId, r1.eventId]);
      assert.deepEqual(ids(await webhooks.listEvents({ endpoint: "a" })), [r5.eventId, r1.eventId]);
      assert.deepEqual(ids(await webhooks.listEvents({ eventType: "y" })), [r2.eventId]);
      assert.deepEqual(ids(await webhooks.listEvents({ since: clock.now - 10 })), [r5.eventId, r2.eventId]);
      assert.deepEqual(ids(await webhooks.listEvents({ limit: 1 })), [r5.eventId]);
      await webhooks.ignore(r2.eventId!);
      assert.deepEqual(ids(await webhooks.listEvents({ status: "ignored" })), [r2.eventId]);
      assert.deepEqual(ids(await webhooks.listEvents({ status: "received", endpoint: "a", eventType: "x" })), [r5.eventId, r1.eventId]);
      await webhooks.close();
    });

    test("listDeliveries filters by event, endpoint, validity, orphaned and since, newest first", async () => {
      const { webhooks, clock, r1, r2, r3, r4, r5 } = await seeded(engine.open);
      const ids = (list: { id: number }[]) => list.map((d) => d.id);
      assert.deepEqual(ids(await webhooks.listDeliveries()), [r5.deliveryId, r4.deliveryId, r3.deliveryId, r2.deliveryId, r1.deliveryId]);
      assert.deepEqual(ids(await webhooks.listDeliveries({ eventId: r1.eventId! })), [r3.deliveryId, r1.deliveryId]);
      assert.deepEqual(ids(await webhooks.listDeliveries({ endpoint: "b" })), [r2.deliveryId]);
      assert.deepEqual(ids(await webhooks.listDeliveries({ signatureValid: false })), [r4.deliveryId]);
      assert.deepEqual(ids(await webhooks.listDeliveries({ orphaned: true })), [r4.deliveryId]);
      assert.equal((await webhooks.listDeliveries({ orphaned: false })).length, 4);
      assert.deepEqual(ids(await webhooks.listDeliveries({ since: clock.now })), [r5.deliveryId, r4.deliveryId]);
      await webhooks.close();
    });

    test("get* return null for unknown ids; Event and Delivery carry the documented fields", async () => {
      const { webhooks, r1, r3 } = await seeded(engine.open);
      assert.equal(await webhooks.getEvent(12345), null);
      assert.equal(await webhooks.getDelivery(12345), null);
      const event = (await webhooks.getEvent(r1.eventId!))!;
      assert.deepEqual(Object.keys(event).sort(), [
        "attemptCount", "body", "dedupeKey", "deliveryId", "endpoint", "eventType", "handledAt", "headers", "id", "lastError",
        "method", "orderingKey", "providerDeliveryId", "providerEventId", "query", "receivedAt", "status",
      ]);
      const delivery = (await webhooks.getDelivery(r3.deliveryId!))!;
      assert.deepEqual(Object.keys(delivery).sort(), [
        "body", "bodyLength", "bodySha256", "bodyTruncated", "dedupeKey", "endpoint", "eventId", "eventType", "headers", "id", "method", "providerDeliveryId",
        "providerEventId", "query", "receivedAt", "signatureError", "signatureValid",
      ]);
      assert.ok(Buffer.isBuffer(delivery.body));
      assert.deepEqual(await webhooks.listAttempts(r1.eventId!), []);
      await webhooks.close();
    });

    test("operator arguments are validated with messages naming the argument", async () => {
      const { webhooks } = await seeded(engine.open);
      for (const limit of [0, 1001, 1.5, "10", null]) {
        await assert.rejects(webhooks.listEvents({ limit: limit as number }), isInvalid(/limit must be an integer from 1 to 1000/));
        await assert.rejects(webhooks.listDeliveries({ limit: limit as number }), isInvalid(/limit/));
      }
      assert.equal((await webhooks.listEvents({ limit: 1000 })).length, 3);
      for (const since of [1.5, "1700000000", -1]) {
        await assert.rejects(webhooks.listEvents({ since: since as number }), isInvalid(/since must be an integer unix timestamp/));
      }
      await assert.rejects(webhooks.listEvents({ status: "done" as never }), isInvalid(/status must be one of received, processing/));
      await assert.rejects(webhooks.listDeliveries({ signatureValid: 1 as never }), isInvalid(/signatureValid must be a boolean/));
      await assert.rejects(webhooks.listDeliveries({ orphaned: "yes" as never }), isInvalid(/orphaned must be a boolean/));
      await assert.rejects(webhooks.listEvents("x" as never), isInvalid(/options object/));
      await assert.rejects(webhooks.listEvents({ type: "x" } as never), isInvalid(/listEvents\(\) has no option "type" \(known: status, endpoint, eventType, since, limit\)/));
      await assert.rejects(webhooks.listDeliveries({ valid: true } as never), isInvalid(/listDeliveries\(\) has no option "valid"/));
      for (const id of [0, -1, 1.5, "1", null]) {
        await assert.rejects(webhooks.getEvent(id as number), isInvalid(/event id must be a positive integer/));
        await assert.rejects(webhooks.replay(id as number), isInvalid(/event id/));
        await assert.rejects(webhooks.replayDelivery(id as number), isInvalid(/delivery id/));
      }
      await webhooks.close();
    });
  });
}

test("after close() every read and action refuses with ERR_CLOSED, whatever maxReaders is", async () => {
  for (const maxReaders of [0, 2]) {
    const { path, webhooks, r1, r2 } = await seeded();
    const reopened = open(path, { maxReaders });
    await reopened.close();
    await webhooks.close();
    for (const closed of [webhooks, reopened]) {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ["getEvent", () => closed.getEvent(r1.eventId!)],
        ["listEvents", () => closed.listEvents()],
        ["getDelivery", () => closed.getDelivery(r1.deliveryId!)],
        ["listDeliveries", () => closed.listDeliveries()],
        ["listAttempts", () => closed.listAttempts(r1.eventId!)],
        ["listPruneAudits", () => closed.listPruneAudits()],
        ["ignore", () => closed.ignore(r2.eventId!)],
        ["replay", () => closed.replay(r2.eventId!)],
        ["pruneEvents", () => closed.pruneEvents({ olderThan: 1 })],
        ["iterateEvents", () => closed.iterateEvents().next()],
      ];
      for (const [name, call] of calls) {
        // call() itself must not throw: the refusal is the promise's.
        await assert.rejects(call(), (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED", `${name} (maxReaders ${maxReaders})`);
      }
      assert.equal(closed.openReaders, 0, "no reader connection is opened after close()");
    }
  }
});

test("iterateEvents(): every match newest first, a page per query; no reader or read transaction is held between steps", async () => {
  const db = new Database(tempDbPath()); // the test's own connection (the app-owned pattern), to run a checkpoint on
  const webhooks = open(db, { maxReaders: 2 });
  const ep = webhooks.endpoint("a", { path: "/a" });
  const ids: number[] = [];
  for (let i = 0; i < 250; i++) ids.push((await ep.receive({ body: "{}", dedupeKey: `k${i}`, eventType: i % 2 ? "odd" : "even" })).eventId!);
  const newestFirst = [...ids].reverse();
  const isClosed = (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED";

  const unstarted = [webhooks.iterateEvents(), webhooks.iterateEvents(), webhooks.iterateEvents()];
  assert.equal(webhooks.openReaders, 0, "an iterator reads nothing before its first step");
  const rest = async (iterator: AsyncIterable<{ id: number }>) => {
    const out: number[] = [];
    for await (const event of iterator) out.push(event.id);
    return out;
  };
  const started = async (options?: Parameters<typeof webhooks.iterateEvents>[0]) => {
    const iterator = webhooks.iterateEvents(options);
    const head = await iterator.next();
    return async () => [head.value!.id, ...(await rest(iterator))];
  };
  const first = await started();
  const second = await started({ eventType: "odd" });
  const third = await started();
  assert.equal(webhooks.openReaders, 1, "three iterators in progress hold no reader: each page borrows one for its query and gives it back");
  // Nothing holds a snapshot while the iterators wait: a TRUNCATE checkpoint is not blocked by any reader.
  await webhooks.ignore(ids[0]!);
  await webhooks.requeue(ids[0]!);
  assert.equal((db.pragma("wal_checkpoint(TRUNCATE)") as Array<{ busy: number }>)[0]!.busy, 0, "no read transaction is open between steps");
  assert.deepEqual(await first(), newestFirst);
  assert.deepEqual(await second(), newestFirst.filter((id) => (ids.indexOf(id) % 2) === 1));
  assert.deepEqual(await third(), newestFirst, "paging yields the same rows, no gaps or repeats at page edges");
  assert.equal(webhooks.openReaders, 1, "the pool never grew past what one query at a time needs");

  // Each page sees what committed before it: the 10 oldest events, ignored during the loop, are on its last page and are not yielded.
  const seen: string[] = [];
  for await (const event of webhooks.iterateEvents({ status: "received" })) {
    seen.push(event.status);
    if (seen.length === 1) for (const id of ids.slice(0, 10)) await webhooks.ignore(id);
  }
  assert.equal(seen.length, 240);
  assert.deepEqual(new Set(seen), new Set(["received"]));
  assert.equal((await webhooks.listEvents({ status: "ignored", limit: 1000 })).length, 10);

  for await (const _ of webhooks.iterateEvents()) break;
  for await (const _ of webhooks.iterateEvents()) break;
  assert.equal(webhooks.openReaders, 1);

  // A bad option rejects the first step (no synchronous throw).
  const badOption = webhooks.iterateEvents({ limit: 5 } as never);
  await assert.rejects(badOption.next(), isInvalid(/iterateEvents\(\) has no option "limit"/));
  const pending = webhooks.iterateEvents();
  await pending.next();
  await webhooks.close();
  await assert.rejects(pending.next(), isClosed);
  await assert.rejects(unstarted[0]!.next(), isClosed);
  await assert.rejects(webhooks.iterateEvents().next(), isClosed);
  db.close();
});

test("iterateEvents() with maxReaders 0 pages through the writer and sees each page's committed state: bulk ignore while iterating", async () => {
  const path = tempDbPath();
  const webhooks = open(path, { maxReaders: 0 });
  const ep = webhooks.endpoint("a", { path: "/a" });
  for (let i = 0; i < 230; i++) await ep.receive({ body: "{}", dedupeKey: `k${i}` });
  let ignored = 0;
  for await (const event of webhooks.iterateEvents({ status: "received" })) {
    await webhooks.ignore(event.id);
    ignored++;
  }
  assert.equal(webhooks.openReaders, 0);
  assert.equal(ignored, 230);
  assert.equal((await webhooks.listEvents({ status: "received" })).length, 0);
  const file = new Database(path, { readonly: true }); // a connection of the test's own, to ask SQLite for the plan
  const plan = file.prepare(`EXPLAIN QUERY PLAN SELECT e.id FROM knocker_events e WHERE (e.received_at, e.id) < (?, ?)
    ORDER BY e.received_at DESC, e.id DESC LIMIT 100`).all(1, 1) as Array<{ detail: string }>;
  file.close();
  assert.ok(plan.some((row) => /SEARCH .*received_at</.test(row.detail)), `a page is an index range: ${JSON.stringify(plan)}`);
  const paged = webhooks.iterateEvents();
  await paged.next();
  await webhooks.close();
  await assert.rejects(paged.next(), (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED", "no rows of a page read before close()");
});
