import type { Database } from "better-sqlite3";
import { openReader } from "./connection.js";

/**
 * Up to `maxReaders` read-only connections, opened lazily. A read borrows an idle one for one
 * query and gives it back when it returns (no read is held across an `await`: iterateEvents()
 * borrows one per page); reads are synchronous, so a new connection is only opened while another
 * read is still in progress (a read started from inside a read). With no idle reader left — or
 * `maxReaders: 0`, or an in-memory database — reads use the writer connection.
 */
export class ReaderPool {
  readonly #path: string | null;
  readonly #max: number;
  readonly #writer: Database;
  readonly #idle: Database[] = [];
  readonly #all: Database[] = [];
  readonly #busyTimeoutMs: number;

  constructor(path: string | null, max: number, writer: Database, busyTimeoutMs: number) {
    this.#path = path;
    this.#max = path === null ? 0 : max;
    this.#writer = writer;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /** Number of reader connections currently open. */
  get openCount(): number {
    return this.#all.length;
  }

  /** Borrow a reader, or null when none is available (the caller uses the writer). */
  acquire(): Database | null {
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#all.length >= this.#max || this.#path === null) return null;
    const reader = openReader(this.#writer, this.#path, this.#busyTimeoutMs);
    this.#all.push(reader);
    return reader;
  }

  release(reader: Database): void {
    if (this.#all.includes(reader) && reader.open) this.#idle.push(reader);
  }

  /** Run one read on a borrowed reader (or the writer when none is free). */
  read<T>(fn: (db: Database) => T): T {
    const reader = this.acquire();
    try {
      return fn(reader ?? this.#writer);
    } finally {
      if (reader) this.release(reader);
    }
  }

  close(): void {
    for (const reader of this.#all) reader.close();
    this.#all.length = 0;
    this.#idle.length = 0;
  }
}
