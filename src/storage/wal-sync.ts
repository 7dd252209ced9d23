import { closeSync, fdatasync, fdatasyncSync, openSync } from "node:fs";
import type { Database, Statement } from "better-sqlite3";

/**
 * `durability: "full"` for group commits without holding the event loop during the fsync.
 *
 * `synchronous=FULL` in WAL mode is `synchronous=NORMAL` plus a sync of the WAL file after each
 * commit (fdatasync on Linux, as here), and better-sqlite3 runs it on the event-loop thread: at HTTP rates it was a
 * fifth of the server's time, with every connection waiting. So a group commit runs with
 * `synchronous=NORMAL`, and this class fsyncs the WAL on libuv's thread pool; a receipt is
 * acknowledged only when an fsync that started after its COMMIT has finished. Same guarantee
 * (an acknowledged receipt survives power loss), while the next batch is already being
 * received. At most one fsync is in flight; commits made meanwhile share the next one.
 *
 * The descriptor is on the `-wal` file only, never on the database file: SQLite takes no POSIX
 * locks on the WAL (WAL-mode locks live on the database and `-shm` files), so opening and
 * closing it cannot release a lock SQLite holds (test/durability.test.ts checks /proc/locks).
 */
export class WalSync {
  readonly #db: Database;
  readonly #walPath: string;
  readonly #normal: Statement;
  readonly #full: Statement;
  #fd: number | undefined;
  #unavailable = false;
  #inFlight: Array<(error: Error | null) => void> | undefined;
  #waiting: Array<(error: Error | null) => void> = [];
  #closed = false;

  /** `databasePath`: absolute, as SQLite resolved it (`mainDatabaseFile`). */
  constructor(db: Database, databasePath: string) {
    this.#db = db;
    this.#walPath = `${databasePath}-wal`;
    this.#normal = db.prepare("PRAGMA synchronous = NORMAL");
    this.#full = db.prepare("PRAGMA synchronous = FULL");
  }

  /**
   * Run `commit` (one write transaction) without its fsync; true when `afterCommit` must then
   * be called to make it durable, false when it already was (the WAL file was not open yet —
   * it exists once the first transaction has run — or the database is not in WAL mode).
   */
  commitDeferred(commit: () => void): boolean {
    if (!this.#ready()) {
      commit();
      return false;
    }
    this.#normal.run();
    try {
      commit();
    } finally {
      this.#full.run();
    }
    return true;
  }

  /** `done` runs once everything committed so far is on disk, or with the fsync's error. */
  afterCommit(done: (error: Error | null) => void): void {
    this.#waiting.push(done);
    if (this.#inFlight === undefined) this.#start();
  }

  /** Everything committed so far, on disk now (close()); settles every waiting callback. */
  syncNow(): void {
    const callbacks = [...(this.#inFlight ?? []), ...this.#waiting];
    if (this.#inFlight !== undefined) this.#inFlight.length = 0;
    this.#waiting = [];
    if (callbacks.length === 0) return;
    let failure: Error | null = null;
    try {
      fdatasyncSync(this.#fd!);
    } catch (error) {
      failure = error as Error;
    }
    for (const done of callbacks) done(failure);
  }

  /** Release the descriptor (after syncNow); an fsync still running closes it when it ends. */
  close(): void {
    this.#closed = true;
    if (this.#inFlight === undefined) this.#release();
  }

  #ready(): boolean {
    if (this.#fd !== undefined) return true;
    if (this.#unavailable || this.#closed) return false;
    if (this.#db.pragma("journal_mode", { simple: true }) !== "wal") {
      this.#unavailable = true;
      return false;
    }
    try {
      // "r+": on Windows an fsync (FlushFileBuffers) needs a handle opened for writing. Nothing
      // is ever written through it.
      this.#fd = openSync(this.#walPath, "r+");
      return true;
    } catch {
      return false; // not created yet: this commit keeps its own fsync
    }
  }

  #start(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    this.#inFlight = batch;
    fdatasync(this.#fd!, (error) => {
      this.#inFlight = undefined;
      for (const done of batch) done(error);
      if (this.#closed) this.#release();
      else if (this.#waiting.length > 0) this.#start();
    });
  }

  #release(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }
}
