// open(): option validation, existing connections, maxReaders, schema bootstrap and version.
import assert from "node:assert/strict";
import { readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { KnockerError, open } from "../src/index.js";
import { tempDbPath, tempDir } from "./support.js";
import { raceScripts } from "./support/processes.js";

const invalidOption = (name: string) => (e: unknown) =>
  e instanceof KnockerError && e.code === "ERR_INVALID_OPTION" && e.message.includes(`"${name}"`);

test("every option is validated by type and range, and the error names the option", async () => {
  const path = tempDbPath();
  const bad: Array<[string, Record<string, unknown>]> = [
    ["queueName", { queueName: "" }], ["queueName", { queueName: 5 }],
    ["visibilityTimeoutS", { visibilityTimeoutS: 0 }], ["visibilityTimeoutS", { visibilityTimeoutS: 1.5 }],
    ["maxAttempts", { maxAttempts: 0 }], ["maxAttempts", { maxAttempts: "3" }],
    ["maxReaders", { maxReaders: -1 }], ["maxReaders", { maxReaders: 65 }],
    ["durability", { durability: "fast" }],
    ["retryBackoff", { retryBackoff: true }], ["retryBackoff.initialS", { retryBackoff: { initialS: -1, maxS: 5 } }],
    ["retryBackoff.maxS", { retryBackoff: { initialS: 10, maxS: 5 } }], ["retryBackoff.jitter", { retryBackoff: { initialS: 1, maxS: 5, jitter: 1 } }],
    ["maxBodyBytes", { maxBodyBytes: 0 }], ["maxBodyBytes", { maxBodyBytes: Number.NaN }],
    ["batchSize", { batchSize: 0 }],
    ["busyTimeoutMs", { busyTimeoutMs: -1 }], ["busyTimeoutMs", { busyTimeoutMs: 600_001 }], ["busyTimeoutMs", { busyTimeoutMs: "5000" }],
    ["now", { now: 5 }],
    ["visibilityTimeout", { visibilityTimeout: 60 }],
  ];
  for (const [name, options] of bad) assert.throws(() => open(path, options as never), invalidOption(name), name);
  assert.throws(() => open(path, "x" as never), invalidOption("options"));
  // busy_timeout is a setting of the connection: read it on the one the inbox writes through (the test's own).
  const okDb = new Database(path);
  const ok = open(okDb, { queueName: "q", visibilityTimeoutS: 5, maxAttempts: 1, maxReaders: 0, durability: "normal", retryBackoff: false, maxBodyBytes: 10, batchSize: 1, busyTimeoutMs: 250 });
  assert.equal(ok.queueName, "q");
  assert.equal(okDb.pragma("busy_timeout", { simple: true }), 250);
  await ok.close();
  okDb.close();
});

test("durability sets synchronous: full → FULL (2), normal → NORMAL (1); WAL and foreign keys are on", async () => {
  // Settings of the connection, read on the one the inbox writes through (the test's own, passed to open()).
  const fullDb = new Database(tempDbPath());
  const full = open(fullDb);
  assert.equal(fullDb.pragma("synchronous", { simple: true }), 2);
  assert.equal(fullDb.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(fullDb.pragma("foreign_keys", { simple: true }), 1);
  assert.equal(fullDb.pragma("busy_timeout", { simple: true }), 5000);
  await full.close();
  fullDb.close();
  const normalDb = new Database(tempDbPath());
  const normal = open(normalDb, { durability: "normal" });
  assert.equal(normalDb.pragma("synchronous", { simple: true }), 1);
  await normal.close();
  normalDb.close();
  // A file the inbox opens itself is switched to WAL too (a setting of the file, seen from any connection).
  const path = tempDbPath();
  await open(path).close();
  const file = new Database(path, { readonly: true });
  assert.equal(file.pragma("journal_mode", { simple: true }), "wal");
  file.close();
});

test("open() on an existing better-sqlite3 Database uses that connection and leaves it open on close()", async () => {
  const db = new Database(tempDbPath());
  db.exec("CREATE TABLE app_table (x INTEGER)");
  const webhooks = open(db);
  let handlerDb: unknown = null;
  const ep = webhooks.endpoint("e", { path: "/e" });
  ep.handle((event, tx) => {
    handlerDb = tx.db;
    tx.run("INSERT INTO app_table VALUES (?)", [event.id]);
  });
  const result = await ep.receive({ body: "{}" });
  assert.equal(db.prepare("SELECT COUNT(*) FROM knocker_events").pluck().get(), 1);
  const controller = new AbortController();
  const running = webhooks.runWorker({ signal: controller.signal });
  while ((await webhooks.getEvent(result.eventId!))!.status !== "handled") await new Promise((r) => setTimeout(r, 5));
  controller.abort();
  await running;
  assert.equal(db.prepare("SELECT x FROM app_table").pluck().get(), result.eventId);
  assert.equal(handlerDb, db, "the inbox writes through that connection");
  await webhooks.close();
  assert.equal(db.open, true);
  db.close();
});

test("close() on an app-owned connection stops the worker at once: a batch already claimed is handed back unused, not run", async () => {
  const db = new Database(tempDbPath());
  const webhooks = open(db, { batchSize: 1 });
  let calls = 0;
  const ep = webhooks.endpoint("e", { path: "/e" }).handle(() => void calls++);
  for (const key of ["a", "b", "c"]) await ep.receive({ body: "{}", dedupeKey: key });
  // The first batch's commit also claims the next one; close() right after it.
  webhooks.on("worker:batch", () => webhooks.close());
  await webhooks.runWorker({});
  assert.equal(calls, 1, "no handler runs after close()");
  assert.equal(db.open, true);
  const jobs = db.prepare("SELECT state, attempts, worker_id FROM _honker_live ORDER BY id").all();
  assert.deepEqual(jobs, [
    { state: "pending", attempts: 0, worker_id: null }, // claimed with the first batch's commit, given back at close()
    { state: "pending", attempts: 0, worker_id: null },
  ], "no attempt is used up by a handler that never ran");
  db.close();
});

/** Descriptors of this process open on the database file itself (readlink only; nothing is opened). */
function descriptorsOn(path: string): number {
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(join("/proc/self/fd", fd)) === path;
    } catch {
      return false;
    }
  }).length;
}

