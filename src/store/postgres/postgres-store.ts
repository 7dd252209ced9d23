import type { DashboardQueries } from "../../dashboard/queries.js";
import type { EndpointRegistry } from "../../endpoints.js";
import { KnockerError } from "../../errors.js";
import type { IngestResult, PostgresPool } from "../../interfaces.js";
import type { Receipt } from "../../ingest/receipt.js";
import type { Observer } from "../../observer.js";
import type { ResolvedOptions } from "../../options.js";
import { RejectionBudget, type DroppedCount } from "../../ingest/rejection-budget.js";
import { retentionQueueName } from "../../retention/run-retention.js";
import type { CliQueries, ReceiptStore, Store } from "../store.js";
import { PgChangeFeed } from "./change-feed.js";
import { PgCliQueries } from "./cli-queries.js";
import { PgDashboardQueries } from "./dashboard-queries.js";
import { loadPg, type PgPool } from "./driver.js";
import { PgJobStore } from "./job-store.js";
import { PgOperatorStore } from "./operator-store.js";
import { PgPruner } from "./pruner.js";
import { PgReceiptStore } from "./receipt-store.js";
import { PgRetentionStore } from "./retention-store.js";
import { bootstrapPostgres, quoteIdentifier } from "./schema.js";
import { PgSession } from "./session.js";

export const DEFAULT_SCHEMA = "knocker";

export function isPostgresPool(value: unknown): value is PostgresPool {
  const pool = value as Partial<PostgresPool> | null;
  return pool !== null && typeof pool === "object" && typeof pool.connect === "function" && typeof pool.end === "function" && typeof pool.totalCount === "number";
}

/**
 * The Postgres engine: a pool (its own, from a URL, or the app's), the schema bootstrapped in the
 * background, and the engine's parts on it. Registration stays synchronous: an endpoint gets a
 * process-local id at once, and its row is written before anything that needs it runs; every
 * part waits for `ready`, so the first receive() or worker claim after open() waits for the
 * bootstrap and the endpoint rows, and fails with their error if they failed.
 */
export class PostgresStore implements Store {
  readonly kind = "postgres";
  readonly receipts: ReceiptStore;
  readonly jobs: PgJobStore;
  readonly changes: PgChangeFeed;
  readonly operator: PgOperatorStore;
  readonly pruner: PgPruner;
  readonly retention: PgRetentionStore;
  readonly rejections: RejectionBudget;
  readonly cli: CliQueries;
  readonly dashboard: DashboardQueries;
  readonly openReaders = 0;
  readonly #pool: PgPool;
  readonly #ownsPool: boolean;
  readonly #inner: PgReceiptStore;
  readonly #schema: string;
  /** Gated: waits for the schema and endpoint rows. */
  readonly #session: PgSession;
  /** Ungated: the bootstrap and endpoint rows that the parts' gated session waits for. */
  readonly #setup: PgSession;
  /** Every endpoint registered here, in order; local id → the id of its row once written. */
  readonly #endpoints: Array<{ localId: number; endpoint: EndpointRow; now: number }> = [];
  readonly #endpointIds = new Map<number, number>();
  #ready: Promise<void>;
  #readyFailed = false;
  #closed = false;

