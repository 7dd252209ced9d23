import type { Database, Statement } from "better-sqlite3";
import { immediateTransaction } from "./connection.js";

/** How long drop counts wait in memory before they are written (one small write per flush). */
const FLUSH_DELAY_MS = 1000;

interface Window {
  minute: number;
  stored: number;
  /** Dropped in this minute and not yet written. */
  unwritten: number;
  dropped: number;
}

/**
 * At most `perMinute` rejected receipts stored per endpoint and clock minute; the rest are
 * only counted. A webhook URL is public: without this, anyone could fill the disk with
 * rejected deliveries. Counts of dropped receipts are written to
 * `knocker_dropped_rejections` (one row per endpoint and minute, added to in place), at most
 * once a second, so a flood costs one small write a second, not one per request.
 */
export class RejectionBudget {
  readonly #perMinute: number;
  readonly #db: Database;
  readonly #windows = new Map<number, Window>();
  readonly #onDropped: (endpoint: string, droppedThisMinute: number) => void;
  #upsert: Statement | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(db: Database, perMinute: number, onDropped: (endpoint: string, droppedThisMinute: number) => void) {
    this.#db = db;
    this.#perMinute = perMinute;
    this.#onDropped = onDropped;
  }

  /** Whether a rejected receipt of this endpoint may be stored now; counts it either way. */
  admit(endpointId: number, endpointName: string, nowS: number): boolean {
    const minute = nowS - (nowS % 60);
    let window = this.#windows.get(endpointId);
    if (window === undefined || window.minute !== minute) {
      if (window !== undefined && window.unwritten > 0) this.flush(); // the old minute's count first
      window = { minute, stored: 0, unwritten: 0, dropped: 0 };
      this.#windows.set(endpointId, window);
    }
    if (window.stored < this.#perMinute) {
      window.stored++;
      return true;
    }
    window.dropped++;
    window.unwritten++;
    this.#onDropped(endpointName, window.dropped);
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
    return false;
  }

  /** Write the counts not yet written. Never throws: a count that cannot be written now waits. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const pending = [...this.#windows].filter(([, w]) => w.unwritten > 0);
    if (pending.length === 0 || !this.#db.open || this.#db.inTransaction) return;
    try {
      this.#upsert ??= this.#db.prepare(`INSERT INTO knocker_dropped_rejections (endpoint_id, minute, dropped) VALUES (?, ?, ?)
        ON CONFLICT (endpoint_id, minute) DO UPDATE SET dropped = dropped + excluded.dropped`);
      const upsert = this.#upsert;
      immediateTransaction(this.#db, "recording dropped rejections", () => {
        for (const [endpointId, window] of pending) upsert.run(endpointId, window.minute, window.unwritten);
      });
      for (const [, window] of pending) window.unwritten = 0;
    } catch {
      this.#timer = setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
    }
  }

  close(): void {
    this.flush();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
