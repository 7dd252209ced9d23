// Schema migrations from real old files: v1 and v2 files are built here with the DDL those
// releases shipped (test/fixtures/schema/v2.sql; v1 differs in one index), filled with rows, then opened by this release.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { open, type SqliteDatabase } from "../src/index.js";
import { drain, tempDbPath, tempDir } from "./support.js";
import { raceScripts } from "./support/processes.js";

const CURRENT_VERSION = 7;
/** Columns added after version 2 (NULL on rows that were there before). */
const ADDED_COLUMNS = new Set(["body_length", "body_sha256", "body_identity", "ordering_key", "ordering_seq", "trace_context"]);
const V2_SCHEMA = readFileSync(new URL("./fixtures/schema/v2.sql", import.meta.url), "utf8");
const V2_EVENT_INDEX = `CREATE INDEX IF NOT EXISTS _honker_live_event_v2
  ON _honker_live(queue, json_extract(payload, '$.event_id')) WHERE json_valid(payload);`;

/** The DDL a release shipped. Version 1 differs from 2 only in its unguarded event index. */
function oldSchema(version: 1 | 2): string {
  if (version === 2) return V2_SCHEMA;
  assert.ok(V2_SCHEMA.includes(V2_EVENT_INDEX));
  return V2_SCHEMA.replace(V2_EVENT_INDEX, "CREATE INDEX IF NOT EXISTS _honker_live_event\n  ON _honker_live(queue, json_extract(payload, '$.event_id'));")
    .replace("PRAGMA user_version = 2;", "PRAGMA user_version = 1;");
}

const TABLES = [
  "knocker_endpoints", "knocker_events", "knocker_deliveries", "knocker_attempts", "knocker_prune_audits",
  "_honker_live", "_honker_dead", "_honker_locks", "_honker_scheduler_tasks",
];

/**
 * An old file with something in every table: an endpoint, a handled event and a received one
 * (with its pending job), deliveries, attempts, a dead job whose run_at and created_at are NULL
 * (the old dead table allowed that), acked jobs (so the AUTOINCREMENT counter is above the largest
 * id left), a lock, a scheduler task, a prune audit, and an app's view and trigger on the queue.
 */
function buildOldFile(path: string, version: 1 | 2): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(oldSchema(version));
  db.exec(`
    INSERT INTO knocker_endpoints (id, name, path, provider, enabled, created_at) VALUES (1, 'orders', '/orders', NULL, 1, 1700000000);
    INSERT INTO knocker_events (id, endpoint_id, received_at, provider_event_id, event_type, method, headers_json, body_blob, query_json, dedupe_key, status, attempt_count, handled_at)
      VALUES (1, 1, 1700000001, 'evt_1', 'order.paid', 'POST', '{}', X'7B7D', '{}', 'evt_1', 'handled', 1, 1700000002),
             (5, 1, 1700000010, 'evt_5', 'order.paid', 'POST', '{"x-a":"b"}', X'7B2261223A317D', '{}', 'evt_5', 'received', 0, NULL);
    INSERT INTO knocker_deliveries (id, endpoint_id, event_id, received_at, provider_event_id, event_type, method, headers_json, body_blob, query_json, signature_valid, dedupe_key)
      VALUES (1, 1, 1, 1700000001, 'evt_1', 'order.paid', 'POST', '{}', X'7B7D', '{}', 1, 'evt_1'),
             (2, 1, NULL, 1700000003, NULL, NULL, 'POST', '{}', X'00', '{}', 0, NULL),
             (7, 1, 5, 1700000010, 'evt_5', 'order.paid', 'POST', '{"x-a":"b"}', X'7B2261223A317D', '{}', 1, 'evt_5');
    INSERT INTO knocker_attempts (id, event_id, attempted_at, outcome, error, duration_ms) VALUES (3, 1, 1700000002, 'handled', NULL, 4);
    INSERT INTO knocker_prune_audits (id, kind, queue_name, executed_at, events_pruned, summary_json) VALUES (2, 'prune_events', 'knocker.events', 1700000005, 0, '{}');
    INSERT INTO _honker_live (id, queue, payload, state, priority, run_at, attempts, max_attempts, created_at) VALUES
      (1, 'knocker.events', '{"event_id":1}', 'pending', 0, 1700000001, 0, 3, 1700000001),
      (2, 'other-tool', '{"job":"a"}', 'pending', 0, 1700000001, 0, 3, 1700000001),
      (3, 'other-tool', '{"job":"b"}', 'pending', 0, 1700000001, 0, 3, 1700000001),
      (4, 'knocker.events', '{"event_id":5}', 'pending', 0, 1700000010, 0, 3, 1700000010),
      (9, 'other-tool', '{"job":"c"}', 'pending', 0, 1700000001, 0, 3, 1700000001);
    DELETE FROM _honker_live WHERE id IN (1, 2, 9); -- acked: the counter stays at 9
    INSERT INTO _honker_dead (id, queue, payload, priority, run_at, attempts, max_attempts, last_error, created_at, died_at)
      VALUES (2, 'other-tool', '{"job":"a"}', 0, NULL, 3, 3, 'boom', NULL, 1700000020);
    INSERT INTO _honker_locks (name, owner, expires_at) VALUES ('some-lock', 'worker-a', 1700000100);
    INSERT INTO _honker_scheduler_tasks (name, queue, cron_expr, payload, priority, expires_s, next_fire_at, enabled, max_attempts)
      VALUES ('knocker-retention:knocker.events', 'knocker.events.retention', '@every 3600s', '{}', 0, NULL, 1700003600, 1, 3);
    CREATE TABLE app_job_log (job_id INTEGER, queue TEXT);
    CREATE TRIGGER app_log_jobs AFTER INSERT ON _honker_live BEGIN INSERT INTO app_job_log VALUES (new.id, new.queue); END;
    CREATE VIEW app_pending_jobs AS SELECT id, queue FROM _honker_live WHERE state = 'pending';`);
  assert.equal(db.pragma("user_version", { simple: true }), version);
  db.close();
}

