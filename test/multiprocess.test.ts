// Issue 2, must show 5: several processes on one file. 2 ingesting processes and 2 worker
// processes share one SQLite file; 5,000 signed Stripe receipts, 10% of them repeats of
// earlier event ids (mostly first sent by the other ingester). Every unique event must be
// handled exactly once, and no error may reach any caller.
//
// Durability: "full" (the default, fsync per commit) — it is fast enough here thanks to group
// commit and batched claims, so the test exercises the production setting.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";
import Database from "better-sqlite3";
import { open, type OpenOptions } from "../src/index.js";
import { tempDbPath } from "./support.js";
import { Child, fixture, sleep } from "./support/processes.js";

const SECRET = "whsec_multiprocess_secret";
const INGESTERS = 2;
const WORKERS = 2;
const TOTAL = 5000;
const REPEATS_PER_INGESTER = 250; // 10% of all receipts repeat an earlier event id
const UNIQUE = TOTAL - INGESTERS * REPEATS_PER_INGESTER;
const OPTIONS: OpenOptions = { durability: "full" };
const ENDPOINT = { name: "stripe", path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] };

test(`${INGESTERS} ingesting and ${WORKERS} worker processes, ${TOTAL} receipts, ${UNIQUE} unique: each event handled exactly once, no error surfaced`, async (t) => {
  const path = tempDbPath();
  const setupDb = new Database(path); // the app's connection, which makes its business table
  const setup = open(setupDb, OPTIONS);
  // The UNIQUE constraint turns a second successful run of a handler into a failed attempt,
  // which the worker would report through onError; the count check below catches the rest.
  setupDb.exec("CREATE TABLE business (event_key TEXT NOT NULL UNIQUE, event_id INTEGER NOT NULL, worker TEXT NOT NULL)");
  await setup.close();
  setupDb.close();

  const seed = randomInt(1, 2 ** 31);
  t.diagnostic(`seed=${seed}`);
  const ingesters = Array.from({ length: INGESTERS }, (_, index) =>
    new Child(fixture("mp-ingester.ts"), [JSON.stringify({
      path, options: OPTIONS, secret: SECRET, index, ingesters: INGESTERS, uniqueTotal: UNIQUE,
      repeats: REPEATS_PER_INGESTER, concurrency: 16, seed: seed + index,
    })]));
  const workers = Array.from({ length: WORKERS }, () =>
    new Child(fixture("worker-child.ts"), [JSON.stringify({ path, options: OPTIONS, mode: "worker", reportEach: false, endpoint: ENDPOINT })]));
  const all = [...ingesters, ...workers];
  t.after(() => all.forEach((child) => child.kill()));
  await Promise.all(all.map((child) => child.next("ready", 30_000)));
  assert.equal(ingesters.reduce((sum, c) => sum + (c.of("ready")[0]!.planned as number), 0), TOTAL);

  const started = Date.now();
  ingesters.forEach((child) => child.send({ type: "go" }));
  const done = await Promise.all(ingesters.map((child) => child.next("done", 50_000)));
  const ingestMs = Date.now() - started;

  // Ingest: every receipt resolved, none rejected; new events + duplicates add up.
  for (const [i, d] of done.entries()) {
    assert.equal(d.rejected, 0, `ingester ${i} saw rejections: ${JSON.stringify(d.rejections)}`);
    assert.equal(d.unexpected, 0, `ingester ${i} got a non-204 or event-less result`);
    assert.equal(d.resolved, d.planned);
  }
  const sum = (key: string) => done.reduce((n, d) => n + (d[key] as number), 0);
  assert.equal(sum("newEvents"), UNIQUE, "exactly one new event per unique key across both ingesters");
  assert.equal(sum("duplicates"), TOTAL - UNIQUE);

  // Wait until the workers have drained the queue, then stop them and collect their reports.
  const reader = new Database(path, { readonly: true }); // a read connection of the test's own, to look at the file
  reader.pragma("busy_timeout = 5000");
  t.after(() => reader.close());
  const count = (sql: string) => reader.prepare(sql).pluck().get() as number;
  const deadline = Date.now() + 50_000;
  while (count("SELECT COUNT(*) FROM _honker_live") > 0 || count("SELECT COUNT(*) FROM knocker_events WHERE status <> 'handled'") > 0) {
    if (Date.now() > deadline) throw new Error(`workers did not drain: ${count("SELECT COUNT(*) FROM _honker_live")} live jobs left`);
    for (const worker of workers) assert.deepEqual(worker.of("error"), [], "a worker reported an error");
    await sleep(50);
  }
  const drainMs = Date.now() - started;
  workers.forEach((child) => child.send({ type: "stop" }));
  const stopped = await Promise.all(workers.map((child) => child.next("stopped", 20_000)));
  for (const child of all) assert.equal((await child.closed).code, 0, child.stderr);
  t.diagnostic(`ingest ${ingestMs} ms (${done.map((d) => `${String(d.ms)} ms`).join(", ")}), all handled after ${drainMs} ms; ` +
    `handler runs per worker: ${stopped.map((s) => String(s.handlerCalls)).join(", ")}`);

  // Workers: no onError call anywhere, every unique event's handler ran exactly once.
  for (const [i, s] of stopped.entries()) {
    assert.equal(s.errors, 0, `worker ${i} onError calls: ${JSON.stringify(workers[i]!.of("error").slice(0, 5))}`);
    assert.ok((s.handlerCalls as number) > 0, `worker ${i} never got work`);
  }
  assert.equal(stopped.reduce((n, s) => n + (s.handlerCalls as number), 0), UNIQUE, "handler runs across all workers");

  // The file: one event per unique key, all handled with one attempt, business rows once each.
  assert.equal(count("SELECT COUNT(*) FROM knocker_deliveries"), TOTAL);
  assert.equal(count("SELECT COUNT(*) FROM knocker_deliveries WHERE event_id IS NULL OR signature_valid <> 1"), 0);
  assert.equal(count("SELECT COUNT(*) FROM knocker_events"), UNIQUE);
  assert.equal(count("SELECT COUNT(DISTINCT dedupe_key) FROM knocker_events"), UNIQUE);
  assert.equal(count("SELECT COUNT(*) FROM knocker_events WHERE status = 'handled' AND attempt_count = 1"), UNIQUE);
  assert.equal(count("SELECT COUNT(*) FROM knocker_attempts WHERE outcome = 'handled'"), UNIQUE);
  assert.equal(count("SELECT COUNT(*) FROM knocker_attempts"), UNIQUE);
  assert.equal(count("SELECT COUNT(*) FROM business"), UNIQUE, "business table count equals unique keys");
  assert.equal(count("SELECT COUNT(DISTINCT event_id) FROM business"), UNIQUE);
  assert.equal(count(`SELECT COUNT(*) FROM business b JOIN knocker_events e ON e.id = b.event_id AND e.dedupe_key = b.event_key`), UNIQUE);
  assert.equal(count("SELECT COUNT(*) FROM _honker_dead"), 0);
  assert.equal(reader.pragma("integrity_check", { simple: true }), "ok");
});
