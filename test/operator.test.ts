// The operator read surface: filters, newest-first ordering and argument validation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { KnockerError, open } from "../src/index.js";
import { tempDbPath } from "./support.js";

const isInvalid = (pattern: RegExp) => (e: unknown) => e instanceof KnockerError && e.code === "ERR_INVALID_ARGUMENT" && pattern.test(e.message);

async function seeded() {
  const clock = { now: 1_700_000_000 };
  const webhooks = open(tempDbPath(), { now: () => clock.now });
  const a = webhooks.endpoint("a", { path: "/a" });
  const b = webhooks.endpoint("b", { path: "/b" });
  const r1 = await a.receive({ body: "{}", eventType: "x", dedupeKey: "1" }); // t0
  clock.now += 10;
  const r2 = await b.receive({ body: "{}", eventType: "y", dedupeKey: "2" }); // t0+10
  const r3 = await a.receive({ body: "{}", eventType: "y", dedupeKey: "1" }); // duplicate of r1
  clock.now += 10;
  const r4 = await a.ingest({ body: "{}", signatureValid: false, signatureError: "bad" }); // orphan, t0+20
  const r5 = await a.receive({ body: "{}", eventType: "x" }); // t0+20
  return { webhooks, clock, r1, r2, r3, r4, r5 };
}

test("listEvents filters by status, endpoint, type and since, newest first", async () => {
  const { webhooks, clock, r1, r2, r5 } = await seeded();
  const ids = (list: { id: number }[]) => list.map((e) => e.id);
  assert.deepEqual(ids(webhooks.listEvents()), [r5.eventId, r2.eventId, r1.eventId]);
  assert.deepEqual(ids(webhooks.listEvents({ endpoint: "a" })), [r5.eventId, r1.eventId]);
  assert.deepEqual(ids(webhooks.listEvents({ eventType: "y" })), [r2.eventId]);
  assert.deepEqual(ids(webhooks.listEvents({ since: clock.now - 10 })), [r5.eventId, r2.eventId]);
  assert.deepEqual(ids(webhooks.listEvents({ limit: 1 })), [r5.eventId]);
  webhooks.ignore(r2.eventId!);
  assert.deepEqual(ids(webhooks.listEvents({ status: "ignored" })), [r2.eventId]);
  assert.deepEqual(ids(webhooks.listEvents({ status: "received", endpoint: "a", eventType: "x" })), [r5.eventId, r1.eventId]);
  webhooks.close();
});

test("listDeliveries filters by event, endpoint, validity, orphaned and since, newest first", async () => {
  const { webhooks, clock, r1, r2, r3, r4, r5 } = await seeded();
  const ids = (list: { id: number }[]) => list.map((d) => d.id);
  assert.deepEqual(ids(webhooks.listDeliveries()), [r5.deliveryId, r4.deliveryId, r3.deliveryId, r2.deliveryId, r1.deliveryId]);
  assert.deepEqual(ids(webhooks.listDeliveries({ eventId: r1.eventId! })), [r3.deliveryId, r1.deliveryId]);
  assert.deepEqual(ids(webhooks.listDeliveries({ endpoint: "b" })), [r2.deliveryId]);
  assert.deepEqual(ids(webhooks.listDeliveries({ signatureValid: false })), [r4.deliveryId]);
  assert.deepEqual(ids(webhooks.listDeliveries({ orphaned: true })), [r4.deliveryId]);
  assert.equal(webhooks.listDeliveries({ orphaned: false }).length, 4);
  assert.deepEqual(ids(webhooks.listDeliveries({ since: clock.now })), [r5.deliveryId, r4.deliveryId]);
  webhooks.close();
});

