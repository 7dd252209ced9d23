// The engine matrix: one suite, run on every storage engine, the way pg-boss reruns its suite
// per backend. A file calls engineMatrix() once at its top level; each engine opens fresh inboxes
// (a new SQLite file, or a new database on one embedded Postgres server started for the file,
// only when a Postgres test runs). Each inbox comes with `sql`, reads and writes of its tables that
// work on both engines: the same table names (Postgres: the connection's search_path is the inbox's
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
  /** A write (rows put there as another process or binding could have). */
  run(sql: string, ...params: unknown[]): Promise<void>;
  /** Several writes in one transaction: all or nothing, and seen by the inbox all at once. */
  batch(statements: ReadonlyArray<readonly [string, ...unknown[]]>): Promise<void>;
}

/** A trigger that refuses a write (a full disk or a constraint part-way through, played on both engines). */
export interface Refusal {
  name: string;
  on: "INSERT" | "DELETE";
  table: string;
  /** A condition on `old.` (DELETE) or `new.` (INSERT) columns; none: every row. */
  when?: string;
  message: string;
}

export interface TestInbox {
  webhooks: Knocker;
  sql: TableReader;
  /** What open() was given: the SQLite file's path or the Postgres URL (for child processes). */
  target: string;
  /** Another Knocker on the same inbox (a restart, another process's view). */
  reopen(options?: OpenOptions): Knocker;
  /** Install `refusal`; the returned function removes it. */
  refuse(refusal: Refusal): Promise<() => Promise<void>>;
}

/** Reads only (an outside tool's view of the tables). */
export type TableRead = Pick<TableReader, "all" | "one">;

/** A place for a new inbox, nothing created yet: for tests that hand it to the CLI (--db) or a child process. */
export interface TestLocation {
  /** What open() and `--db` take: a new SQLite file's path, or a new database's URL. */
  db: string;
  /**
   * A reader of the inbox's tables there, for once the inbox exists (SQLite: a read-only
   * connection per query, as an outside tool reads the file).
   */
  sql: TableRead;
}

export interface TestEngine {
  name: "sqlite" | "postgres";
  /** A Knocker on a fresh, empty inbox of this engine. */
  open(options?: OpenOptions): Promise<Knocker>;
  /** Where a fresh, empty inbox can be opened (a file path, a database URL), for tests that open it more than once. */
  location(): Promise<TestLocation>;
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
      const db = new Database(path);
      db.pragma("busy_timeout = 5000");
      cleanups.push(() => db.close());
      return {
        webhooks,
        target: path,
        reopen: (more) => open(path, more),
        sql: {
          all: async (text, ...params) => db.prepare(text).all(...params) as never,
          one: async (text, ...params) => db.prepare(text).pluck().get(...params) as never,
          run: async (text, ...params) => void db.prepare(text).run(...params),
          batch: async (statements) => db.transaction(() => statements.forEach(([text, ...params]) => db.prepare(text).run(...params))).immediate(),
        },
        refuse: async ({ name, on, table, when, message }) => {
          db.exec(`CREATE TRIGGER ${name} BEFORE ${on} ON ${table} ${when ? `WHEN ${when}` : ""} BEGIN SELECT RAISE(ABORT, '${message}'); END`);
          return async () => void db.exec(`DROP TRIGGER ${name}`);
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
      const url = await (await server).createDatabase();
      const { all, one } = pgTables(url);
      return { db: url, sql: { all, one } };
    },
    inbox: async (options) => {
      server ??= startPostgres();
      const url = await (await server).createDatabase();
      const webhooks = open(url, options);
      await webhooks.listEvents({ limit: 1 }); // the schema is created in the background: wait for it before reading tables
      const { pool, ...sql } = pgTables(url, options?.schema);
      return {
        webhooks,
        target: url,
        reopen: (more) => open(url, more),
        sql,
        refuse: async ({ name, on, table, when, message }) => {
          await pool.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${message}'; END $$;
            CREATE TRIGGER ${name} BEFORE ${on} ON ${table} FOR EACH ROW ${when ? `WHEN (${when})` : ""} EXECUTE FUNCTION ${name}()`);
          return async () => void (await pool.query(`DROP TRIGGER ${name} ON ${table}; DROP FUNCTION ${name}()`));
        },
      };
    },
  };
  /** The tables of the inbox at `url`, through a pool whose search_path is its schema; `?` placeholders become $n. */
  function pgTables(url: string, schema = "knocker"): TableReader & { pool: pg.Pool } {
    const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema},public` });
    cleanups.push(() => pool.end());
    const bind = (text: string, params: unknown[]) => {
      let n = 0;
      return { text: text.replace(/\?/g, () => `$${++n}`), values: params, types: pgTypes };
    };
    const all = async (text: string, ...params: unknown[]) => (await pool.query(bind(text, params))).rows;
    return {
      pool,
      all: all as TableReader["all"],
      one: (async (text: string, ...params: unknown[]) => {
        const rows = await all(text, ...params);
        return rows.length === 0 ? undefined : Object.values(rows[0]!)[0];
      }) as TableReader["one"],
      run: async (text, ...params) => void (await pool.query(bind(text, params))),
      batch: async (statements) => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          for (const [text, ...params] of statements) await client.query(bind(text, params));
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        } finally {
          client.release();
        }
      },
    };
  }

  return [sqlite, postgres];
}
