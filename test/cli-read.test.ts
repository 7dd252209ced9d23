// The `knocker` bin's reads (events, event, deliveries, delivery, audits, stats), its help and its
// usage errors: the built bin as a child process against a real inbox, on every engine (a SQLite
// file, or a Postgres database through --db postgres://…).
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { open } from "../src/index.js";
import { COMMANDS } from "../src/cli/cli.js";
import { buildBin, DAY, fails, ok, okJson, seedInbox, tableRows, type SeededInbox } from "./support/cli.js";
import { engineMatrix } from "./support/engines.js";
import { tempDir } from "./support.js";

const engines = engineMatrix();

before(() => buildBin());

type JsonEvent = { id: number; status: string; endpoint: string; eventType: string | null; body: string; bodyEncoding: string; attemptCount: number };
type JsonDelivery = { id: number; eventId: number | null; signatureValid: boolean | null; signatureError: string | null; body: string };

test("--help: the command list, each command's help, and no command at all (exit 2)", async () => {
  const help = await ok(["--help"]);
  for (const command of COMMANDS) assert.match(help, new RegExp(`^  ${command.name} +\\S`, "m"), command.name);
  assert.match(help, /Exit codes: 0 ok, 1 operation refused/);
  assert.equal(await ok(["help"]), help);

  for (const command of COMMANDS) {
    const text = await ok([command.name, "--help"]);
    assert.match(text, new RegExp(`^Usage: knocker ${command.name} `), command.name);
    assert.match(text, /--db PATH/);
    assert.match(text, /--schema NAME/);
    for (const option of Object.keys(command.options)) assert.match(text, new RegExp(`--${option}\\b`), `${command.name} --${option}`);
  }
  assert.equal(await ok(["help", "events"]), await ok(["events", "-h"]));
  assert.equal(await ok(["help", "--db", "other.db", "events"]), await ok(["events", "-h"]), "a global option's value is not the topic");

  // No command, or help for one that does not exist: a usage error in one line, like every other.
  const missing = `knocker: missing command: ${COMMANDS.map((c) => c.name).join(", ")} (see knocker --help)`;
  assert.equal(await fails(2, []), missing);
  assert.equal(await fails(2, ["--db", "x.db", "--json"]), missing);
  assert.equal(await fails(2, ["help", "nope"]), 'knocker: unknown command "nope" (see knocker --help)');
  assert.match(await ok(["--version"]), /^\d+\.\d+\.\d+\n$/);
});