type Rows = Record<string, unknown[]>;

function snapshot(db: SqliteDatabase): Rows {
  const rows: Rows = {};
  for (const table of TABLES) {
    // Blobs as hex, so a snapshot can be cloned and compared as plain data.
    rows[table] = (db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all() as Array<Record<string, unknown>>).map((row) =>
      Object.fromEntries(Object.entries(row)
        .filter(([k, v]) => !(ADDED_COLUMNS.has(k) && v === null))
        .map(([k, v]) => [k, Buffer.isBuffer(v) ? `x'${v.toString("hex")}'` : v])));
  }
  return rows;
}

/** Each table's columns with their type, NOT NULL flag, default and primary-key position. */
function columns(db: SqliteDatabase, table: string): unknown[] {
  return db.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`).all(table);
}

const liveSequence = (db: SqliteDatabase) => db.prepare("SELECT seq FROM sqlite_sequence WHERE name = '_honker_live'").pluck().get();

for (const version of [1, 2] as const) {
  test(`a version-${version} file migrates to version ${CURRENT_VERSION}: every row and id kept, the job counter continues, Honker's defaults present`, async () => {
    const path = tempDbPath();
    buildOldFile(path, version);
    const before = new Database(path);
    const rowsBefore = snapshot(before);
    assert.equal(liveSequence(before), 9);
    before.close();

    const webhooks = open(path, { maxReaders: 0 });
    const db = new Database(path); // a connection of the test's own, to look at the migrated file
    assert.equal(db.pragma("user_version", { simple: true }), CURRENT_VERSION);
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
    assert.deepEqual(db.pragma("foreign_key_check"), []);

    // Every row as it was, except the two NULLs the old dead table allowed, now what Honker's
    // defaults stand for: run_at 0, created_at the time the job died.
    const expected = structuredClone(rowsBefore);
    Object.assign(expected._honker_dead![0] as object, { run_at: 0, created_at: 1700000020 });
    assert.deepEqual(snapshot(db), expected);
    assert.equal(liveSequence(db), 9, "the AUTOINCREMENT counter is carried over");

    // The layout is exactly a fresh file's.
    const freshPath = tempDbPath();
    await open(freshPath, { maxReaders: 0 }).close();
    const fresh = new Database(freshPath, { readonly: true });
    for (const table of [...TABLES, "knocker_dropped_rejections"]) assert.deepEqual(columns(db, table), columns(fresh, table), table);
    const indexes = (d: SqliteDatabase) => d.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all();
    assert.deepEqual(indexes(db), indexes(fresh));
    fresh.close();
    const defaults = Object.fromEntries((columns(db, "_honker_live") as Array<{ name: string; dflt_value: string | null }>).map((c) => [c.name, c.dflt_value]));
    assert.equal(defaults.run_at, "unixepoch()");
    assert.equal(defaults.created_at, "unixepoch()");
    const deadDefaults = Object.fromEntries((columns(db, "_honker_dead") as Array<{ name: string; dflt_value: string | null }>).map((c) => [c.name, c.dflt_value]));
    assert.equal(deadDefaults.died_at, "unixepoch()");

    // A Honker-style INSERT that leaves the timestamps to the defaults now works, and takes the next id.
    const inserted = db.prepare("INSERT INTO _honker_live (queue, payload) VALUES ('other-tool', '{\"job\":\"d\"}') RETURNING id, run_at, created_at").get() as { id: number; run_at: number; created_at: number };
    assert.equal(inserted.id, 10, "ids continue after the highest ever used, not the highest left");
    assert.ok(Math.abs(inserted.run_at - Date.now() / 1000) < 5 && inserted.created_at === inserted.run_at);

    // The app's trigger and view survived the rebuild.
    assert.deepEqual(db.prepare("SELECT job_id, queue FROM app_job_log").all(), [{ job_id: 10, queue: "other-tool" }]);
    assert.deepEqual(db.prepare("SELECT id FROM app_pending_jobs ORDER BY id").pluck().all(), [3, 4, 10]);

    // Knocker runs the job it enqueued under the old release.
    const handled: number[] = [];
    webhooks.endpoint("orders", { path: "/orders" }).handle((event) => void handled.push(event.id));
    await drain(webhooks, () => handled.length === 1);
    assert.deepEqual(handled, [5]);
    assert.equal((await webhooks.getEvent(5))!.status, "handled");
    await webhooks.close();
    db.close();
  });
}

