import { KnockerError } from "../../errors.js";
import type { PgClient, PgPool, PgTypes } from "./driver.js";
import { isConnectionError, pgStorageError } from "./errors.js";
import { queryWith, type Query } from "./queries.js";

/**
 * How every part of the Postgres engine talks to the server: a pooled client per read or per
 * transaction, failures as KnockerErrors (ERR_STORAGE, ERR_STORAGE_BUSY), and a client whose
 * connection broke destroyed rather than handed back to the pool, so the next call reconnects.
 */
export class PgSession {
  readonly pool: PgPool;
  readonly query: Query;

  readonly #gate: (() => Promise<void>) | undefined;
  readonly #busyTimeoutMs: number;

  /**
   * `gate`: what every read and transaction waits for first (the engine's bootstrap).
   * `busyTimeoutMs`: the longest wait for a free client of the pool, and for a lock inside a
   * transaction (`lock_timeout`), before the call fails with ERR_STORAGE_BUSY.
   */
  constructor(pool: PgPool, pg: PgTypes, gate?: () => Promise<void>, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS) {
    this.pool = pool;
    this.query = queryWith(pg);
    this.#gate = gate;
    this.#busyTimeoutMs = busyTimeoutMs;
  }


  async read<T>(action: string, fn: (client: PgClient, query: Query) => Promise<T>): Promise<T> {
    const client = await this.#connect(action);
    let failed: unknown;
    try {
      return await fn(client, this.query);
    } catch (error) {
      failed = error;
      throw pgStorageError(action, error);
    } finally {
      client.release(isConnectionError(failed) ? (failed as Error) : undefined);
    }
  }

  /** Several reads that see one snapshot of the database (a read-only, repeatable-read transaction). */
  snapshot<T>(action: string, fn: (client: PgClient, query: Query) => Promise<T>): Promise<T> {
    return this.transaction(action, fn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }

  async transaction<T>(action: string, fn: (client: PgClient, query: Query) => Promise<T>, begin = "BEGIN"): Promise<T> {
    const client = await this.#connect(action);
    let failed: unknown;
    try {
      await client.query(beginStatement(this.#busyTimeoutMs, "", begin));
      const result = await fn(client, this.query);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      failed = error;
      await client.query("ROLLBACK").catch(() => {});
      throw pgStorageError(action, error);
    } finally {
      client.release(isConnectionError(failed) ? (failed as Error) : undefined);
    }
  }

  async #connect(action: string): Promise<PgClient> {
    await this.#gate?.();
    try {
      return await checkOut(this.pool, this.#busyTimeoutMs);
    } catch (error) {
      throw pgStorageError(`${action} (connecting to Postgres)`, error);
    }
  }
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** BEGIN with a bounded wait for locks (a SET LOCAL ends with the transaction), in one round trip. */
export function beginStatement(busyTimeoutMs: number, extra = "", begin = "BEGIN"): string {
  return `${begin}; SET LOCAL lock_timeout = ${Math.max(1, Math.floor(busyTimeoutMs))}${extra}`;
}

const guarded = new WeakSet<PgClient>();

/**
 * A client from the pool, waiting at most `waitMs` while every client is in use (ERR_STORAGE_BUSY
 * after it, never an endless wait on an exhausted pool), that cannot crash the process: a
 * connection that dies while the client is checked out but between queries makes node-postgres
 * emit 'error' on it, which without a listener is an uncaught exception. The failure still
 * reaches the next query, which rejects.
 */
export async function checkOut(pool: PgPool, waitMs = DEFAULT_BUSY_TIMEOUT_MS): Promise<PgClient> {
  const connecting = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // A client that arrives after all goes straight back.
      connecting.then((late) => late.release(), () => {});
      reject(new KnockerError("ERR_STORAGE_BUSY", `every connection of the Postgres pool stayed in use for busyTimeoutMs (${waitMs} ms)`));
    }, waitMs);
  });
  let client: PgClient;
  try {
    client = await Promise.race([connecting, gaveUp]);
  } finally {
    clearTimeout(timer);
  }
  if (!guarded.has(client)) {
    client.on("error", () => {});
    guarded.add(client);
  }
  return client;
}
