import type { ChangeFeed } from "../store.js";
import type { PgModule } from "./driver.js";

/** The backstop: how long an idle worker waits for a notification before looking again. */
const POLL_MS = { listening: 5000, deaf: 1000 } as const;
/** Pause before a lost LISTEN connection is opened again. */
const RECONNECT_MS = 1000;

type ClientConfig = ConstructorParameters<PgModule["Client"]>[0];

/**
 * Wakes idle workers on Postgres. Commits through this process call `notify()`; commits on
 * other nodes send a NOTIFY on the inbox's channel, which a dedicated connection LISTENs to (a
 * client of its own, not one of the pool's: it is held for as long as workers wait). The LISTEN
 * connection opens with the first wait and is opened again after a loss; while it is down the
 * feed polls every second, while it is up every five (the backstop for a missed notification).
 */
export class PgChangeFeed implements ChangeFeed {
  #version = 0;
  readonly #waiters = new Set<() => void>();
  readonly #listen: { pg: PgModule; config: ClientConfig; channel: string } | null;
  #client: InstanceType<PgModule["Client"]> | null = null;
  #listening = false;
  #starting = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  /** `listen`: the connection settings and channel of other nodes' notifications (none: local only). */
  constructor(listen: { pg: PgModule; config: ClientConfig; channel: string } | null = null) {
    this.#listen = listen;
  }

  /** Whether the LISTEN connection is up (for tests and diagnostics). */
  get listening(): boolean {
    return this.#listening;
  }

  version(): number {
    return this.#version;
  }

  notify(): void {
    this.#version++;
    for (const wake of [...this.#waiters]) wake();
  }

  wait(dueInMs: number, signal: AbortSignal | undefined, seen: unknown): Promise<void> {
    this.#start();
    if (signal?.aborted || seen !== this.#version) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const backstop = this.#listening ? POLL_MS.listening : POLL_MS.deaf;
      const timer = setTimeout(done, Math.max(1, Math.min(backstop, dueInMs)));
      this.#waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Resolves once the LISTEN connection is up (or at once without one). */
  async ready(): Promise<void> {
    this.#start();
    while (this.#listen !== null && !this.#listening && !this.#closed) await new Promise((r) => setTimeout(r, 20));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    this.#listening = false;
    for (const wake of [...this.#waiters]) wake();
    await client?.end().catch(() => {});
  }

  #start(): void {
    if (this.#listen === null || this.#client !== null || this.#starting || this.#closed) return;
    this.#starting = true;
    const { pg, config, channel } = this.#listen;
    const client = new pg.Client(config);
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = null;
      this.#listening = false;
      client.end().catch(() => {});
      if (!this.#closed) this.#retry = setTimeout(() => this.#start(), RECONNECT_MS);
    };
    client.on("error", lost);
    client.on("end", lost);
    client.on("notification", (message) => {
      if (message.channel === channel) this.notify();
    });
    this.#client = client;
    client
      .connect()
      .then(() => client.query(`LISTEN "${channel}"`))
      .then(() => {
        if (this.#client !== client) return;
        this.#listening = true;
        // Commits may have landed while the connection was down: look again.
        this.notify();
      })
      .catch(lost)
      .finally(() => (this.#starting = false));
  }
}
