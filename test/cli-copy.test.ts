// `knocker copy`: a whole inbox moved SQLite → Postgres → SQLite by the built bin as a child
// process, every table compared row for row (ids included) with the original at each step, each
// copy opened and run as an inbox; then the refusals, a copy that fails part-way, and passwords.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { before, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { open, RetentionPolicy, type Knocker } from "../src/index.js";
import { buildBin, fails, knocker, type Run } from "./support/cli.js";
import { usePostgres } from "./support/postgres.js";
import { drain, stripeSignature, tempDir } from "./support.js";

const server = usePostgres();
before(() => buildBin());

const T0 = 1_700_000_000;
const DAY = 86_400;
const SECRET = "whsec_copy_tests";
/** The copies run as a role of their own, whose password must never be printed (":" and "@" encoded in the URL). */
const PASSWORD = "Cop1er:s3cret@pw";
const ROLE = "copier";

/** Every output of a run of the bin in this file, checked for the password at the end. */
const outputs: Run[] = [];
async function run(args: readonly string[]): Promise<Run> {
  const result = await knocker(args);
  outputs.push(result);
  return result;
}
async function ok(args: readonly string[]): Promise<string> {
  const result = await run(args);
  assert.equal(result.code, 0, `knocker ${args.join(" ")} exited ${result.code}:\n${result.stderr}`);
  assert.equal(result.stderr, "", "nothing on stderr");
  return result.stdout;
}
async function refused(code: 1 | 2, args: readonly string[]): Promise<string> {
  const line = await fails(code, args);
  outputs.push({ code, stdout: "", stderr: line });
  return line;
}

let role: Promise<void> | undefined;

let icuDatabases = 0;

/**
 * A new database on the test server, as the copier role's URL. `icu`: text sorts by a language's
 * rules there (the server's own databases sort by bytes, as SQLite does).
 */
async function newDatabase({ icu = false } = {}): Promise<string> {
  await (role ??= createRole());
  const url = new URL(icu ? await createIcuDatabase() : await server().createDatabase());
  url.username = ROLE;
  url.password = encodeURIComponent(PASSWORD);
  return url.href;
}

async function createIcuDatabase(): Promise<string> {
  const name = `knocker_icu_${process.pid}_${++icuDatabases}`;
  const admin = new pg.Client({ connectionString: server().url() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C.UTF-8'`);
  await admin.end();
  return server().url(name);
}

async function createRole(): Promise<void> {
  const admin = new pg.Client({ connectionString: server().url() });
  await admin.connect();
  await admin.query(`CREATE ROLE ${ROLE} LOGIN SUPERUSER PASSWORD '${PASSWORD}'`);
  await admin.end();
}

// ---- reading every table, engine-neutrally -------------------------------------------------------

/** Each table's rows as canonical strings (columns by name, integers as numbers, bodies as hex), sorted. */
type Dump = Map<string, string[]>;

function canonical(row: Record<string, unknown>): string {
  return Object.keys(row).sort().map((column) => {
    const value = row[column];
    if (value === null) return `${column}=null`;
    if (typeof value === "number") return `${column}=n:${value}`;
    if (typeof value === "string") return `${column}=s:${JSON.stringify(value)}`;
    if (Buffer.isBuffer(value)) return `${column}=b:${value.toString("hex")}`;
    return `${column}=?:${typeof value}:${String(value)}`;
  }).join(" ");
}

function dumpSqlite(path: string): Dump {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name").pluck().all() as string[];
    return new Map(tables.map((table) => [table, (db.prepare(`SELECT * FROM "${table}"`).all() as Array<Record<string, unknown>>).map(canonical).sort()]));
  } finally {
    db.close();
  }
}

const INT8 = 20;
const types = { getTypeParser: ((oid: number, format?: string) => (oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as never))) as typeof pg.types.getTypeParser };

/** The inbox's tables in `schema`; knocker_meta (Postgres's schema version) is left out. */
async function dumpPostgres(url: string, schema = "knocker"): Promise<Dump> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 AND tablename <> 'knocker_meta' ORDER BY tablename", [schema])).rows.map((r) => r.name);
    const dump: Dump = new Map();
    for (const table of tables) dump.set(table, (await client.query({ text: `SELECT * FROM "${schema}"."${table}"`, types })).rows.map(canonical).sort());
    return dump;
  } finally {
    await client.end();
  }
}

