// `knocker copy` on SQLite: a source read in one snapshot on a read-only connection, and a sink
// that creates a new file and writes its schema and rows in one transaction. The file is only
// touched through SQLite (fs.stat to refuse an existing target, and removing what a failed copy
// created, after its connection closed).
import { rmSync, statSync } from "node:fs";
import BetterSqlite3, { type Database, type Statement } from "better-sqlite3";
import { KnockerError, storageError } from "../../errors.js";
import type { TableSink, TableSource } from "../copy/copy-inbox.js";
import { canonicalValue, checkColumns, COPY_TABLES, describeKey, type CopyTable, type Row, type Value } from "../copy/tables.js";
import { copyPlans } from "./plans/copy.js";
import { createSchema, SCHEMA_VERSION } from "./schema.js";

const sql = copyPlans();

/** An existing Knocker file, read in one snapshot (a read transaction held until close()). */
export class SqliteTableSource implements TableSource {
  readonly #db: Database;
  readonly #pages = new Map<string, Statement>();
  /** Tables in the file that are not Knocker's (the app's own): not copied. */
  readonly otherTables: string[];

  constructor(path: string) {
    try {
      this.#db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    } catch (error) {
      throw storageError(`opening ${path}`, error);
    }
    try {
      this.#db.pragma("busy_timeout = 5000");
      const version = this.#db.pragma("user_version", { simple: true }) as number;
      if (version !== SCHEMA_VERSION) {
        throw new KnockerError(
          "ERR_INVALID_STATE",
          version < SCHEMA_VERSION
            ? `${path} is at schema version ${version}; open it once with this release (any knocker command on it, e.g. knocker stats --db ${path}) to migrate it to version ${SCHEMA_VERSION}, then copy it`
            : `${path} is at schema version ${version}, newer than this release of knocker supports (${SCHEMA_VERSION}): upgrade knocker`,
        );
      }
      this.#db.exec("BEGIN"); // the snapshot starts with the first read and lasts until close()
      const tables = this.#db.prepare(sql.tables).pluck().all() as string[];
      this.otherTables = tables.filter((name) => !COPY_TABLES.some((t) => t.name === name));
      for (const table of COPY_TABLES) {
        if (!tables.includes(table.name)) throw new KnockerError("ERR_INVALID_STATE", `${path} has no ${table.name} table`);
        checkColumns(table, this.#db.prepare(sql.columns).pluck().all(table.name) as string[], path);
      }
    } catch (error) {
      this.#db.close();
      throw storageError(`reading ${path}`, error);
    }
  }

  async page(table: CopyTable, after: readonly Value[] | null, limit: number): Promise<Row[]> {
    const name = `${table.name}:${after === null}`;
    let statement = this.#pages.get(name);
    if (statement === undefined) this.#pages.set(name, (statement = this.#db.prepare(sql.page(table, after === null)).raw(true).safeIntegers(true)));
    const rows = statement.all(...(after ?? []), limit) as unknown[][];
    return rows.map((row) => table.columns.map((column, i) => canonicalValue(table, column, row[i], row)));
  }

  async count(table: CopyTable): Promise<number> {
    return this.#db.prepare(sql.count(table)).pluck().get() as number;
  }

  async counter(table: CopyTable): Promise<number> {
    return (this.#db.prepare(sql.counter).pluck().get(table.name) as number | undefined) ?? 0;
  }

  async close(): Promise<void> {
    if (this.#db.inTransaction) this.#db.exec("COMMIT");
    this.#db.close();
  }
}

/** A new file: refused when `path` exists; schema and rows in one write transaction. */
export class SqliteTableSink implements TableSink {
  readonly #path: string;
  readonly #db: Database;
  readonly #inserts = new Map<string, Statement>();

  constructor(path: string) {
    let exists = true;
    try {
      statSync(path);
    } catch {
      exists = false;
    }
    if (exists) throw new KnockerError("ERR_INVALID_STATE", `${path} already exists; knocker copy writes a new inbox (remove it, or name a new file)`);
    this.#path = path;
    try {
      this.#db = new BetterSqlite3(path);
    } catch (error) {
      throw storageError(`creating ${path}`, error);
    }
    try {
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("synchronous = FULL");
      this.#db.pragma("foreign_keys = ON");
      this.#db.exec("BEGIN IMMEDIATE");
      createSchema(this.#db);
    } catch (error) {
      this.#discard();
      throw storageError(`creating ${path}`, error);
    }
  }

  async insert(table: CopyTable, rows: readonly Row[]): Promise<void> {
    let statement = this.#inserts.get(table.name);
    if (statement === undefined) this.#inserts.set(table.name, (statement = this.#db.prepare(sql.insert(table))));
    for (const row of rows) {
      // Integers bound as integers (a JS number binds as REAL, left to the column's affinity).
      const values = row.map((value) => (typeof value === "number" ? BigInt(value) : value));
      try {
        statement.run(...values);
      } catch (error) {
        throw storageError(`writing ${table.name} (${describeKey(table, row)}) into ${this.#path}`, error);
      }
    }
  }

  async continueIds(table: CopyTable, past: number): Promise<void> {
    this.#db.prepare(sql.raiseCounter).run(past, table.name);
    this.#db.prepare(sql.addCounter).run(table.name, past, table.name);
  }

  async commit(): Promise<void> {
    try {
      this.#db.exec("COMMIT");
    } catch (error) {
      throw storageError(`committing ${this.#path}`, error);
    }
    this.#db.close();
  }

  async abort(): Promise<void> {
    this.#discard();
  }

  /** Roll back, close, and remove the file this sink created (and SQLite's -wal and -shm beside it). */
  #discard(): void {
    try {
      if (this.#db.inTransaction) this.#db.exec("ROLLBACK");
    } finally {
      this.#db.close();
      for (const file of [this.#path, `${this.#path}-wal`, `${this.#path}-shm`, `${this.#path}-journal`]) rmSync(file, { force: true });
    }
  }
}