for (const engine of engines) {
  describe(engine.name, () => {
    let db: string;
    let seeded: SeededInbox;

    before(async () => {
      db = (await engine.location()).db;
      seeded = await seedInbox(db);
      // One manual prune, so `audits` has a row: nothing is older than 30 days.
      const webhooks = open(db);
      await webhooks.pruneOrphanDeliveries({ olderThan: seeded.now - 30 * DAY, limit: 10 });
      await webhooks.close();
    });

    test("events: a table newest first, and --json with every field and the body as text", async () => {
      const { events } = seeded;
      const rows = tableRows(await ok(["events", "--db", db]));
      assert.deepEqual(rows.map((r) => r.slice(0, 5)), [
        [String(events.received), "received", "orders", "order.shipped", "0"],
        [String(events.dead), "dead", "stripe", "invoice.payment_failed", "1"],
        [String(events.handled), "handled", "stripe", "invoice.paid", "1"],
        [String(events.oldHandled), "handled", "stripe", "invoice.paid", "1"],
      ]);
      assert.equal(rows[1]![6], "card declined");
      assert.match(rows[0]![5]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

      const json = await okJson<JsonEvent[]>(["events", "--db", db]);
      assert.deepEqual(json.map((e) => e.id), [events.received, events.dead, events.handled, events.oldHandled]);
      assert.deepEqual(json[0], { ...json[0], status: "received", endpoint: "orders", body: "order 7 shipped", bodyEncoding: "utf8", attemptCount: 0 });
      assert.equal(JSON.parse(json[2]!.body).id, "evt_paid");
    });

    test("events: --status, --endpoint, --type, --since and --limit filter", async () => {
      const { events } = seeded;
      const ids = async (...args: string[]) => (await okJson<JsonEvent[]>(["events", "--db", db, ...args])).map((e) => e.id);
      assert.deepEqual(await ids("--status", "dead"), [events.dead]);
      assert.deepEqual(await ids("--endpoint", "orders"), [events.received]);
      assert.deepEqual(await ids("--type", "invoice.paid"), [events.handled, events.oldHandled]);
      assert.deepEqual(await ids("--since", "1d"), [events.received, events.dead, events.handled]);
      assert.deepEqual(await ids("--since", String(seeded.now - 11 * DAY)), [events.received, events.dead, events.handled, events.oldHandled]);
      assert.deepEqual(await ids("--since", new Date((seeded.now - DAY) * 1000).toISOString()), [events.received, events.dead, events.handled]);
      assert.deepEqual(await ids("--limit", "2"), [events.received, events.dead]);
      assert.deepEqual(await ids("--status", "handled", "--endpoint", "stripe", "--since", "2d"), [events.handled]);
      assert.equal(await ok(["events", "--db", db, "--status", "ignored"]), "No events match.\n");
      assert.deepEqual(await okJson(["events", "--db", db, "--status", "ignored"]), []);
    });

    test("event <id>: fields, headers, the JSON body pretty-printed, its deliveries and attempts", async () => {
      const { events, deliveries } = seeded;
      const text = await ok(["event", String(events.handled), "--db", db]);
      assert.match(text, new RegExp(`^Event ${events.handled} \\(stripe\\): handled\n`));
      assert.match(text, /^ {2}provider event id +evt_paid$/m);
      assert.match(text, /^ {2}stripe-signature: t=\d+,v1=[0-9a-f]{64}$/m);
      assert.match(text, /^Body \(JSON\)\n\{\n {2}"id": "evt_paid",\n {2}"object": "event",/m);
      const deliveryTable = text.slice(text.indexOf("Deliveries (2)\n") + "Deliveries (2)\n".length, text.indexOf("\nAttempts"));
      assert.deepEqual(tableRows(deliveryTable).map((r) => r.slice(0, 5)), [
        [String(deliveries.duplicate), String(events.handled), "stripe", "invoice.paid", "valid"],
        [String(deliveries.handled), String(events.handled), "stripe", "invoice.paid", "valid"],
      ]);
      assert.match(text, /\nAttempts \(1\)\nID +OUTCOME +AT \(UTC\) +DURATION +ERROR\n +\d+ +handled /);

      const dead = await ok(["event", String(events.dead), "--db", db]);
      assert.match(dead, /^ {2}last error +card declined$/m);
      assert.match(dead, /\n +\d+ +dead +\S+ \S+ +\d+ms +card declined\n/);
      const text2 = await ok(["event", String(events.received), "--db", db]);
      assert.match(text2, /^Body \(15 bytes\)\norder 7 shipped\n/m);

      const json = await okJson<JsonEvent & { deliveries: JsonDelivery[]; attempts: Array<{ outcome: string; error: string | null }> }>([
        "event", String(events.dead), "--db", db,
      ]);
      assert.equal(json.status, "dead");
      assert.equal(JSON.parse(json.body).type, "invoice.payment_failed");
      assert.deepEqual(json.deliveries.map((d) => d.eventId), [events.dead]);
      assert.deepEqual(json.attempts.map((a) => [a.outcome, a.error]), [["dead", "card declined"]]);

      assert.equal(await fails(1, ["event", "999", "--db", db]), "knocker: no event with id 999");
      assert.equal(await fails(2, ["event", "x1", "--db", db]), 'knocker: event id must be a positive integer, got "x1"');
      assert.equal(await fails(2, ["event", "--db", db]), "knocker: event needs <id>");
      assert.equal(await fails(2, ["event", "1", "2", "--db", db]), 'knocker: unexpected argument "2" for event');
    });

    test("deliveries: a table, --invalid, --orphaned, --event, --endpoint, --json", async () => {
      const { events, deliveries } = seeded;
      const rows = tableRows(await ok(["deliveries", "--db", db]));
      // The old orphan is still there (the seeded prune only removed orphans older than 30 days).
      assert.equal(rows.length, 7);
      const invalidRow = rows.find((r) => r[0] === String(deliveries.invalid))!;
      assert.deepEqual(invalidRow.slice(0, 5), [String(deliveries.invalid), "-", "stripe", "-", "invalid"]);
      assert.equal(invalidRow[6], "missing signature header: stripe-signature");

      const ids = async (...args: string[]) => (await okJson<JsonDelivery[]>(["deliveries", "--db", db, ...args])).map((d) => d.id);
      assert.deepEqual(await ids("--invalid"), [deliveries.invalid, deliveries.oldOrphan]);
      assert.deepEqual(await ids("--orphaned", "--since", "1d"), [deliveries.invalid]);
      assert.deepEqual(await ids("--event", String(events.handled)), [deliveries.duplicate, deliveries.handled]);
      assert.deepEqual(await ids("--endpoint", "orders"), [(await okJson<JsonDelivery[]>(["deliveries", "--db", db, "--linked", "--endpoint", "orders"]))[0]!.id]);
      assert.equal((await ids("--valid")).length, 5);
      assert.equal(await fails(2, ["deliveries", "--db", db, "--invalid", "--valid"]), "knocker: --invalid and --valid exclude each other");
    });

    test("delivery <id>: the signature result and the body; --json", async () => {
      const { deliveries } = seeded;
      const text = await ok(["delivery", String(deliveries.oldOrphan), "--db", db]);
      assert.match(text, new RegExp(`^Delivery ${deliveries.oldOrphan} \\(stripe\\): no event\n {2}signature +invalid: stripe signature mismatch\n`));
      assert.match(text, /^Body \(JSON\)\n\{\}\n/m);
      const linked = await ok(["delivery", String(deliveries.duplicate), "--db", db]);
      assert.match(linked, new RegExp(`^Delivery ${deliveries.duplicate} \\(stripe\\): event ${seeded.events.handled}\n {2}signature +valid\n`));

      const json = await okJson<JsonDelivery>(["delivery", String(deliveries.invalid), "--db", db]);
      assert.deepEqual([json.id, json.eventId, json.signatureValid, json.signatureError, json.body], [
        deliveries.invalid, null, false, "missing signature header: stripe-signature", "{}",
      ]);
      assert.equal(await fails(1, ["delivery", "999", "--db", db]), "knocker: no delivery with id 999");
    });

    test("audits: the prune audit rows, --kind, --json", async () => {
      const rows = tableRows(await ok(["audits", "--db", db]));
      assert.equal(rows.length, 1);
      assert.deepEqual([rows[0]![1], ...rows[0]!.slice(3)], ["orphans", "0", "0", "0", "0", "manual"]);
      const json = await okJson<Array<{ kind: string; deliveriesPruned: number; summary: { source: string } }>>(["audits", "--db", db]);
      assert.deepEqual(json.map((a) => [a.kind, a.deliveriesPruned, a.summary.source]), [["prune_orphan_deliveries", 0, "manual"]]);
      assert.deepEqual(await okJson(["audits", "--db", db, "--kind", "events"]), []);
      assert.equal(await ok(["audits", "--db", db, "--kind", "events"]), "No prune audits match.\n");
      assert.equal(await fails(2, ["audits", "--db", db, "--kind", "all"]), 'knocker: --kind must be events or orphans, got "all"');
    });

    test("stats: counts per status and endpoint, queue depth, oldest pending, dead letters", async () => {
      const text = await ok(["stats", "--db", db]);
      assert.match(text, /^Events: 4\n/);
      const table = text.slice(text.indexOf("\n") + 1, text.indexOf("\n\n"));
      assert.deepEqual(tableRows(table), [
        ["orders", "-", "1", "0", "0", "0", "0", "1"],
        ["stripe", "stripe", "0", "2", "0", "1", "0", "3"],
        ["(all)", "-", "1", "2", "0", "1", "0", "4"],
      ]);
      assert.match(table, /^ENDPOINT +PROVIDER +RECEIVED +HANDLED +FAILED +DEAD +IGNORED +TOTAL$/m);
      assert.match(text, /^Queue knocker\.events: 1 job \(1 pending, 0 processing\), oldest pending \d+s$/m);
      assert.match(text, /^Dead: 1 event, 1 job in _honker_dead$/m);
      assert.match(text, /^Deliveries: 7 \(2 invalid, 2 without an event\)$/m);

      const json = await okJson<{
        events: Record<string, number>; endpoints: Array<Record<string, unknown>>; queue: Record<string, unknown>;
        dead: Record<string, number>; deliveries: Record<string, number>;
      }>(["stats", "--db", db]);
      assert.deepEqual(json.events, { received: 1, processing: 0, handled: 2, failed: 0, dead: 1, ignored: 0, total: 4 });
      assert.deepEqual(json.endpoints.map((e) => [e.endpoint, e.provider, e.total]), [["orders", null, 1], ["stripe", "stripe", 3]]);
      assert.deepEqual({ ...json.queue, oldestPendingAgeS: typeof json.queue.oldestPendingAgeS }, {
        name: "knocker.events", depth: 1, pending: 1, processing: 0, oldestPendingAgeS: "number",
      });
      assert.deepEqual(json.dead, { events: 1, jobs: 1 });
      assert.deepEqual(json.deliveries, { total: 7, invalid: 2, orphaned: 2, dropped: 0 });

      // Another queue name sees none of this queue's jobs.
      const other = await okJson<{ queue: { depth: number; oldestPendingAgeS: number | null }; dead: { jobs: number } }>([
        "stats", "--db", db, "--queue", "other.queue",
      ]);
      assert.deepEqual([other.queue.depth, other.queue.oldestPendingAgeS, other.dead.jobs], [0, null, 0]);
    });

    test("stats: rejected receipts counted but not stored (over invalidDeliveriesPerMinute) are shown", async () => {
      const path = (await engine.location()).db;
      const webhooks = open(path, { invalidDeliveriesPerMinute: 1 });
      const stripe = webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: ["whsec_stats"] });
      for (let i = 0; i < 4; i++) await stripe.receive({ body: "{}", headers: {} });
      await webhooks.close(); // writes the counts
      assert.match(await ok(["stats", "--db", path]), /^Deliveries: 1 \(1 invalid, 1 without an event\); 3 more rejected and not stored \(over invalidDeliveriesPerMinute\)$/m);
      const json = await okJson<{ deliveries: Record<string, number> }>(["stats", "--db", path]);
      assert.deepEqual(json.deliveries, { total: 1, invalid: 1, orphaned: 1, dropped: 3 });
    });

    test("--db defaults to $KNOCKER_DB", async () => {
      const ids = (json: string) => (JSON.parse(json) as JsonEvent[]).map((e) => e.id);
      const viaEnv = await ok(["events", "--json", "--status", "dead"], { env: { KNOCKER_DB: db } });
      assert.deepEqual(ids(viaEnv), [seeded.events.dead]);
      // --db wins over the environment.
      const other = (await engine.location()).db;
      const local = open(other);
      local.endpoint("local", { path: "/local" });
      await local.ingest({ endpoint: "local", body: "{}", eventType: "local.thing" });
      await local.close();
      assert.deepEqual((JSON.parse(await ok(["events", "--json", "--db", other], { env: { KNOCKER_DB: db } })) as JsonEvent[]).map((e) => e.eventType), ["local.thing"]);
    });

    test("usage errors: one line on stderr, exit 2", async () => {
      assert.equal(await fails(2, ["nope"]), 'knocker: unknown command "nope" (see knocker --help)');
      assert.equal(await fails(2, ["events", "--db", db, "--bogus"]), "knocker: unknown option --bogus (see knocker events --help)");
      assert.equal(await fails(2, ["events", "--db", db, "--limit"]), "knocker: option --limit needs a value (see knocker events --help)");
      assert.equal(await fails(2, ["events", "--db", db, "--json=yes"]), "knocker: option --json does not take a value (see knocker events --help)");
      // A value that starts with "-" is not taken as a value (it might be the next option): say so,
      // and how to pass one; an option really followed by the next option needs a value.
      assert.equal(await fails(2, ["events", "--db", db, "--limit", "-1"]),
        'knocker: option --limit was given "-1", which starts with "-" and reads as an option; to pass a value that starts with "-", write --limit=-1 (see knocker events --help)');
      assert.equal(await fails(2, ["events", "--db", db, "--limit=-1"]), 'knocker: --limit must be an integer from 1 to 1000, got "-1"');
      assert.equal(await fails(2, ["events", "--endpoint", "-x", "--db", db]),
        'knocker: option --endpoint was given "-x", which starts with "-" and reads as an option; to pass a value that starts with "-", write --endpoint=-x (see knocker events --help)');
      assert.equal(await ok(["events", "--endpoint=-x", "--db", db]), "No events match.\n");
      assert.equal(await fails(2, ["events", "--limit", "--json", "--db", db]), "knocker: option --limit needs a value (it is followed by option --json) (see knocker events --help)");
      assert.equal(await fails(2, ["events", "--since", "-h", "--db", db]), "knocker: option --since needs a value (it is followed by option -h) (see knocker events --help)");
      assert.equal(await fails(2, ["events", "--db", db, "--since", "-36h"]),
        'knocker: option --since was given "-36h", which starts with "-" and reads as an option; to pass a value that starts with "-", write --since=-36h (see knocker events --help)');
      assert.equal(await fails(2, ["events", "--db", db, "--status", "lost"]), 'knocker: --status must be one of received, processing, handled, failed, dead, ignored, got "lost"');
      assert.equal(await fails(2, ["events", "--db", db, "--limit", "1001"]), 'knocker: --limit must be an integer from 1 to 1000, got "1001"');
      assert.match(await fails(2, ["events", "--db", db, "--since", "yesterday"]), /^knocker: --since must be a duration back from now/);
      assert.equal(await fails(2, ["events", "extra", "--db", db]), 'knocker: unexpected argument "extra" for events');
      assert.equal(await fails(2, ["stats", "--db", db, "--max-attempts", "0"]), 'knocker: --max-attempts must be an integer from 1 to 1000, got "0"');
      // Global options may come before the command.
      assert.deepEqual((JSON.parse(await ok(["--db", db, "--json", "events", "--status", "dead"])) as JsonEvent[]).map((e) => e.id), [seeded.events.dead]);
    });
  });
}

