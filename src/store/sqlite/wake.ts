import type { Database, Statement } from "better-sqlite3";

/** How often an idle worker looks for commits made by other processes. */
export const CROSS_PROCESS_POLL_MS = 30;
/** Longest an idle worker sleeps without a claim pass, as a safety net. */
const MAX_IDLE_MS = 1000;

/**
 * Wakes idle workers. Commits through the same Knocker call `notify()` directly; commits from
 * other processes show up as a change of `PRAGMA data_version` on our connection (a connection
 * never sees its own commits there, which is exactly the split we want). The pragma itself costs
 * a few microseconds; what an idle process pays for is each timer wake-up (~0.2 ms of CPU on a
 * small VM), so the poll period trades wake latency (half of it on average) against idle CPU.
 */
export class Wake {
  readonly #dataVersion: Statement;
  readonly #waiters = new Set<() => void>();

  constructor(db: Database) {
    this.#dataVersion = db.prepare("PRAGMA data_version").pluck();
  }

  notify(): void {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** The current `PRAGMA data_version`: take it *before* looking for work and pass it to wait(). */
  version(): unknown {
    return this.#dataVersion.get();
  }

  /**
   * Resolve on notify(), another process's commit since `seen` (default: now), `dueInMs`
   * elapsing, or abort. Passing the version read before the caller's last look for work closes
   * the window in which another process's commit would otherwise go unnoticed until `dueInMs`.
   */
  wait(dueInMs: number, signal?: AbortSignal, seen: unknown = this.#dataVersion.get()): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    const deadline = Date.now() + Math.max(0, Math.min(dueInMs, MAX_IDLE_MS));
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(finish);
        signal?.removeEventListener("abort", finish);
        resolve();
      };
      const poll = () => {
        let changed = true;
        try {
          changed = this.#dataVersion.get() !== seen;
        } catch {
          // connection closed: let the loop notice
        }
        if (changed || Date.now() >= deadline) return finish();
        timer = setTimeout(poll, Math.min(CROSS_PROCESS_POLL_MS, Math.max(1, deadline - Date.now())));
      };
      this.#waiters.add(finish);
      signal?.addEventListener("abort", finish, { once: true });
      timer = setTimeout(poll, Math.min(CROSS_PROCESS_POLL_MS, Math.max(1, deadline - Date.now())));
    });
  }
}