test("maxReaders bounds the read-only connections that serve operator reads; 0 reads on the writer", async () => {
  const path = tempDbPath();
  const base = descriptorsOn(path);
  const zero = open(path, { maxReaders: 0 });
  const writerOnly = descriptorsOn(path);
  await zero.endpoint("e", { path: "/e" }).receive({ body: "{}" });
  await zero.listEvents();
  assert.equal(zero.openReaders, 0);
  assert.equal(descriptorsOn(path), writerOnly, "no extra connection for reads");
  await zero.close();

  const pooled = open(path, { maxReaders: 2 });
  const before = descriptorsOn(path);
  await pooled.listEvents();
  await pooled.getEvent(1);
  assert.equal(pooled.openReaders, 1, "sequential reads reuse one idle reader");
  assert.equal(descriptorsOn(path), before + 1);
  await pooled.close();
  assert.equal(descriptorsOn(path), base);
});

test("reads on a reader connection see committed data only, never a handler's uncommitted writes", async () => {
  for (const [maxReaders, expected] of [[1, "received"], [0, "handled"]] as const) {
    const webhooks = open(tempDbPath(), { maxReaders });
    const ep = webhooks.endpoint("e", { path: "/e" });
    let seenInside = "";
    // The handler's own uncommitted write is visible on the writer connection only.
    ep.handle((event, tx) => {
      tx.run("UPDATE knocker_events SET status = 'handled' WHERE id = ?", [event.id]);
      // The read runs at the call, inside this transaction; only its answer arrives later.
      void webhooks.getEvent(event.id).then((seen) => (seenInside = seen!.status));
    });
    const r = await ep.receive({ body: "{}" });
    const controller = new AbortController();
    const running = webhooks.runWorker({ signal: controller.signal });
    while (seenInside === "") await new Promise((res) => setTimeout(res, 5));
    controller.abort();
    await running;
    assert.equal(seenInside, expected, `maxReaders ${maxReaders}`);
    assert.equal((await webhooks.getEvent(r.eventId!))!.status, "handled");
    await webhooks.close();
  }
});

test("the schema version is recorded, a newer file is refused, and reopening is idempotent", async () => {
  const path = tempDbPath();
  await open(path).close();
  const db = new Database(path);
  assert.equal(db.pragma("user_version", { simple: true }), 7);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
  assert.deepEqual(tables, [
    "_honker_dead", "_honker_live", "_honker_locks", "_honker_scheduler_tasks",
    "knocker_attempts", "knocker_deliveries", "knocker_dropped_rejections", "knocker_endpoints", "knocker_events", "knocker_prune_audits",
  ]);
  db.close();
  await open(path).close();
  const newer = new Database(path);
  newer.pragma("user_version = 99");
  newer.close();
  assert.throws(() => open(path), (e: unknown) => e instanceof KnockerError && e.code === "ERR_STORAGE" && /newer/.test(e.message));
});