test("a version-4 file (0.2.0) gets the dashboard's indexes in place of its (status, received_at) index and keeps its rows", async () => {
  const path = tempDbPath();
  const first = open(path);
  const ep = first.endpoint("orders", { path: "/orders" });
  await ep.receive({ body: "{}", eventType: "order.paid", dedupeKey: "o-1" });
  await first.close();
  const indexes = (db: Database.Database) => db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all();
  const fresh = new Database(path);
  const freshIndexes = indexes(fresh);
  fresh.close();
  const DASHBOARD_INDEXES = [
    "knocker_deliveries_endpoint_signature", "knocker_events_endpoint_status", "knocker_events_type", "knocker_events_type_unsettled",
  ];
  // The layout 0.2.0 wrote: no dashboard index, the (status, received_at) one.
  const v4 = new Database(path);
  for (const name of DASHBOARD_INDEXES) v4.exec(`DROP INDEX ${name}`);
  v4.exec("CREATE INDEX knocker_events_status_received ON knocker_events(status, received_at)");
  v4.pragma("user_version = 4");
  const rowsBefore = snapshot(v4);
  v4.close();

  const db = new Database(path); // the app's own connection, handed to open()
  const webhooks = open(db, { maxReaders: 0 });
  assert.equal(db.pragma("user_version", { simple: true }), CURRENT_VERSION);
  assert.deepEqual(indexes(db), freshIndexes, "the same indexes as a file this release creates");
  assert.ok(!freshIndexes.some((row) => (row as { name: string }).name === "knocker_events_status_received"));
  assert.deepEqual(snapshot(db), rowsBefore);
  const plan = db.prepare("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM knocker_events WHERE endpoint_id = 1 AND status = 'dead'").all() as Array<{ detail: string }>;
  assert.match(plan.map((row) => row.detail).join(" "), /COVERING INDEX knocker_events_endpoint_status/);
  await webhooks.close();
  db.close();
});

test("several processes opening the same old file at the same moment migrate it once", async () => {
  const path = join(tempDir(), "old.db");
  buildOldFile(path, 2);
  const before = new Database(path);
  const rowsBefore = snapshot(before);
  before.close();
  const script = `
    import Database from ${JSON.stringify(import.meta.resolve("better-sqlite3"))};
    import { open } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)};
    const start = Number(process.argv[2]);
    while (Date.now() < start) {}
    const w = open(${JSON.stringify(path)});
    const db = new Database(${JSON.stringify(path)}, { readonly: true }); // a look at the file this open() left
    console.log(JSON.stringify({ version: db.pragma("user_version", { simple: true }), jobs: db.prepare("SELECT COUNT(*) FROM _honker_live").pluck().get() }));
    db.close();
    await w.close();`;
  const results = await raceScripts(script, 5);
  for (const r of results) {
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { version: CURRENT_VERSION, jobs: 2 });
  }
  const db = new Database(path, { readonly: true });
  const expected = structuredClone(rowsBefore);
  Object.assign(expected._honker_dead![0] as object, { run_at: 0, created_at: 1700000020 });
  assert.deepEqual(snapshot(db), expected);
  assert.equal(liveSequence(db), 9);
  assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  db.close();
});