test("without --db or $KNOCKER_DB, ./knocker.db in the working folder", async () => {
  const dir = tempDir();
  const local = open(join(dir, "knocker.db"));
  local.endpoint("local", { path: "/local" });
  await local.ingest({ endpoint: "local", body: "{}", eventType: "local.thing" });
  await local.close();
  const inCwd = JSON.parse(await ok(["events", "--json"], { cwd: dir })) as JsonEvent[];
  assert.deepEqual(inCwd.map((e) => e.eventType), ["local.thing"]);
});

test("a missing file or a file that is not a Knocker database is a usage error, and is left untouched", async () => {
  const dir = tempDir();
  const missing = join(dir, "nope.db");
  assert.equal(await fails(2, ["events", "--db", missing]), `knocker: no database at ${missing} (pass --db PATH or set KNOCKER_DB)`);
  assert.throws(() => statSync(missing), /ENOENT/);

  const foreign = join(dir, "app.db");
  const app = new Database(foreign);
  app.exec("CREATE TABLE users (id INTEGER PRIMARY KEY)");
  app.close();
  assert.equal(await fails(2, ["stats", "--db", foreign]), `knocker: ${foreign} is not a Knocker database (it has no knocker_events table)`);
  const check = new Database(foreign, { readonly: true });
  assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all(), ["users"]);
  check.close();

  const text = join(dir, "notes.txt");
  writeFileSync(text, "not a database at all, just some text that is long enough to have a header page".repeat(20));
  assert.match(await fails(2, ["events", "--db", text]), /^knocker: .*notes\.txt is not a readable SQLite database: /);
  assert.match(await fails(2, ["events", "--db", dir]), /is not a file/);
});

