import type { Database, Statement } from "better-sqlite3";
import { KnockerError } from "../../errors.js";
import type { HandlerTx } from "../../interfaces.js";

const MAX_CACHED_STATEMENTS = 256;

/** The `tx` handed to handlers: positional-parameter helpers over the writer, statements cached. */
export function createHandlerTx(db: Database): HandlerTx {
  const cache = new Map<string, Statement>();
  const statement = (sql: string): Statement => {
    requireTransaction(db);
    let prepared = cache.get(sql);
    if (!prepared) {
      prepared = db.prepare(sql);
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
      cache.set(sql, prepared);
    }
    return prepared;
  };
  return {
    run: (sql, params = []) => {
      const info = statement(sql).run(...params);
      return { changes: info.changes, lastInsertRowid: info.lastInsertRowid };
    },
    get: <T>(sql: string, params: readonly unknown[] = []) => statement(sql).get(...params) as T | undefined,
    all: <T>(sql: string, params: readonly unknown[] = []) => statement(sql).all(...params) as T[],
    exec: (sql) => {
      requireTransaction(db);
      db.exec(sql);
    },
    db,
  };
}

/**
 * A handler's writes are only meaningful inside the batch transaction. If SQLite abandoned it
 * (disk full, I/O error) — or the handler ended it itself — a write now would commit on its own,
 * apart from the event's transition and the ack.
 */
export function requireTransaction(db: Database): void {
  if (!db.inTransaction) {
    throw new KnockerError("ERR_STORAGE", "the handler's transaction is no longer open (SQLite rolled it back, or the handler ended it); nothing of this batch is committed");
  }
}