test("a failed migration leaves the old file as it was", () => {
  const path = tempDbPath();
  buildOldFile(path, 2);
  // A row the new table's CHECK refuses cannot come from Knocker, but a tool that turned the
  // checks off could have written one: the migration must fail as a whole, not half-migrate.
  const old = new Database(path);
  old.exec("PRAGMA ignore_check_constraints = ON; INSERT INTO _honker_live (id, queue, payload, state, run_at, created_at) VALUES (60, 'x', '{}', 'done', 0, 0)");
  const rowsBefore = snapshot(old);
  const schemaBefore = old.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
  old.close();
  assert.throws(() => open(path), (e: unknown) => (e as { code?: string }).code === "ERR_STORAGE");
  const after = new Database(path);
  assert.equal(after.pragma("user_version", { simple: true }), 2);
  assert.deepEqual(snapshot(after), rowsBefore);
  assert.deepEqual(after.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all(), schemaBefore);
  after.close();
});

test("a version-5 file gets ordered processing: its events stay unordered, new keyed events are placed and ordered", async () => {
  const path = tempDbPath();
  const first = open(path);
  const ep = first.endpoint("orders", { path: "/orders" });
  const old = (await ep.receive({ body: JSON.stringify({ customer: "c1" }), dedupeKey: "o-1" })).eventId!;
  await first.close();
  const indexes = (db: Database.Database) => db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all();
  const fresh = new Database(path);
  const freshIndexes = indexes(fresh);
  const freshColumns = columns(fresh, "knocker_events");
  fresh.close();
  // The layout version 5 had: no ordering columns, no ordering indexes.
  const v5 = new Database(path);
  v5.exec(`DROP INDEX knocker_events_ordering; DROP INDEX knocker_events_ordering_unsettled; ALTER TABLE knocker_events DROP COLUMN trace_context;
    ALTER TABLE knocker_events DROP COLUMN ordering_seq; ALTER TABLE knocker_events DROP COLUMN ordering_key;`);
  v5.pragma("user_version = 5");
  const rowsBefore = snapshot(v5);
  v5.close();

  const webhooks = open(path, { maxReaders: 0 });
  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma("user_version", { simple: true }), CURRENT_VERSION);
  assert.deepEqual(indexes(db), freshIndexes, "the same indexes as a file this release creates");
  assert.deepEqual(columns(db, "knocker_events"), freshColumns);
  assert.deepEqual(snapshot(db), rowsBefore, "every row as it was, unordered");
  db.close();

  const orders = webhooks.endpoint("orders", { path: "/orders", orderingKey: (r) => r.json<{ customer: string }>().customer });
  const keyed = (await orders.receive({ body: JSON.stringify({ customer: "c1" }), dedupeKey: "o-2" })).eventId!;
  assert.equal((await webhooks.getEvent(old))!.orderingKey, null);
  assert.equal((await webhooks.getEvent(keyed))!.orderingKey, "c1");
  const handled: number[] = [];
  orders.handle((event) => void handled.push(event.id));
  await drain(webhooks, () => handled.length === 2);
  assert.deepEqual(handled, [old, keyed]);
  await webhooks.close();
});

test("a version-6 file gets the trace context column: its events keep none, new events store their receipt span's traceparent", async () => {
  const path = tempDbPath();
  const first = open(path, { telemetry: false });
  const ep = first.endpoint("orders", { path: "/orders" });
  const old = (await ep.receive({ body: "{}", dedupeKey: "o-1" })).eventId!;
  await first.close();
  const fresh = new Database(path);
  const freshColumns = columns(fresh, "knocker_events");
  fresh.close();
  const v6 = new Database(path);
  v6.exec("ALTER TABLE knocker_events DROP COLUMN trace_context");
  v6.pragma("user_version = 6");
  const rowsBefore = snapshot(v6);
  v6.close();

  const provider = new BasicTracerProvider();
  const webhooks = open(path, { maxReaders: 0, telemetry: { tracerProvider: provider } });
  const orders = webhooks.endpoint("orders", { path: "/orders" });
  const traced = (await orders.receive({ body: "{}", dedupeKey: "o-2" })).eventId!;
  await webhooks.close();
  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma("user_version", { simple: true }), CURRENT_VERSION);
  assert.deepEqual(columns(db, "knocker_events"), freshColumns);
  const traces = db.prepare("SELECT id, trace_context FROM knocker_events ORDER BY id").all() as Array<{ id: number; trace_context: string | null }>;
  assert.equal(traces.find((row) => row.id === old)!.trace_context, null);
  assert.match(traces.find((row) => row.id === traced)!.trace_context ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const after = snapshot(db);
  for (const table of Object.keys(rowsBefore)) {
    assert.deepEqual(after[table]!.slice(0, rowsBefore[table]!.length), rowsBefore[table], `${table}: rows kept`);
  }
  db.close();
});