test("a database in a folder this user cannot write: the message names the -shm (or -wal) file SQLite must create", async () => {
  const dir = tempDir();
  const folder = join(dir, "read-only");
  mkdirSync(folder);
  const file = join(folder, "inbox.db");
  const { events } = await seedInbox(file);
  assert.ok(!existsSync(`${file}-shm`) && !existsSync(`${file}-wal`), "closed: SQLite removed its -wal and -shm");
  // The file itself stays writable, so only the folder is in the way. Root writes anywhere: as
  // root, the bin runs as nobody.
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? { uid: 65534, gid: 65534 } : {};
  if (asRoot) chmodSync(dir, 0o755);
  chmodSync(file, 0o666);
  chmodSync(folder, 0o555);
  const cannotCreate = (missing: string, what: string) =>
    `knocker: cannot create ${missing} (SQLite's ${what}, kept next to the database while it is open): the folder ${folder} ` +
    "is not writable by this user; make it writable, or work on a copy of the database in a writable folder";
  try {
    assert.equal(await fails(1, ["events", "--db", file], user), cannotCreate(`${file}-shm`, "shared-memory index"));
    assert.equal(await fails(1, ["ignore", String(events.received), "--db", file], user), cannotCreate(`${file}-shm`, "shared-memory index"));
    assert.equal(await fails(1, ["events", "--db", "inbox.db"], { ...user, cwd: folder }),
      "knocker: cannot create inbox.db-shm (SQLite's shared-memory index, kept next to the database while it is open): the current folder " +
        "is not writable by this user; make it writable, or work on a copy of the database in a writable folder");
    // With a -shm already there (another process has the file open, or left it), the -wal is the one.
    chmodSync(folder, 0o755);
    writeFileSync(`${file}-shm`, "");
    chmodSync(`${file}-shm`, 0o666);
    chmodSync(folder, 0o555);
    assert.equal(await fails(1, ["stats", "--db", file], user), cannotCreate(`${file}-wal`, "write-ahead log"));
  } finally {
    chmodSync(folder, 0o755);
  }
});