test("get* return null for unknown ids; Event and Delivery carry the documented fields", async () => {
  const { webhooks, r1, r3 } = await seeded();
  assert.equal(webhooks.getEvent(12345), null);
  assert.equal(webhooks.getDelivery(12345), null);
  const event = webhooks.getEvent(r1.eventId!)!;
  assert.deepEqual(Object.keys(event).sort(), [
    "attemptCount", "body", "dedupeKey", "deliveryId", "endpoint", "eventType", "handledAt", "headers", "id", "lastError",
    "method", "providerDeliveryId", "providerEventId", "query", "receivedAt", "status",
  ]);
  const delivery = webhooks.getDelivery(r3.deliveryId!)!;
  assert.deepEqual(Object.keys(delivery).sort(), [
    "body", "bodyLength", "bodySha256", "bodyTruncated", "dedupeKey", "endpoint", "eventId", "eventType", "headers", "id", "method", "providerDeliveryId",
    "providerEventId", "query", "receivedAt", "signatureError", "signatureValid",
  ]);
  assert.ok(Buffer.isBuffer(delivery.body));
  assert.deepEqual(webhooks.listAttempts(r1.eventId!), []);
  webhooks.close();
});

test("operator arguments are validated with messages naming the argument", async () => {
  const { webhooks } = await seeded();
  for (const limit of [0, 1001, 1.5, "10", null]) {
    assert.throws(() => webhooks.listEvents({ limit: limit as number }), isInvalid(/limit must be an integer from 1 to 1000/));
    assert.throws(() => webhooks.listDeliveries({ limit: limit as number }), isInvalid(/limit/));
  }
  assert.equal(webhooks.listEvents({ limit: 1000 }).length, 3);
  for (const since of [1.5, "1700000000", -1]) {
    assert.throws(() => webhooks.listEvents({ since: since as number }), isInvalid(/since must be an integer unix timestamp/));
  }
  assert.throws(() => webhooks.listEvents({ status: "done" as never }), isInvalid(/status must be one of received, processing/));
  assert.throws(() => webhooks.listDeliveries({ signatureValid: 1 as never }), isInvalid(/signatureValid must be a boolean/));
  assert.throws(() => webhooks.listDeliveries({ orphaned: "yes" as never }), isInvalid(/orphaned must be a boolean/));
  assert.throws(() => webhooks.listEvents("x" as never), isInvalid(/options object/));
  assert.throws(() => webhooks.listEvents({ type: "x" } as never), isInvalid(/listEvents\(\) has no option "type" \(known: status, endpoint, eventType, since, limit\)/));
  assert.throws(() => webhooks.listDeliveries({ valid: true } as never), isInvalid(/listDeliveries\(\) has no option "valid"/));
  for (const id of [0, -1, 1.5, "1", null]) {
    assert.throws(() => webhooks.getEvent(id as number), isInvalid(/event id must be a positive integer/));
    assert.throws(() => webhooks.replay(id as number), isInvalid(/event id/));
    assert.throws(() => webhooks.replayDelivery(id as number), isInvalid(/delivery id/));
  }
  webhooks.close();
});