async function schemaExists(url: string, schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema])).rows.length > 0;
  } finally {
    await client.end();
  }
}

/** Table by table, so a failure names the table. */
function assertSameTables(actual: Dump, expected: Dump, what: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: the same tables`);
  for (const [table, rows] of expected) assert.deepEqual(actual.get(table), rows, `${what}: ${table}`);
}

// ---- the inbox ---------------------------------------------------------------------------------------

interface Original {
  path: string;
  ids: { received: number; failed: number; crashed: number; maxEvent: number; maxDelivery: number; maxJob: number };
}

/**
 * A SQLite inbox written by a real Knocker, with a row in every table: events in every status
 * (received, processing, handled, failed, dead, ignored), duplicate, orphan and rejected
 * deliveries, dropped-rejection counts, attempts, a prune audit (and the id gaps a prune leaves),
 * live jobs (pending, a retry due in an hour, a crashed worker's expired claim, another tool's
 * job with a payload that is not JSON), dead jobs, scheduler tasks and locks, bodies that are not
 * UTF-8 and text that is not ASCII.
 */
async function buildOriginal(): Promise<Original> {
  const path = join(tempDir("kcopy-"), "original.db");
  let clock = T0 - 10 * DAY;
  const webhooks = open(path, { maxAttempts: 2, retryBackoff: { initialS: 3600, maxS: 3600 }, invalidDeliveriesPerMinute: 1, now: () => clock });
  const stripe = webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
  const orders = webhooks.endpoint("orders", { path: "/orders" });
  webhooks.endpoint("nobody", { path: "/nobody" }); // no handler: its events die at once
  stripe.handle("invoice.paid", () => {});
  orders.handle("order.retry", () => {
    throw new Error("warehouse offline ✗");
  });
  orders.handle(() => {});
  const signed = (id: string, type: string) => {
    const body = JSON.stringify({ id, object: "event", type, data: { object: { id: `in_${id}`, note: "naïve ☃" } } });
    return { body, headers: { "content-type": "application/json", "stripe-signature": stripeSignature(body, SECRET, clock), "x-trace": "ünïcode" } };
  };
  const settled = (id: number) => async () => !["received"].includes((await webhooks.getEvent(id))!.status);

  // Old and handled, then pruned: a prune audit and gaps in the ids.
  const old = (await stripe.receive(signed("evt_old", "invoice.paid"))).eventId!;
  await drain(webhooks, settled(old));
  clock = T0;
  await webhooks.pruneEvents({ statuses: ["handled"], olderThan: T0 - 5 * DAY, limit: 10 });

  const handled = (await stripe.receive(signed("evt_paid", "invoice.paid"))).eventId!;
  await stripe.receive(signed("evt_paid", "invoice.paid")); // a duplicate delivery
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i)); // not UTF-8
  const blob = (await orders.receive({ body: binary, eventType: "order.blob", dedupeKey: "blob" })).eventId!;
  const failed = (await orders.receive({ body: '{"order":1}', eventType: "order.retry" })).eventId!;
  const dead = (await webhooks.ingest({ endpoint: "nobody", body: "{}", eventType: "nobody.cares" })).eventId!;
  await drain(webhooks, async () => (await Promise.all([handled, blob, failed, dead].map((id) => settled(id)()))).every(Boolean));
  assert.equal((await webhooks.getEvent(failed))!.status, "failed", "a retry is due in an hour");
  assert.equal((await webhooks.getEvent(dead))!.status, "dead");

  const ignored = (await orders.receive({ body: "to be ignored", eventType: "order.noise" })).eventId!;
  await webhooks.ignore(ignored);
  const processing = (await orders.receive({ body: "{}", eventType: "order.processing" })).eventId!;
  const crashed = (await orders.receive({ body: "{}", eventType: "order.crashed" })).eventId!;
  const received = (await orders.receive({ body: "order 7 shipped", eventType: "order.shipped", dedupeKey: "o7" })).eventId!;
  // Rejected receipts: one stored (an orphan delivery), the rest of the minute's only counted.
  for (let i = 0; i < 3; i++) await stripe.receive({ body: `{"forged":${i}}`, headers: { "stripe-signature": `t=${clock},v1=00` } });
  await webhooks.pruneOrphanDeliveries({ olderThan: T0 - DAY, limit: 10 }); // nothing that old: an audit row anyway

  // A scheduler task (and whatever its first fire leaves) from a short retention run.
  const stop = new AbortController();
  const retention = webhooks.runRetention(new RetentionPolicy({ intervalS: 3600, eventOlderThanS: 30 * DAY }), { signal: stop.signal });
  await new Promise((resolve) => setTimeout(resolve, 300));
  stop.abort();
  await retention;
  await webhooks.close(); // writes the dropped-rejection counts

  // What other writers leave: an event another binding marked processing, a crashed worker's
  // claim, another tool's job that is not JSON, and locks with names in byte order (Z < a < é).
  const db = new Database(path);
  db.prepare("UPDATE knocker_events SET status = 'processing' WHERE id = ?").run(processing);
  db.prepare("UPDATE _honker_live SET state = 'processing', worker_id = 'crashed-worker', claim_expires_at = ?, attempts = 1 WHERE json_extract(payload, '$.event_id') = ?").run(T0 + 60, crashed);
  const otherJob = db.prepare("INSERT INTO _honker_live (queue, payload, run_at, created_at) VALUES ('other.tool', 'not json at all', ?, ?)");
  otherJob.run(T0, T0);
  // Acked since: the live counter is past every id left (a new job must not reuse it).
  db.prepare("DELETE FROM _honker_live WHERE id = ?").run(otherJob.run(T0, T0).lastInsertRowid);
  const lock = db.prepare("INSERT INTO _honker_locks (name, owner, expires_at) VALUES (?, ?, ?)");
  for (const name of ["é-lock", "a-lock", "Z-lock"]) lock.run(name, "someone", T0 + 100);
  const max = (sql: string) => db.prepare(sql).pluck().get() as number;
  const ids = {
    received, failed, crashed,
    maxEvent: max("SELECT seq FROM sqlite_sequence WHERE name = 'knocker_events'"),
    maxDelivery: max("SELECT seq FROM sqlite_sequence WHERE name = 'knocker_deliveries'"),
    maxJob: Math.max(max("SELECT seq FROM sqlite_sequence WHERE name = '_honker_live'"), max("SELECT MAX(id) FROM _honker_dead")),
  };
  db.close();

  // Every table holds rows, every status is there.
  const dump = dumpSqlite(path);
  for (const [table, rows] of dump) assert.ok(rows.length > 0, `${table} has rows`);
  const statuses = new Set(dump.get("knocker_events")!.map((row) => /status=s:"(\w+)"/.exec(row)![1]));
  assert.deepEqual([...statuses].sort(), ["dead", "failed", "handled", "ignored", "processing", "received"]);
  const liveIds = dump.get("_honker_live")!.map((row) => Number(/(?:^| )id=n:(\d+)/.exec(row)![1]));
  assert.ok(ids.maxJob > Math.max(...liveIds), "the live counter is past the ids left");
  return { path, ids };
}

/**
 * A copy is an inbox: opened with open(), its worker handles the copied pending job, the retry
 * (an hour later) and the crashed claim; a new receipt gets ids after every copied one.
 */
async function assertRunnable(target: string, original: Original, read: (sql: string) => Promise<number>): Promise<void> {
  const webhooks: Knocker = open(target, { maxAttempts: 2, now: () => T0 + 2 * 3600 });
  try {
    const handled: number[] = [];
    webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
    webhooks.endpoint("orders", { path: "/orders" }).handle((event) => void handled.push(event.id));
    webhooks.endpoint("nobody", { path: "/nobody" });
    const { received, failed, crashed } = original.ids;
    const done = async () => (await Promise.all([received, failed, crashed].map((id) => webhooks.getEvent(id)))).every((e) => e!.status === "handled");
    await drain(webhooks, done, { timeoutMs: 15_000 });
    assert.ok(await done(), `the copied jobs ran on ${target.replace(/:[^:@/]*@/, ":***@")}`);
    assert.deepEqual([...handled].sort((a, b) => a - b), [received, failed, crashed].sort((a, b) => a - b));

    const fresh = await webhooks.ingest({ endpoint: "orders", body: "after the copy", eventType: "order.new" });
    assert.ok(fresh.eventId! > original.ids.maxEvent, `new event id ${fresh.eventId} after ${original.ids.maxEvent}`);
    assert.ok(fresh.deliveryId! > original.ids.maxDelivery, `new delivery id ${fresh.deliveryId} after ${original.ids.maxDelivery}`);
    const job = await read(`SELECT MAX(id) FROM _honker_live WHERE queue = 'knocker.events'`);
    assert.ok(job > original.ids.maxJob, `new job id ${job} after ${original.ids.maxJob} (live and dead)`);
  } finally {
    await webhooks.close();
  }
}

const readSqlite = (path: string) => async (sql: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).pluck().get() as number;
  } finally {
    db.close();
  }
};
const readPostgres = (url: string) => async (sql: string) => {
  const client = new pg.Client({ connectionString: url, options: "-c search_path=knocker" });
  await client.connect();
  try {
    return Number(Object.values((await client.query(sql)).rows[0]!)[0]);
  } finally {
    await client.end();
  }
};

/** The verification table: every Knocker table, its counts and checksums equal, "ok". */
function assertVerified(stdout: string, from: string, to: string, expected: Dump): void {
  const lines = stdout.trimEnd().split("\n");
  const total = [...expected.values()].reduce((n, rows) => n + rows.length, 0);
  assert.equal(lines[0], `Copied ${from} to ${to}: ${total} rows in 10 tables.`);
  assert.match(lines[2]!, /^TABLE +SOURCE ROWS +TARGET ROWS +SOURCE SHA-256 +TARGET SHA-256 +CHECK$/);
  const rows = lines.slice(3, 13).map((line) => line.split(/ {2,}/));
  assert.deepEqual(rows.map((r) => r[0]).sort(), [...expected.keys()].sort());
  for (const [table, sourceRows, targetRows, sourceSum, targetSum, check] of rows) {
    assert.deepEqual([sourceRows, targetRows, check], [String(expected.get(table!)!.length), String(expected.get(table!)!.length), "ok"], table);
    assert.equal(sourceSum, targetSum, table);
    assert.match(sourceSum!, /^[0-9a-f]{16}$/);
  }
  assert.equal(lines.at(-1), "Verified: every table has the same rows on both sides (row count and SHA-256 of every row, read back).");
}

const label = (url: string) => `${url.replace(/:[^:@/]*@/, ":***@")} (schema knocker)`;

test("SQLite → Postgres → SQLite: every table, row for row and ids included, and each copy runs as an inbox", async () => {
  const original = await buildOriginal();
  const expected = dumpSqlite(original.path);

  const url = await newDatabase();
  assertVerified(await ok(["copy", "--from", original.path, "--to", url]), original.path, label(url), expected);
  assertSameTables(await dumpPostgres(url), expected, "the Postgres copy");

  const back = join(tempDir("kcopy-"), "back.db");
  const json = JSON.parse(await ok(["copy", "--from", url, "--to", back, "--json"])) as {
    from: string; to: string; rows: number; verified: boolean; countersBehind: string[];
    tables: Array<{ table: string; source: { rows: number; sha256: string }; target: { rows: number; sha256: string }; match: boolean }>;
  };
  assert.deepEqual([json.from, json.to, json.verified, json.countersBehind], [label(url), back, true, []]);
  assert.equal(json.rows, [...expected.values()].reduce((n, rows) => n + rows.length, 0));
  for (const check of json.tables) {
    assert.deepEqual([check.source.rows, check.target.rows, check.match], [expected.get(check.table)!.length, expected.get(check.table)!.length, true], check.table);
    assert.match(check.source.sha256, /^[0-9a-f]{64}$/);
    assert.equal(check.source.sha256, check.target.sha256);
  }
  assertSameTables(dumpSqlite(back), expected, "the SQLite copy of the Postgres copy");
  // The same rows give the same checksums, whichever engine they were read from.
  const first = await ok(["copy", "--from", original.path, "--to", join(tempDir("kcopy-"), "again.db")]);
  const sums = (text: string) => text.split("\n").slice(3, 13).map((line) => line.split(/ {2,}/).slice(0, 4).join(" "));
  assert.deepEqual(sums(first), json.tables.map((t) => `${t.table} ${t.source.rows} ${t.target.rows} ${t.source.sha256.slice(0, 16)}`));

  assertSameTables(dumpSqlite(original.path), expected, "the source, after being copied twice");
  await assertRunnable(url, original, readPostgres(url));
  await assertRunnable(back, original, readSqlite(back));
});

test("a large inbox moves a page at a time: integer, composite and text keys, text keys in byte order on both engines", async () => {
  const path = join(tempDir("kcopy-"), "large.db");
  const webhooks = open(path);
  webhooks.endpoint("bulk", { path: "/bulk" });
  webhooks.endpoint("other", { path: "/other" });
  const receipts = Array.from({ length: 1_250 }, (_, i) =>
    webhooks.ingest({ endpoint: i % 3 === 0 ? "other" : "bulk", body: Buffer.from(Array.from({ length: 64 + (i % 7) }, (_, b) => (i * 31 + b) % 256)), eventType: `t${i % 5}` }));
  await Promise.all(receipts);
  await webhooks.close();
  const db = new Database(path);
  // 1,100 dropped counts (key: endpoint, minute) and 1,100 locks whose names sort differently by
  // byte and by a language's collation: upper and lower case, accents, digits, prefixes.
  const dropped = db.prepare("INSERT INTO knocker_dropped_rejections (endpoint_id, minute, dropped) VALUES (?, ?, ?)");
  for (let i = 0; i < 1_100; i++) dropped.run(1 + (i % 2), 28_000_000 + Math.floor(i / 2), 1 + (i % 9));
  const lock = db.prepare("INSERT INTO _honker_locks (name, owner, expires_at) VALUES (?, 'someone', ?)");
  const stems = ["a", "A", "b", "B", "é", "E", "z", "Z", "_", "-", "ä", "ß", "1", "10", "2", "ａ", "日本"];
  for (let i = 0; i < 1_100; i++) lock.run(`${stems[i % stems.length]}${stems[(i * 7) % stems.length]}-${Math.floor(i / stems.length)}`, T0 + i);
  db.close();
  const expected = dumpSqlite(path);
  assert.equal(expected.get("knocker_events")!.length, 1_250);

  // A database whose text sorts by English rules, not bytes: the copy still reads and compares in byte order.
  const url = await newDatabase({ icu: true });
  assertVerified(await ok(["copy", "--from", path, "--to", url]), path, label(url), expected);
  assertSameTables(await dumpPostgres(url), expected, "the Postgres copy");
  const back = join(tempDir("kcopy-"), "back.db");
  assertVerified(await ok(["copy", "--from", url, "--to", back]), label(url), back, expected);
  assertSameTables(dumpSqlite(back), expected, "the SQLite copy of the Postgres copy");
});

test("refusals: the target exists or holds an inbox, a missing or foreign source, the same inbox twice; nothing is written", async () => {
  const original = await buildOriginal();
  const dir = tempDir("kcopy-");

  // A SQLite target that exists, whatever it holds.
  const existing = join(dir, "existing.db");
  const app = new Database(existing);
  app.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)");
  app.close();
  assert.equal(await refused(1, ["copy", "--from", original.path, "--to", existing]),
    `knocker: ${existing} already exists; knocker copy writes a new inbox (remove it, or name a new file)`);
  assert.deepEqual([...dumpSqlite(existing).keys()], ["users"]);

  // A Postgres schema that holds an inbox already; an empty Knocker schema is fine.
  const url = await newDatabase();
  await ok(["copy", "--from", original.path, "--to", url]);
  const before = await dumpPostgres(url);
  assert.equal(await refused(1, ["copy", "--from", original.path, "--to", url]),
    `knocker: ${label(url)} already holds an inbox (rows in knocker_endpoints, knocker_events, knocker_deliveries, knocker_attempts, ` +
      "knocker_dropped_rejections, knocker_prune_audits, _honker_live, _honker_dead, _honker_locks, _honker_scheduler_tasks); " +
      "knocker copy writes into a schema that does not exist yet or holds no Knocker rows (name another with --to-schema)");
  assertSameTables(await dumpPostgres(url), before, "the refused target");
  const empty = open(url, { schema: "empty" });
  await empty.listEvents(); // creates the schema, no rows
  await empty.close();
  await ok(["copy", "--from", original.path, "--to", url, "--to-schema", "empty"]);
  assertSameTables(await dumpPostgres(url, "empty"), dumpSqlite(original.path), "the copy into an empty schema");

  // A missing source, a file that is not a Knocker database, a schema without one: usage errors, no target.
  const target = join(dir, "never.db");
  const missing = join(dir, "missing.db");
  assert.equal(await refused(2, ["copy", "--from", missing, "--to", target]), `knocker: no database at ${missing} (pass --from PATH)`);
  assert.equal(await refused(2, ["copy", "--from", existing, "--to", target]), `knocker: ${existing} is not a Knocker database (it has no knocker_events table)`);
  assert.equal(await refused(2, ["copy", "--from", url, "--from-schema", "nope", "--to", target]),
    `knocker: no schema "nope" in ${url.replace(/:[^:@/]*@/, ":***@")} (pass --from-schema NAME or --schema NAME)`);
  assert.equal(await refused(2, ["copy", "--from", url, "--schema", "public", "--to", target]),
    `knocker: schema "public" in ${url.replace(/:[^:@/]*@/, ":***@")} is not a Knocker inbox (it has no knocker_events table)`);
  const otherDb = await newDatabase();
  assert.equal(await refused(2, ["copy", "--from", missing, "--to", otherDb]), `knocker: no database at ${missing} (pass --from PATH)`);
  assert.ok(!existsSync(target), "no SQLite target was created");
  assert.equal(await schemaExists(otherDb, "knocker"), false, "no Postgres schema was created");

  // The same inbox on both sides.
  const alias = `${dirname(original.path)}/./../${basename(dirname(original.path))}/${basename(original.path)}`;
  assert.equal(await refused(2, ["copy", "--from", original.path, "--to", alias]), `knocker: --from and --to name the same inbox (${alias}); copy it to a new file or schema`);
  const sameDatabase = `${url}?application_name=copy`;
  assert.equal(await refused(2, ["copy", "--from", url, "--to", sameDatabase]), `knocker: --from and --to name the same inbox (${label(sameDatabase)}); copy it to a new file or schema`);
  assert.equal(await refused(2, ["copy", "--from", url, "--to", url, "--schema", "empty"]),
    `knocker: --from and --to name the same inbox (${label(url).replace("(schema knocker)", "(schema empty)")}); copy it to a new file or schema`);

  // Usage errors.
  assert.equal(await refused(2, ["copy", "--from", original.path]), "knocker: copy needs --from SOURCE and --to TARGET (a SQLite file or a postgres:// URL each)");
  assert.equal(await refused(2, ["copy", "--db", original.path, "--to", target]), "knocker: copy takes --from SOURCE and --to TARGET, not --db");
  assert.equal(await refused(2, ["copy", "--from", original.path, "--to", target, "--schema", "x"]),
    "knocker: --schema applies to a Postgres database (postgres://…) only; --from and --to are SQLite files");
  assert.equal(await refused(2, ["copy", "--from", original.path, "--from-schema", "x", "--to", url]),
    `knocker: --from-schema applies to a Postgres database (postgres://…) only; --from ${original.path} is a SQLite file`);
  assert.ok(!existsSync(target));
});

test("a copy that fails part-way leaves nothing behind: Postgres cannot store a NUL character that SQLite holds", async () => {
  const path = join(tempDir("kcopy-"), "nul.db");
  const webhooks = open(path);
  webhooks.endpoint("orders", { path: "/orders" });
  await webhooks.ingest({ endpoint: "orders", body: "{}", eventType: "fine" });
  const { eventId } = await webhooks.ingest({ endpoint: "orders", body: "{}", eventType: "bad type" });
  await webhooks.close();
  // This release refuses a NUL in an event type, but a file written by an earlier one can hold it.
  const file = new Database(path);
  file.prepare("UPDATE knocker_events SET event_type = 'bad' || char(0) || 'type' WHERE id = ?").run(eventId);
  file.close();
  const url = await newDatabase();
  assert.equal(await refused(1, ["copy", "--from", path, "--to", url]),
    `knocker: knocker_events (id ${eventId}): column event_type holds a NUL character, which a Postgres text column cannot store; nothing was copied`);
  assert.equal(await schemaExists(url, "knocker"), false, "the schema was rolled back with the rows");
});

test("a copy into SQLite that fails part-way removes the file it created: an integer beyond 2^53 in a Postgres bigint", async () => {
  const path = join(tempDir("kcopy-"), "small.db");
  const webhooks = open(path);
  webhooks.endpoint("orders", { path: "/orders" });
  await webhooks.ingest({ endpoint: "orders", body: "{}", eventType: "t" });
  await webhooks.close();
  const url = await newDatabase();
  await ok(["copy", "--from", path, "--to", url]);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const job = (await client.query<{ id: string }>("UPDATE knocker._honker_live SET expires_at = 1152921504606846976 RETURNING id")).rows[0]!.id;
  await client.end();
  const target = join(tempDir("kcopy-"), "never.db");
  assert.equal(await refused(1, ["copy", "--from", url, "--to", target]),
    `knocker: _honker_live (id ${job}): column expires_at holds the integer 1152921504606846976, beyond what a JavaScript number holds exactly (2^53); it cannot be copied unchanged`);
  for (const file of [target, `${target}-wal`, `${target}-shm`]) assert.ok(!existsSync(file), `${file} was removed`);
});

test("tables of the app in the source file are not copied, and said so", async () => {
  const path = join(tempDir("kcopy-"), "shared.db");
  const webhooks = open(path);
  webhooks.endpoint("orders", { path: "/orders" });
  await webhooks.ingest({ endpoint: "orders", body: "{}", eventType: "t" });
  await webhooks.close();
  const db = new Database(path);
  db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY); CREATE TABLE orders (id INTEGER PRIMARY KEY)");
  db.close();
  const target = join(tempDir("kcopy-"), "copy.db");
  const result = await run(["copy", "--from", path, "--to", target]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, `knocker: warning: not copied: orders, users (2 tables of ${path} that are not Knocker's)\n`);
  assert.deepEqual([...dumpSqlite(target).keys()].filter((t) => !t.startsWith("knocker_") && !t.startsWith("_honker_")), []);
});

