import type { Database } from "better-sqlite3";
import { KnockerError } from "../../errors.js";
import type { EndpointRegistry } from "../../endpoints.js";
import type { SqliteDatabase } from "../../interfaces.js";
import type { Observer } from "../../observer.js";
import type { ResolvedOptions } from "../../options.js";
import { retentionQueueName } from "../../retention/run-retention.js";
import type { ChangeFeed, CliQueries, JobStore, ReceiptStore, RetentionStore, Store } from "../store.js";
import { countPrunable, selectEventIds, selectStats } from "./plans/cli.js";
import type { DashboardQueries } from "../../dashboard/queries.js";
import { configureWriter, immediateTransaction, isBetterSqlite3Database, mainDatabaseFile, openWriter } from "./connection.js";
import { SqliteDashboardQueries } from "./dashboard-queries.js";
import { Dispatcher } from "./dispatcher.js";
import { SqliteOperatorStore } from "./operator-store.js";
import { GroupCommitter } from "./group-commit.js";
import { prepareEventStatements } from "./plans/events.js";
import { ENDPOINT_SQL } from "./plans/endpoints.js";
import { Pruner } from "./pruner.js";
import { Queue } from "./queue.js";
import { ReaderPool } from "./reader-pool.js";
import { SqliteRetentionStore } from "./retention-store.js";
import { RejectionBudget } from "../../ingest/rejection-budget.js";
import { sqliteDroppedCountWriter } from "./rejection-budget.js";
import { bootstrapSchema } from "./schema.js";
import { warnIfSeveralSqliteCopies } from "./sqlite-copies.js";
import { WalSync } from "./wal-sync.js";
import { Wake } from "./wake.js";

/**
 * The SQLite engine: one writer connection (the app's own, or one it opens), read-only reader
 * connections, WAL sync off the event loop, and the change feed. It is the composition root of
 * everything that touches better-sqlite3; the core sees it through the seam's interfaces.
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite";
  readonly receipts: ReceiptStore;
  readonly jobs: JobStore;
  readonly changes: ChangeFeed;
  readonly operator: SqliteOperatorStore;
  readonly pruner: Pruner;
  readonly retention: RetentionStore;
  readonly rejections: RejectionBudget;
  readonly readers: ReaderPool;
  readonly cli: CliQueries;
  /** The operator dashboard's aggregates and pages, on reader connections. */
  readonly dashboard: DashboardQueries;
  readonly #db: Database;
  readonly #ownsDb: boolean;
  readonly #walSync: WalSync | null;
  readonly #committer: GroupCommitter;
  #closed = false;

  constructor(pathOrDatabase: string | SqliteDatabase, options: ResolvedOptions, endpoints: EndpointRegistry, observer: Observer) {
    const { durability, busyTimeoutMs, queueName, visibilityTimeoutS, maxAttempts, retryBackoff, now } = options;
    if (typeof pathOrDatabase === "string") {
      if (pathOrDatabase.length === 0) throw new KnockerError("ERR_INVALID_ARGUMENT", "database path must be a non-empty string");
      this.#db = openWriter(pathOrDatabase, { durability, busyTimeoutMs });
      this.#ownsDb = true;
    } else if (isBetterSqlite3Database(pathOrDatabase)) {
      if (!pathOrDatabase.open) throw new KnockerError("ERR_INVALID_ARGUMENT", "the better-sqlite3 Database passed to open() is closed");
      this.#db = pathOrDatabase;
      this.#ownsDb = false;
      configureWriter(this.#db, { durability, busyTimeoutMs });
    } else {
      throw new TypeError("open() takes a file path or a better-sqlite3 Database");
    }
    // Now that this connection's SQLite is loaded: is there another copy in the process?
    warnIfSeveralSqliteCopies();
    try {
      bootstrapSchema(this.#db);
    } catch (error) {
      if (this.#ownsDb) this.#db.close();
      throw error;
    }
    const path = mainDatabaseFile(this.#db);
    this.readers = new ReaderPool(path, options.maxReaders, this.#db, busyTimeoutMs);
    this.dashboard = new SqliteDashboardQueries(this.readers, queueName);
    const queue = new Queue(this.#db, { name: queueName, visibilityTimeoutS, maxAttempts, retryBackoff });
    const wake = new Wake(this.#db);
    this.changes = wake;
    const events = prepareEventStatements(this.#db);
    const notify = () => wake.notify();
    this.#walSync = durability === "full" && path !== null ? new WalSync(this.#db, path) : null;
    this.#committer = new GroupCommitter(this.#db, queue, observer, this.#walSync, notify);
    this.receipts = this.#committer;
    this.operator = new SqliteOperatorStore(this.#db, this.readers, queue, events, now, notify);
    this.jobs = new Dispatcher(this.#db, queue, events, endpoints, now, notify);
    this.pruner = new Pruner(this.#db, this.readers, queueName, now);
    this.retention = new SqliteRetentionStore(this.#db, this.pruner, { ...queue.config, name: retentionQueueName(queueName) }, now);
    const db = this.#db;
    this.cli = {
      stats: (queue) => selectStats(db, queue),
      eventIds: (selection) => selectEventIds(db, selection),
      countPrunable: (what) => countPrunable(db, what),
    };
    this.rejections = new RejectionBudget(options.invalidDeliveriesPerMinute, sqliteDroppedCountWriter(this.#db), (endpoint, droppedThisMinute) => {
      if (observer.has("ingest:rejection-dropped")) observer.emit("ingest:rejection-dropped", { endpoint, droppedThisMinute });
    });
  }

  get openReaders(): number {
    return this.readers.openCount;
  }

  /** The writer connection (the package's own tools; Knocker owns its transactions). */
  get db(): SqliteDatabase {
    return this.#db;
  }

  /**
   * Record an endpoint (never its secrets) so events reference a stable id across processes;
   * returns that id. Refuses a path the database records for another endpoint.
   */
  saveEndpoint(endpoint: { name: string; path: string; provider: string | null; enabled: boolean }, now: number): number {
    const { name, path, provider, enabled } = endpoint;
    return immediateTransaction(this.#db, `registering endpoint "${name}"`, () => {
      const owner = this.#db.prepare(ENDPOINT_SQL.ownerOfPath).pluck().get(path) as string | undefined;
      if (owner !== undefined && owner !== name) {
        throw new KnockerError("ERR_ENDPOINT_CONFLICT", `endpoint "${name}": path "${path}" is recorded in the database for endpoint "${owner}"`);
      }
      return this.#db.prepare(ENDPOINT_SQL.upsert).pluck().get(name, path, provider, enabled ? 1 : 0, now) as number;
    });
  }

  /** Commit what is waiting, flush counters, release connections (the app's own connection stays open). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#committer.flushNow();
    void this.rejections.close(); // synchronous on SQLite: written before close() returns
    this.#walSync?.close();
  }

  /** After the loops stopped: close readers, and the writer when it is ours. */
  closeConnections(): void {
    this.readers.close();
    if (this.#ownsDb) this.#db.close();
  }
}
