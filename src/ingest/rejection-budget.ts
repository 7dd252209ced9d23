/** How long drop counts wait in memory before they are written (one small write per flush). */
const FLUSH_DELAY_MS = 1000;

interface Window {
  minute: number;
  stored: number;
  /** Dropped in this minute and not yet written. */
  unwritten: number;
  dropped: number;
}

/** Dropped receipts of one endpoint and minute, to add to `knocker_dropped_rejections`. */
export interface DroppedCount {
  endpointId: number;
  minute: number;
  dropped: number;
}

/**
 * Writes counts in one transaction: true once written; false (or a rejection) to try again in a
 * second; null when it cannot run now and should not be retried on a timer (a closed connection,
 * one inside a transaction: the next flush writes them). Synchronous on SQLite, a Promise on a
 * networked engine.
 */
export type DroppedCountWriter = (counts: readonly DroppedCount[]) => boolean | null | Promise<boolean>;

/**
 * At most `perMinute` rejected receipts stored per endpoint and clock minute; the rest are
 * only counted. A webhook URL is public: without this, anyone could fill the disk with
 * rejected deliveries. Counts of dropped receipts go to `knocker_dropped_rejections` (one row
 * per endpoint and minute, added to in place) through the engine's writer, at most once a
 * second, so a flood costs one small write a second, not one per request.
 */
export class RejectionBudget {
  readonly #perMinute: number;
  readonly #write: DroppedCountWriter;
  readonly #windows = new Map<number, Window>();
  readonly #onDropped: (endpoint: string, droppedThisMinute: number) => void;
  #timer: NodeJS.Timeout | null = null;
  /** A writer's Promise not yet settled: the next flush waits for it, so no count is written twice. */
  #writing: Promise<void> | null = null;

  constructor(perMinute: number, write: DroppedCountWriter, onDropped: (endpoint: string, droppedThisMinute: number) => void) {
    this.#perMinute = perMinute;
    this.#write = write;
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
    if (this.#writing !== null) {
      void this.#writing.then(() => this.flush());
      return;
    }
    const pending = [...this.#windows]
      .filter(([, window]) => window.unwritten > 0)
      .map(([endpointId, window]) => ({ window, count: { endpointId, minute: window.minute, dropped: window.unwritten } }));
    if (pending.length === 0) return;
    const settle = (written: boolean | null) => {
      // Subtract what was written: more may have been dropped while a Promise was pending.
      if (written === true) for (const { window, count } of pending) window.unwritten -= count.dropped;
      else if (written === false) this.#timer ??= setTimeout(() => this.flush(), FLUSH_DELAY_MS).unref();
    };
    let result: boolean | null | Promise<boolean>;
    try {
      result = this.#write(pending.map(({ count }) => count));
    } catch {
      result = false;
    }
    if (!(result instanceof Promise)) return settle(result);
    this.#writing = result.then(settle, () => settle(false)).finally(() => (this.#writing = null));
  }

  /** Flush and stop the timer; resolves once a pending write has settled. */
  async close(): Promise<void> {
    this.flush();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#writing;
  }
}