test("the password of a postgres:// URL is never printed, in the user info or the query, also when the connection fails", async () => {
  const url = await newDatabase();
  const inQuery = url.replace(`${ROLE}:${encodeURIComponent(PASSWORD)}@`, `${ROLE}@`) + `?password=${encodeURIComponent(PASSWORD)}`;
  const source = join(tempDir("kcopy-"), "small.db");
  const webhooks = open(source);
  webhooks.endpoint("orders", { path: "/orders" });
  await webhooks.ingest({ endpoint: "orders", body: "{}", eventType: "t" });
  await webhooks.close();
  await ok(["copy", "--from", source, "--to", inQuery, "--to-schema", "from_query"]);
  await run(["copy", "--from", inQuery, "--from-schema", "from_query", "--to", url.replace(/\/[^/]*$/, "/no_such_database")]);
  await run(["copy", "--from", source, "--to", url.replace(/:\d+\//, ":1/")]);
  await run(["events", "--db", url.replace(encodeURIComponent(PASSWORD), encodeURIComponent("wrong-" + PASSWORD))]);
  await run(["stats", "--db", inQuery, "--schema", "from_query"]);
  await run(["stats", "--db", url, "--schema", "nope"]);
  assert.ok(outputs.length >= 20, `${outputs.length} runs checked`);
  for (const output of outputs) {
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD), "s3cret"]) {
      assert.ok(!output.stdout.includes(form) && !output.stderr.includes(form), `the password in:\n${output.stdout}${output.stderr}`);
    }
  }
  assert.ok(outputs.some((o) => o.stderr.includes(`postgres://${ROLE}:***@`)), "URLs are shown with the password masked");
});
