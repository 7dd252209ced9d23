import type { Database, Statement } from "better-sqlite3";
import type { HandlerTx } from "../interfaces.js";

const MAX_CACHED_STATEMENTS = 256;

/** The `tx` handed to handlers: positional-parameter helpers over the writer, statements cached. */
export function createHandlerTx(db: Database): HandlerTx {
  const cache = new Map<string, Statement>();
  const statement = (sql: string): Statement => {
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
      db.exec(sql);
    },
    db,
  };
}
