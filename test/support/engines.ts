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

/** A place for a new inbox, nothing created yet: for tests that hand it to the CLI (--db). */
export interface TestLocation {
  /** What open() and `--db` take: a new SQLite file's path, or a new database's URL. */
  db: string;
  /**
   * A reader of the inbox's tables there, for once the inbox exists (SQLite: a read-only
   * connection per query, as an outside tool reads the file).
   */
  sql: TableReader;
}

export interface TestEngine {
  name: "sqlite" | "postgres";
  /** A Knocker on a fresh, empty inbox of this engine. */
  open(options?: OpenOptions): Promise<Knocker>;
  /** The same, with a reader of its tables. */
  inbox(options?: OpenOptions): Promise<TestInbox>;
  location(): Promise<TestLocation>;
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
    location: async () => {
      const path = tempDbPath();
      const once = <T>(fn: (db: Database.Database) => T): T => {
        const db = new Database(path, { readonly: true, fileMustExist: true });
        try {
          return fn(db);
        } finally {
          db.close();
        }
      };
      return {
        db: path,
        sql: {
          all: async (text, ...params) => once((db) => db.prepare(text).all(...params)) as never,
          one: async (text, ...params) => once((db) => db.prepare(text).pluck().get(...params)) as never,
        },
      };
    },
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
    inbox: async (options) => {
      server ??= startPostgres();
      const url = await (await server).createDatabase();
      const webhooks = open(url, options);
      await webhooks.listEvents({ limit: 1 }); // the schema is created in the background: wait for it before reading tables
      return { webhooks, sql: pgReader(url, options?.schema) };
    },
    location: async () => {
      server ??= startPostgres();
      const url = await (await server).createDatabase();
      return { db: url, sql: pgReader(url) };
    },
  };
  /** Reads through a pool whose search_path is the inbox's schema; `?` placeholders become $n. */
  const pgReader = (url: string, schema = "knocker"): TableReader => {
    const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema},public` });
    cleanups.push(() => pool.end());
    const all = async (text: string, ...params: unknown[]) => {
      let n = 0;
      const result = await pool.query({ text: text.replace(/\?/g, () => `$${++n}`), values: params, types: pgTypes });
      return result.rows;
    };
    return {
      all: all as TableReader["all"],
      one: (async (text: string, ...params: unknown[]) => {
        const rows = await all(text, ...params);
        return rows.length === 0 ? undefined : Object.values(rows[0]!)[0];
      }) as TableReader["one"],
    };
  };
  return [sqlite, postgres];
}