test("after close() every read and action refuses with ERR_CLOSED, whatever maxReaders is", async () => {
  for (const maxReaders of [0, 2]) {
    const { webhooks, r1, r2 } = await seeded();
    const reopened = open(webhooks.db.name, { maxReaders });
    reopened.close();
    webhooks.close();
    for (const closed of [webhooks, reopened]) {
      const calls: Array<[string, () => unknown]> = [
        ["getEvent", () => closed.getEvent(r1.eventId!)],
        ["listEvents", () => closed.listEvents()],
        ["getDelivery", () => closed.getDelivery(r1.deliveryId!)],
        ["listDeliveries", () => closed.listDeliveries()],
        ["listAttempts", () => closed.listAttempts(r1.eventId!)],
        ["listPruneAudits", () => closed.listPruneAudits()],
        ["ignore", () => closed.ignore(r2.eventId!)],
        ["replay", () => closed.replay(r2.eventId!)],
        ["pruneEvents", () => closed.pruneEvents({ olderThan: 1 })],
      ];
      for (const [name, call] of calls) {
        assert.throws(call, (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED", `${name} (maxReaders ${maxReaders})`);
      }
      assert.equal(closed.openReaders, 0, "no reader connection is opened after close()");
    }
  }
});

test("iterateEvents(): every match newest first; each iterator holds one of maxReaders readers, beyond that it pages through the writer", async () => {
  const webhooks = open(tempDbPath(), { maxReaders: 2 });
  const ep = webhooks.endpoint("a", { path: "/a" });
  const ids: number[] = [];
  for (let i = 0; i < 250; i++) ids.push((await ep.receive({ body: "{}", dedupeKey: `k${i}`, eventType: i % 2 ? "odd" : "even" })).eventId!);
  const newestFirst = [...ids].reverse();

  const unstarted = [webhooks.iterateEvents(), webhooks.iterateEvents(), webhooks.iterateEvents()];
  assert.equal(webhooks.openReaders, 0, "an iterator takes its reader at its first step, so one never started holds nothing");
  const started = (options?: Parameters<typeof webhooks.iterateEvents>[0]) => {
    const iterator = webhooks.iterateEvents(options);
    const head = iterator.next();
    return () => [head.value!.id, ...[...iterator].map((e) => e.id)];
  };
  const first = started();
  const second = started({ eventType: "odd" });
  const third = started(); // no reader left: pages of 100 on the writer
  assert.equal(webhooks.openReaders, 2, "one reader per iterator in progress, up to maxReaders");
  assert.deepEqual(first(), newestFirst);
  assert.deepEqual(second(), newestFirst.filter((id) => (ids.indexOf(id) % 2) === 1));
  assert.deepEqual(third(), newestFirst, "paging yields the same rows, no gaps or repeats at page edges");
  assert.equal(webhooks.openReaders, 2, "the pool never grew past maxReaders");

  // A reader iterator is one snapshot: writes during the loop (here through the writer) do not change what it yields.
  const seen: string[] = [];
  for (const event of webhooks.iterateEvents({ status: "received" })) {
    seen.push(event.status);
    if (seen.length === 1) for (const id of ids.slice(0, 10)) webhooks.ignore(id);
  }
  assert.equal(seen.length, 250);
  assert.deepEqual(new Set(seen), new Set(["received"]));
  assert.equal(webhooks.listEvents({ status: "ignored", limit: 1000 }).length, 10);

  // break gives the reader back: the next iterator reuses it instead of opening a third.
  for (const _ of webhooks.iterateEvents()) break;
  for (const _ of webhooks.iterateEvents()) break;
  assert.equal(webhooks.openReaders, 2);

  assert.throws(() => webhooks.iterateEvents({ limit: 5 } as never), isInvalid(/iterateEvents\(\) has no option "limit"/));
  const pending = webhooks.iterateEvents();
  pending.next();
  webhooks.close();
  assert.throws(() => pending.next(), (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED");
  assert.throws(() => unstarted[0]!.next(), (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED");
  assert.throws(() => webhooks.iterateEvents(), (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED");
});

test("iterateEvents() with maxReaders 0 pages through the writer and sees each page's committed state: bulk ignore while iterating", async () => {
  const webhooks = open(tempDbPath(), { maxReaders: 0 });
  const ep = webhooks.endpoint("a", { path: "/a" });
  for (let i = 0; i < 230; i++) await ep.receive({ body: "{}", dedupeKey: `k${i}` });
  let ignored = 0;
  for (const event of webhooks.iterateEvents({ status: "received" })) {
    webhooks.ignore(event.id);
    ignored++;
  }
  assert.equal(webhooks.openReaders, 0);
  assert.equal(ignored, 230);
  assert.equal(webhooks.listEvents({ status: "received" }).length, 0);
  const plan = webhooks.db.prepare(`EXPLAIN QUERY PLAN SELECT e.id FROM knocker_events e WHERE (e.received_at, e.id) < (?, ?)
    ORDER BY e.received_at DESC, e.id DESC LIMIT 100`).all(1, 1) as Array<{ detail: string }>;
  assert.ok(plan.some((row) => /SEARCH .*received_at</.test(row.detail)), `a page is an index range: ${JSON.stringify(plan)}`);
  const paged = webhooks.iterateEvents();
  paged.next();
  webhooks.close();
  assert.throws(() => paged.next(), (e: unknown) => e instanceof KnockerError && e.code === "ERR_CLOSED", "no rows of a page read before close()");
});
