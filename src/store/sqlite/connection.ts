import BetterSqlite3, { type Database, type Statement } from "better-sqlite3";
import { KnockerError, isBusyError, storageError } from "../../errors.js";
import type { Durability } from "../../interfaces.js";

export type { Database };

/** Attempts at BEGIN IMMEDIATE before a lock timeout becomes ERR_STORAGE_BUSY. */
export const WRITE_LOCK_ATTEMPTS = 3;

export interface ConnectionSettings {
  durability: Durability;
  /** SQLite's busy_timeout: how long one statement waits for a lock held by another connection. */
  busyTimeoutMs: number;
}

/** Apply the connection settings the contract requires (WAL, busy timeout, FKs, durability). */
export function configureWriter(db: Database, { durability, busyTimeoutMs }: ConnectionSettings): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // Switching to WAL needs a moment of exclusive access; another process opening the same
  // new file can hold it, so retry instead of failing the open.
  retryBusy(() => {
    const mode = db.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal" && mode !== "memory") {
      throw new KnockerError("ERR_STORAGE", `could not switch the database to WAL mode (got ${String(mode)})`);
    }
  });
  db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  db.pragma("foreign_keys = ON");
  // Every handler (and a failing batch's receipts) runs in its own SAVEPOINT. With temp files, SQLite spills
  // each savepoint's sub-journal to disk, which more than doubled the cost of storing a receipt.
  db.pragma("temp_store = MEMORY");
}

export function openWriter(path: string, settings: ConnectionSettings): Database {
  let db: Database;
  try {
    db = new BetterSqlite3(path);
  } catch (error) {
    throw storageError(`opening ${path}`, error);
  }
  try {
    configureWriter(db, settings);
  } catch (error) {
    db.close();
    throw storageError(`configuring ${path}`, error);
  }
  return db;
}

/**
 * The main database's file, by the absolute path SQLite resolved when it opened it (a Database
 * passed to open() may have been opened by a relative path before the process changed
 * directory); null for an in-memory or temporary database.
 */
export function mainDatabaseFile(db: Database): string | null {
  const main = (db.pragma("database_list") as Array<{ name: string; file: string }>).find((entry) => entry.name === "main");
  return main === undefined || main.file === "" ? null : main.file;
}

/**
 * A read-only connection: it can never take the write lock, so reads never stall ingest. Made
 * with the writer's own better-sqlite3 class: an app that passed in a connection from its own
 * install of better-sqlite3 must not get a second copy of SQLite on the same file from ours.
 */
export function openReader(writer: Database, path: string, busyTimeoutMs: number): Database {
  const SameSqlite = writer.constructor as typeof BetterSqlite3;
  const db = new SameSqlite(path, { readonly: true, fileMustExist: true });
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  return db;
}

/**
 * A better-sqlite3 connection from any install of the package (the app's own copy included),
 * recognised by shape: `instanceof` only knows the copy this package imports.
 */
export function isBetterSqlite3Database(value: unknown): value is Database {
  if (value instanceof BetterSqlite3) return true;
  if (value === null || typeof value !== "object") return false;
  const db = value as Record<string, unknown>;
  return typeof db.open === "boolean" && typeof db.name === "string" && typeof db.memory === "boolean" &&
    ["prepare", "pragma", "exec", "transaction", "close"].every((method) => typeof db[method] === "function") &&
    typeof db.constructor === "function";
}

function retryBusy<T>(fn: () => T): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      if (!isBusyError(error) || attempt >= WRITE_LOCK_ATTEMPTS) throw error;
    }
  }
}

/**
 * Run `fn` in BEGIN IMMEDIATE … COMMIT. A lock wait beyond the busy timeout is retried a few
 * times, then surfaces as ERR_STORAGE_BUSY; any other failure as ERR_STORAGE. Never nests:
 * inside a transaction, `db.transaction()` already gives savepoints.
 */
export function immediateTransaction<T>(db: Database, action: string, fn: () => T): T {
  const tx = db.transaction(fn);
  try {
    return retryBusy(() => tx.immediate());
  } catch (error) {
    if (error instanceof KnockerError) throw error;
    if (isBusyError(error) || (error as { code?: string }).code?.startsWith("SQLITE_")) throw storageError(action, error);
    throw error;
  }
}

/** A statement whose rows come back as their first column's value (`Statement.pluck()`). */
export interface PluckedSql {
  pluck: string;
}
export type StatementMap<T> = { [K in keyof T]: Statement<unknown[], unknown> };

/** Prepare a module's statements once per connection. */
export function prepareAll<T extends Record<string, string | PluckedSql>>(db: Database, sql: T): StatementMap<T> {
  const out = {} as Record<string, Statement<unknown[], unknown>>;
  for (const [name, text] of Object.entries(sql)) {
    out[name] = typeof text === "string" ? db.prepare(text) : db.prepare(text.pluck).pluck();
  }
  return out as StatementMap<T>;
}