describe("postgres: --db postgres://…, --schema", () => {
  const postgres = engines.find((engine) => engine.name === "postgres")!;
  const sqliteEngine = engines.find((engine) => engine.name === "sqlite")!;
  const redacted = (url: string) => url.replace(`:${new URL(url).password}@`, ":***@");
  async function query(url: string, text: string): Promise<Array<Record<string, unknown>>> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  }
  const schemas = async (url: string) =>
    (await query(url, "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname")).map((r) => r.nspname);

  test("a database without a Knocker schema, or a schema without Knocker's tables, is a usage error; nothing is created", async () => {
    const { db: url } = await postgres.location();
    const password = new URL(url).password;
    const before = await schemas(url);
    assert.equal(await fails(2, ["events", "--db", url]), `knocker: no schema "knocker" in ${redacted(url)} (pass --schema NAME or set KNOCKER_SCHEMA)`);
    assert.equal(await fails(2, ["stats"], { env: { KNOCKER_DB: url } }), `knocker: no schema "knocker" in ${redacted(url)} (pass --schema NAME or set KNOCKER_SCHEMA)`);
    assert.deepEqual(await schemas(url), before, "no schema was created");

    await query(url, "CREATE SCHEMA app; CREATE TABLE app.users (id bigint PRIMARY KEY)");
    assert.equal(await fails(2, ["stats", "--db", url, "--schema", "app"]), `knocker: schema "app" in ${redacted(url)} is not a Knocker inbox (it has no knocker_events table)`);
    assert.deepEqual((await query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'app'")).map((r) => r.tablename), ["users"]);

    const missing = url.replace(/\/[^/]+$/, "/no_such_database");
    assert.equal(await fails(2, ["events", "--db", missing]),
      `knocker: no database at ${redacted(missing)}: database "no_such_database" does not exist (pass --db URL or set KNOCKER_DB)`);
    const wrongPassword = url.replace(`:${password}@`, ":not-the-password@");
    const refused = await fails(1, ["events", "--db", wrongPassword]);
    assert.match(refused, /^knocker: cannot connect to Postgres at postgres:\/\/postgres:\*\*\*@.*: password authentication failed for user "postgres"$/);
    const unreachable = url.replace(/:\d+\//, ":1/");
    assert.equal(await fails(1, ["stats", "--db", unreachable]), `knocker: cannot connect to Postgres at ${redacted(unreachable)}: connect ECONNREFUSED 127.0.0.1:1`);
    for (const line of [refused]) assert.ok(!line.includes("not-the-password"), line);
  });

  test("--schema and $KNOCKER_SCHEMA name the inbox's schema; a SQLite file refuses them", async () => {
    const { db: url } = await postgres.location();
    const tenant = open(url, { schema: "tenant_a" });
    tenant.endpoint("orders", { path: "/orders" });
    const { eventId } = await tenant.ingest({ endpoint: "orders", body: "{}", eventType: "order.placed" });
    await tenant.close();
    type Listed = Array<{ id: number; eventType: string }>;
    assert.deepEqual((await okJson<Listed>(["events", "--db", url, "--schema", "tenant_a"])).map((e) => [e.id, e.eventType]), [[eventId, "order.placed"]]);
    assert.deepEqual((await okJson<Listed>(["events"], { env: { KNOCKER_DB: url, KNOCKER_SCHEMA: "tenant_a" } })).map((e) => e.id), [eventId]);
    assert.deepEqual((await okJson<Listed>(["events", "--schema", "tenant_a"], { env: { KNOCKER_DB: url, KNOCKER_SCHEMA: "other" } })).map((e) => e.id), [eventId], "--schema wins");
    assert.equal(await ok(["ignore", String(eventId), "--db", url, "--schema", "tenant_a"]), `ignored event ${eventId} (orders): received → ignored; its handler will not run\n`);
    assert.equal(await fails(2, ["events", "--db", url]), `knocker: no schema "knocker" in ${redacted(url)} (pass --schema NAME or set KNOCKER_SCHEMA)`);
    assert.equal(await fails(2, ["events", "--db", url, "--schema", "Tenant-A"]),
      'knocker: --schema must be a lower-case Postgres identifier (letters, digits and _, at most 63, not starting with a digit), got "Tenant-A"');

    const file = (await sqliteEngine.location()).db;
    await seedInbox(file);
    assert.equal(await fails(2, ["events", "--db", file, "--schema", "tenant_a"]), `knocker: --schema applies to a Postgres database (postgres://…) only; --db ${file} is a SQLite file`);
    assert.equal(await fails(2, ["events"], { env: { KNOCKER_DB: file, KNOCKER_SCHEMA: "tenant_a" } }),
      `knocker: $KNOCKER_SCHEMA applies to a Postgres database (postgres://…) only; $KNOCKER_DB ${file} is a SQLite file`);
  });
});