test("a version-1 file is migrated: its queue index no longer refuses other queues' non-JSON payloads", async () => {
  const path = tempDbPath();
  await open(path).close();
  // Recreate what release 1 left: the unguarded expression index, user_version 1.
  const v1 = new Database(path);
  v1.exec(`DROP INDEX _honker_live_event_v2;
    CREATE INDEX _honker_live_event ON _honker_live(queue, json_extract(payload, '$.event_id'));
    PRAGMA user_version = 1;`);
  const foreignJob = v1.prepare("INSERT INTO _honker_live (queue, payload, run_at, created_at) VALUES ('other-tool', 'plain text', 0, 0)");
  assert.throws(() => foreignJob.run(), /malformed JSON/, "release 1 refused it");
  v1.close();

  const webhooks = open(path);
  const db = new Database(path); // a connection of the test's own, to look at the migrated file
  assert.equal(db.pragma("user_version", { simple: true }), 7);
  const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '_honker_live_event%'").pluck().all();
  assert.deepEqual(indexes, ["_honker_live_event_v2"]);
  db.prepare("INSERT INTO _honker_live (queue, payload, run_at, created_at) VALUES ('other-tool', 'plain text', 0, 0)").run();
  // Knocker's own job lookups still work beside the foreign row, and use the index.
  const ep = webhooks.endpoint("e", { path: "/e" });
  const { eventId } = await ep.receive({ body: "{}" });
  await webhooks.ignore(eventId!);
  const replayed = await webhooks.replay(eventId!);
  assert.equal(replayed.status, "received");
  assert.equal(db.prepare("SELECT COUNT(*) FROM _honker_live WHERE queue = 'knocker.events'").pluck().get(), 1);
  const plan = db.prepare("EXPLAIN QUERY PLAN DELETE FROM _honker_live WHERE queue = ? AND json_valid(payload) AND json_extract(payload, '$.event_id') = ?").all("knocker.events", eventId) as Array<{ detail: string }>;
  assert.ok(plan.some((row) => row.detail.includes("_honker_live_event_v2")), JSON.stringify(plan));
  await webhooks.close();
  db.close();
});

test("an app that uses PRAGMA user_version for its own schema gets a clear error, not a half-made schema", () => {
  for (const version of [1, 2, 7]) {
    const app = new Database(tempDbPath());
    app.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY); PRAGMA user_version = ${version}`);
    assert.throws(() => open(app), (e: unknown) => e instanceof KnockerError && e.code === "ERR_STORAGE" &&
      /user_version .*its own schema.*give Knocker a database file of its own/.test(e.message), `user_version ${version}`);
    assert.equal(app.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'knocker_%' OR name LIKE '_honker_%'").pluck().get(), 0);
    assert.equal(app.pragma("user_version", { simple: true }), version, "the app's version is untouched");
    app.close();
  }
});

test("opening a current file only reads: it succeeds while another connection holds the write lock", async () => {
  const path = tempDbPath();
  const setup = open(path);
  setup.endpoint("e", { path: "/e" });
  await setup.close();
  const writer = new Database(path);
  writer.exec("BEGIN IMMEDIATE");
  try {
    const started = Date.now();
    const reader = open(path);
    assert.equal((await reader.listEvents()).length, 0);
    await reader.close();
    assert.ok(Date.now() - started < 1000, "no lock wait");
  } finally {
    writer.exec("ROLLBACK");
    writer.close();
  }
});

test("several processes opening a new file at the same moment all succeed", async () => {
  const dir = tempDir();
  const path = join(dir, "race.db");
  const script = `
    import { open } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)};
    const start = Number(process.argv[2]);
    while (Date.now() < start) {}
    const w = open(${JSON.stringify(path)});
    const r = await w.endpoint("e" + process.pid, { path: "/e" + process.pid }).receive({ body: "{}" });
    console.log(JSON.stringify(r));
    await w.close();`;
  const results = await raceScripts(script, 6);
  for (const r of results) {
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).statusCode, 204);
  }
  const db = new Database(path, { readonly: true });
  assert.equal(db.prepare("SELECT COUNT(*) FROM knocker_events").pluck().get(), 6);
  assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  db.close();
});
