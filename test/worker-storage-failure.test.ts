// CONTRACT §5: a handler's writes, the event's transition, the attempt row and the ack commit
// together. When SQLite abandons the batch transaction itself (disk full), nothing of the batch
// may be committed piecemeal: the worker reports the storage error, the claims go back to the
// queue, and once the disk has room again every event is handled exactly once.
import assert from "node:assert/strict";
import { test } from "node:test";
import Database from "better-sqlite3";
import { KnockerError, open, type Handler, type OpenOptions } from "../src/index.js";
import { tempDbPath } from "./support.js";

/** A row too big for the room left: a handler that inserts it fills the disk. */
const BALLAST = Buffer.alloc(2_000_000);

/**
 * Three received events (k0, k1, k2) on a file with room for about 20 more pages. The inbox runs
 * on the test's own connection (the app-owned pattern): it holds the app's tables, and its page
 * limit is the inbox's disk.
 */
async function nearlyFullInbox(options: OpenOptions, schema: string, handler: Handler) {
  const db = new Database(tempDbPath());
  const webhooks = open(db, { retryBackoff: false, ...options });
  db.exec(`${schema}; CREATE TABLE ballast (b BLOB)`);
  const ep = webhooks.endpoint("e", { path: "/e" }).handle(handler);
  for (const key of ["k0", "k1", "k2"]) await ep.receive({ body: "{}", dedupeKey: key });
  const pages = db.pragma("page_count", { simple: true }) as number;
  db.pragma(`max_page_count = ${pages + 20}`);
  return { db, webhooks, freeDisk: () => void db.pragma("max_page_count = 1073741823") };
}

test("disk full inside a handler fails the whole batch: no event, attempt or job changes commit; after space frees up each event is handled once", { timeout: 30_000 }, async () => {
  let fillDisk = true;
  const { db, webhooks, freeDisk } = await nearlyFullInbox({ visibilityTimeoutS: 1 }, "CREATE TABLE handled (event_key TEXT NOT NULL UNIQUE)", (event, tx) => {
    tx.run("INSERT INTO handled (event_key) VALUES (?)", [event.dedupeKey]);
    if (event.dedupeKey === "k1" && fillDisk) tx.run("INSERT INTO ballast (b) VALUES (?)", [BALLAST]);
  });

  const errors: unknown[] = [];
  const controller = new AbortController();
  const running = webhooks.runWorker({ signal: controller.signal, onError: (error) => errors.push(error) });
  const deadline = Date.now() + 5000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.ok(errors.length > 0, "the storage failure is reported through onError");
  const first = errors[0];
  assert.ok(first instanceof KnockerError && first.code === "ERR_STORAGE", String(first));
  assert.equal(db.inTransaction, false);

  // Nothing of the failed batch committed: no handled event, no attempt row, no business row.
  for (const event of await webhooks.listEvents()) {
    assert.equal(event.status, "received", `${event.dedupeKey} still received`);
    assert.equal((await webhooks.listAttempts(event.id)).length, 0);
  }
  assert.equal(db.prepare("SELECT COUNT(*) FROM handled").pluck().get(), 0);
  assert.equal(db.prepare("SELECT COUNT(*) FROM _honker_live").pluck().get(), 3, "every job is still live");

  // Room again: the expired claims are taken over and every event is handled exactly once.
  fillDisk = false;
  freeDisk();
  const until = Date.now() + 10_000;
  while ((await webhooks.listEvents({ status: "handled" })).length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  controller.abort();
  await running;
  assert.deepEqual((await webhooks.listEvents()).map((e) => e.status), ["handled", "handled", "handled"]);
  assert.deepEqual(db.prepare("SELECT event_key FROM handled ORDER BY event_key").pluck().all(), ["k0", "k1", "k2"]);
  assert.ok(webhooks.workerStates()[0]!.lastError !== null);
  await webhooks.close();
  db.close();
});

test("a handler that swallows the disk-full error commits nothing on its own; the claims go back unused (maxAttempts 1 still handles)", { timeout: 30_000 }, async () => {
  let fillDisk = true;
  const swallowed: unknown[] = [];
  const { db, webhooks, freeDisk } = await nearlyFullInbox({ maxAttempts: 1 }, "CREATE TABLE business (k TEXT, step TEXT)", (event, tx) => {
    tx.run("INSERT INTO business VALUES (?, 'before')", [event.dedupeKey]);
    if (event.dedupeKey === "k1" && fillDisk) {
      try {
        tx.run("INSERT INTO ballast VALUES (?)", [BALLAST]);
      } catch (error) {
        swallowed.push(error); // a careless handler carries on
      }
    }
    tx.run("INSERT INTO business VALUES (?, 'after')", [event.dedupeKey]);
  });

  const errors: unknown[] = [];
  const controller = new AbortController();
  const running = webhooks.runWorker({ signal: controller.signal, onError: (error) => {
    errors.push(error);
    controller.abort();
  } });
  await running;
  assert.equal(swallowed.length, 1);
  assert.ok(errors[0] instanceof KnockerError && errors[0].code === "ERR_STORAGE", String(errors[0]));
  assert.deepEqual((await webhooks.listEvents()).map((e) => e.status), ["received", "received", "received"]);
  assert.deepEqual(db.prepare("SELECT * FROM business").all(), [], "no handler write committed on its own");
  assert.deepEqual(db.prepare("SELECT state, attempts FROM _honker_live ORDER BY id").all(),
    [{ state: "pending", attempts: 0 }, { state: "pending", attempts: 0 }, { state: "pending", attempts: 0 }], "claims handed back, attempts refunded");

  fillDisk = false;
  freeDisk();
  const again = new AbortController();
  const second = webhooks.runWorker({ signal: again.signal });
  const until = Date.now() + 10_000;
  while ((await webhooks.listEvents({ status: "handled" })).length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  again.abort();
  await second;
  assert.deepEqual((await webhooks.listEvents()).map((e) => e.status), ["handled", "handled", "handled"], "not dead: no attempt was used up");
  await webhooks.close();
  db.close();
});
