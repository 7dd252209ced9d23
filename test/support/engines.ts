// The engine matrix: one suite, run on every storage engine, the way pg-boss reruns its suite
// per backend. A file calls engineMatrix() once at its top level; each engine opens fresh inboxes
// (a new SQLite file, or a new database on one embedded Postgres server started for the file,
// only when a Postgres test runs). Each inbox comes with `sql`, a read of its tables that works
// on both engines: the same table names (Postgres: the connection's search_path is the inbox's
// schema), `?` placeholders, and integers as numbers.
import { after } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { open, type Knocker, type OpenOptions } from "../../src/index.js";
import { startPostgres, type TestPostgres } from "./postgres.js";
import { tempDbPath } from "../support.js";

export interface TableReader {
  all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** The first column of the first row (undefined when there is none). */
  one<T = unknown>(sql: string, ...params: unknown[]): Promise<T | undefined>;
}

export interface TestInbox {
  webhooks: Knocker;
  sql: TableReader;
}

export interface TestEngine {
  name: "sqlite" | "postgres";
  /** A Knocker on a fresh, empty inbox of this engine. */
  open(options?: OpenOptions): Promise<Knocker>;
  /** Where a fresh, empty inbox can be opened (a file path, a database URL), for tests that open it more than once. */
  location(): Promise<string>;
  /** The same, with a reader of its tables. */
  inbox(options?: OpenOptions): Promise<TestInbox>;
}

const INT8 = 20;
const NUMERIC = 1700;
const pgTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 || oid === NUMERIC ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as never)) as typeof pg.types.getTypeParser,
};

export function engineMatrix(): TestEngine[] {
  let server: Promise<TestPostgres> | undefined;
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    if (server) await (await server).stop();
  });
  const sqlite: TestEngine = {
    name: "sqlite",
    open: async (options) => open(tempDbPath(), options),
    location: async () => tempDbPath(),
    inbox: async (options) => {
      const path = tempDbPath();
      const webhooks = open(path, options);
      const db = new Database(path, { readonly: true });
      cleanups.push(() => db.close());
      return {
        webhooks,
        sql: {
          all: async (text, ...params) => db.prepare(text).all(...params) as never,
          one: async (text, ...params) => db.prepare(text).pluck().get(...params) as never,
        },
      };
    },
  };
  const postgres: TestEngine = {
    name: "postgres",
    open: async (options) => {
      server ??= startPostgres();
      return open(await (await server).createDatabase(), options);
    },
    location: async () => {
      server ??= startPostgres();
      return (await server).createDatabase();
    },
    inbox: async (options) => {
      server ??= startPostgres();
      const url = await (await server).createDatabase();
      const webhooks = open(url, options);
      await webhooks.listEvents({ limit: 1 }); // the schema is created in the background: wait for it before reading tables
      const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${options?.schema ?? "knocker"},public` });
      cleanups.push(() => pool.end());
      const all = async (text: string, ...params: unknown[]) => {
        let n = 0;
        const result = await pool.query({ text: text.replace(/\?/g, () => `$${++n}`), values: params, types: pgTypes });
        return result.rows;
      };
      return {
        webhooks,
        sql: {
          all: all as TableReader["all"],
          one: (async (text: string, ...params: unknown[]) => {
            const rows = await all(text, ...params);
            return rows.length === 0 ? undefined : Object.values(rows[0]!)[0];
          }) as TableReader["one"],
        },
      };
    },
  };
  return [sqlite, postgres];
}
