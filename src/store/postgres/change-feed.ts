import type { ChangeFeed } from "../store.js";

/** Longest an idle worker waits before looking again when no notification arrives (the backstop). */
const POLL_MS = 1000;

/**
 * Wakes idle workers on Postgres: `notify()` for commits through this process (and, once its
 * LISTEN connection delivers them, other nodes' NOTIFYs), and a poll every second as the backstop
 * for a notification that never came. The version is a local counter of notifications.
 */
export class PgChangeFeed implements ChangeFeed {
  #version = 0;
  readonly #waiters = new Set<() => void>();

  version(): number {
    return this.#version;
  }

  notify(): void {
    this.#version++;
    for (const wake of [...this.#waiters]) wake();
  }

  wait(dueInMs: number, signal: AbortSignal | undefined, seen: unknown): Promise<void> {
    if (signal?.aborted || seen !== this.#version) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, Math.min(POLL_MS, dueInMs)));
      this.#waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }
}