  constructor(target: string | PostgresPool, options: ResolvedOptions, endpoints: EndpointRegistry, observer: Observer) {
    const pg = loadPg();
    if (typeof target === "string") {
      this.#pool = new pg.Pool({ connectionString: target, max: 10, connectionTimeoutMillis: 10_000 });
      this.#ownsPool = true;
    } else {
      this.#pool = target as unknown as PgPool;
      this.#ownsPool = false;
    }
    // An idle client that loses its connection emits 'error' on the pool; unhandled, it would end the process.
    if (this.#ownsPool) this.#pool.on("error", () => {});
    const schema = (this.#schema = options.schema ?? DEFAULT_SCHEMA);
    const s = quoteIdentifier(schema);
    const channel = channelOf(schema, options.queueName);
    const poolOptions = (this.#pool as unknown as { options?: Record<string, unknown> }).options ?? {};
    this.changes = new PgChangeFeed({ pg, config: typeof target === "string" ? { connectionString: target } : { ...poolOptions }, channel });
    // The gate: every statement of the engine's parts waits for the schema and endpoint rows.
    const { busyTimeoutMs } = options;
    this.#setup = new PgSession(this.#pool, pg, undefined, busyTimeoutMs);
    const session = (this.#session = new PgSession(this.#pool, pg, () => this.#whenReady(), busyTimeoutMs));
    this.#ready = this.#prepare();
    const notify = () => this.changes.notify();
    const { queueName, maxAttempts, visibilityTimeoutS, retryBackoff, durability, now } = options;
    this.#inner = new PgReceiptStore(this.#pool, { schema, quotedSchema: s, queueName, maxAttempts, durability, channel, busyTimeoutMs }, observer, notify);
    this.receipts = {
      submit: (receipt) => this.#submit(receipt),
      flushNow: () => this.#inner.flushNow(),
    };
    this.jobs = new PgJobStore(session, { quotedSchema: s, channel, queueName, visibilityTimeoutS, retryBackoff }, endpoints, now);
    this.operator = new PgOperatorStore(session, s, { name: queueName, maxAttempts, channel }, now, notify);
    this.rejections = new RejectionBudget(options.invalidDeliveriesPerMinute, (counts) => this.#writeDropped(counts), (endpoint, droppedThisMinute) => {
      if (observer.has("ingest:rejection-dropped")) observer.emit("ingest:rejection-dropped", { endpoint, droppedThisMinute });
    });
    this.pruner = new PgPruner(session, s, queueName, now);
    this.cli = new PgCliQueries(session, s);
    this.retention = new PgRetentionStore(session, s, this.pruner, { name: retentionQueueName(queueName), visibilityTimeoutS, retryBackoff }, now);
    this.dashboard = new PgDashboardQueries(session, s, queueName);
  }

  /** Endpoint rows are written in registration order, each after the bootstrap (and the ones before it). */
  saveEndpoint(endpoint: EndpointRow, now: number): number {
    const localId = this.#endpoints.length + 1;
    const saved = { localId, endpoint, now };
    this.#endpoints.push(saved);
    this.#ready = this.#ready.then(() => this.#saveEndpoint(saved));
    this.#ready.catch(() => (this.#readyFailed = true));
    return localId;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inner.flushNow();
    this.jobs.close();
  }

  /**
   * Once the loops stopped (they may still need the pool on their way out: a retention run's ack,
   * the scheduler lock's release): receipts settled, claims handed back, then the pool ended when
   * it is ours.
   */
  async closeConnections(loopsEnded?: Promise<unknown>): Promise<void> {
    await loopsEnded;
    await this.retention.close();
    await this.changes.close();
    await this.rejections.close();
    await this.#inner.drained();
    await this.jobs.settled();
    if (this.#ownsPool) await this.#pool.end();
  }

  /**
   * The schema and the endpoint rows, before anything else runs; after a failure (the server was
   * down at open()), the next call that needs them starts over, so the Knocker recovers without
   * a restart.
   */
  #whenReady(): Promise<void> {
    if (this.#readyFailed) {
      this.#readyFailed = false;
      this.#ready = this.#prepare();
    }
    return this.#ready;
  }

  #prepare(): Promise<void> {
    const ready = (async () => {
      await this.#bootstrap();
      for (const saved of this.#endpoints) await this.#saveEndpoint(saved);
    })();
    ready.catch(() => (this.#readyFailed = true));
    return ready;
  }

  #bootstrap(): Promise<void> {
    return this.#setup.read(`creating the Knocker schema "${this.#schema}"`, (client) => bootstrapPostgres(client, this.#schema));
  }

  async #saveEndpoint({ localId, endpoint, now }: { localId: number; endpoint: EndpointRow; now: number }): Promise<void> {
    const s = quoteIdentifier(this.#schema);
    await this.#setup.transaction(`registering endpoint "${endpoint.name}"`, async (client, q) => {
      const owner = await q<{ name: string }>(client, `SELECT name FROM ${s}.knocker_endpoints WHERE path = $1`, [endpoint.path]);
      if (owner.rows.length > 0 && owner.rows[0]!.name !== endpoint.name) {
        throw new KnockerError("ERR_ENDPOINT_CONFLICT", `endpoint "${endpoint.name}": path "${endpoint.path}" is recorded in the database for endpoint "${owner.rows[0]!.name}"`);
      }
      const { rows } = await q<{ id: number }>(
        client,
        `INSERT INTO ${s}.knocker_endpoints (name, path, provider, enabled, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET path = excluded.path, provider = excluded.provider, enabled = excluded.enabled
         RETURNING id`,
        [endpoint.name, endpoint.path, endpoint.provider, endpoint.enabled ? 1 : 0, now],
      );
      this.#endpointIds.set(localId, rows[0]!.id);
    });
  }

  /** Dropped-rejection counts, under the endpoints' row ids, added to in place. */
  async #writeDropped(counts: readonly DroppedCount[]): Promise<boolean> {
    const rows = counts.flatMap((count) => {
      const endpointId = this.#endpointIds.get(count.endpointId);
      return endpointId === undefined ? [] : [{ ...count, endpointId }];
    });
    if (rows.length === 0) return counts.length === 0;
    const s = quoteIdentifier(this.#schema);
    await this.#session.transaction("recording dropped rejections", (client, q) =>
      q(client, `INSERT INTO ${s}.knocker_dropped_rejections (endpoint_id, minute, dropped)
          SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
          ON CONFLICT (endpoint_id, minute) DO UPDATE SET dropped = knocker_dropped_rejections.dropped + excluded.dropped`,
        [rows.map((r) => r.endpointId), rows.map((r) => r.minute), rows.map((r) => r.dropped)]));
    return true;
  }

  async #submit(receipt: Receipt): Promise<IngestResult> {
    await this.#whenReady();
    const endpointId = this.#endpointIds.get(receipt.endpointId);
    if (endpointId === undefined) throw new KnockerError("ERR_STORAGE", "the endpoint's row is not written yet");
    return this.#inner.submit({ ...receipt, endpointId });
  }
}

interface EndpointRow {
  name: string;
  path: string;
  provider: string | null;
  enabled: boolean;
}

/** One NOTIFY channel per schema and queue, within Postgres's 63-byte identifiers. */
function channelOf(schema: string, queueName: string): string {
  let hash = 0;
  for (const ch of `${schema}\u0000${queueName}`) hash = (Math.imul(hash, 31) + ch.codePointAt(0)!) | 0;
  return `knocker_${(hash >>> 0).toString(16)}`;
}
