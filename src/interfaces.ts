import type { IncomingMessage, ServerResponse } from "node:http";
import type { Provider, ProviderReply } from "./providers/provider.js";

export type HeaderMap = Record<string, string | string[]>;
export type QueryMap = Record<string, string | string[]>;
export type HeadersInput = HeaderMap | Headers | Record<string, string | string[] | undefined>;
export type QueryInput = QueryMap | URLSearchParams | Record<string, string | string[] | undefined>;
export type Body = Buffer | Uint8Array | string;

export type Durability = "full" | "normal";
export type EventStatus = "received" | "processing" | "handled" | "failed" | "dead" | "ignored";
export type AttemptOutcome = "handled" | "failed" | "dead" | "ignored";
export type PruneKind = "prune_events" | "prune_orphan_deliveries";
/** The only statuses pruning removes: every other one is still, or may again be, work. */
export type PrunableStatus = "handled" | "ignored";

export interface RetryBackoff {
  /** Delay before the first retry, in seconds. */
  initialS: number;
  /** Upper bound of any retry delay, in seconds. */
  maxS: number;
}

/** What open() accepts as an app's own Postgres pool: node-postgres's `Pool`, described structurally (no `pg` types needed). */
export interface PostgresPool {
  connect(): Promise<unknown>;
  query(...args: never[]): unknown;
  end(): Promise<void>;
  readonly totalCount: number;
}

export interface OpenOptions {
  queueName?: string;
  visibilityTimeoutS?: number;
  maxAttempts?: number;
  maxReaders?: number;
  durability?: Durability;
  retryBackoff?: RetryBackoff | false;
  maxBodyBytes?: number;
  /** Bytes of a rejected (invalid-signature) delivery's body that are stored; default 4 KiB. Its full length and SHA-256 are always stored. */
  invalidBodyBytes?: number;
  /** Rejected deliveries stored per endpoint per minute (default 60); beyond it they are only counted. Valid receipts are never limited. */
  invalidDeliveriesPerMinute?: number;
  /** Body bytes the HTTP layer holds across all requests in flight (default 64 MiB); beyond it: 503 + Retry-After, unread. */
  maxInFlightBodyBytes?: number;
  /** Longest wait for a request's whole body in the HTTP layer (default 10 000 ms); then 408 and the connection is closed. */
  bodyTimeoutMs?: number;
  /**
   * Read rate, across all requests, of body bytes beyond each body's first 64 KiB (default
   * 64 MiB/s). Webhooks are small; a flood of large bodies is paced (TCP backpressure) so it
   * cannot take the CPU valid webhooks need. Small bodies are never paced.
   */
  largeBodyBytesPerSecond?: number;
  /** Jobs claimed per worker pass (default 10). */
  batchSize?: number;
  /**
   * How long a statement waits for a lock another process holds (SQLite busy_timeout, default
   * 5000 ms). A write is tried 3 times before it fails with ERR_STORAGE_BUSY (HTTP 503).
   */
  busyTimeoutMs?: number;
  /** Postgres only: the schema that holds the inbox's tables (default "knocker"), created if missing. */
  schema?: string;
  /**
   * OpenTelemetry traces and metrics (CONTRACT §13). Default: the global tracer and meter
   * providers when `@opentelemetry/api` is installed, nothing when it is not. `false` turns it
   * off. Pass providers to use others than the global ones.
   */
  telemetry?: TelemetryOptions | false;
  /** The clock, in unix seconds (default: the system clock). Tests pin it. */
  now?: () => number;
}

/**
 * Providers from `@opentelemetry/api` (or an SDK): typed by the one method Knocker calls, so this
 * package's types do not need the API installed.
 */
export interface TelemetryOptions {
  /** Default: `trace.getTracerProvider()`, the global one. */
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
  /** Default: `metrics.getMeterProvider()`, the global one. */
  meterProvider?: { getMeter(name: string, version?: string): unknown };
}

export interface EndpointOptions {
  path: string;
  provider?: string | Provider | null;
  secrets?: readonly string[];
  providerOptions?: Record<string, unknown>;
  enabled?: boolean;
  /**
   * Ordered processing: the key of the object a receipt is about (a customer, an order). Events of
   * one endpoint with the same key are handled one at a time, in the order they were stored; other
   * keys, and events without a key (`null`), run in parallel. Evaluated at ingest on each valid
   * receipt; a throw or anything but a non-empty string (or null) stores the event unordered and
   * emits `ingest:ordering-key-error`.
   */
  orderingKey?: OrderingKey;
}

/** What an endpoint's `orderingKey` sees of a verified receipt. */
export interface OrderingReceipt {
  /** The body parsed as JSON (cached). Throws `ERR_NOT_JSON` when it is not JSON. */
  json<T = unknown>(): T;
  /** A header as received, by case-insensitive name; one sent several times is joined with ", ". */
  header(name: string): string | undefined;
  /** The event type (the provider's, or the one given to `receive()`/`ingest()`). */
  readonly eventType: string | null;
}

/** An endpoint's ordering key: a string (at most 512 characters), or null for an unordered event. */
export type OrderingKey = (receipt: OrderingReceipt) => string | null | undefined;

export interface AddEndpointOptions extends EndpointOptions {
  name: string;
}

export interface ReceiveInput {
  body: Body;
  headers?: HeadersInput;
  query?: QueryInput;
  method?: string;
  /** Explicit metadata wins over what the provider extracted. */
  eventType?: string | null;
  providerEventId?: string | null;
  providerDeliveryId?: string | null;
  dedupeKey?: string | null;
}

export interface ReceiveByNameInput extends ReceiveInput {
  endpoint: string;
}

export interface IngestInput extends ReceiveByNameInput {
  signatureValid?: boolean;
  signatureError?: string | null;
}

export interface IngestResult {
  /** The stored delivery; null only for a rejected receipt over `invalidDeliveriesPerMinute` (counted, not stored). */
  deliveryId: number | null;
  eventId: number | null;
  duplicate: boolean;
  statusCode: number;
  /** Present only for handshakes: what to answer the provider with (status 200). */
  reply?: ProviderReply;
}

interface StoredPayload {
  endpoint: string;
  eventType: string | null;
  providerEventId: string | null;
  providerDeliveryId: string | null;
  dedupeKey: string | null;
  method: string;
  headers: HeaderMap;
  query: QueryMap;
  body: Buffer;
  receivedAt: number;
}

export interface Event extends StoredPayload {
  id: number;
  status: EventStatus;
  attemptCount: number;
  handledAt: number | null;
  lastError: string | null;
  /** The endpoint's ordering key for this event (CONTRACT §11); null: unordered. */
  orderingKey: string | null;
  /**
   * For a handler run started by `replayDelivery`, the delivery whose payload the handler sees;
   * otherwise null.
   */
  deliveryId: number | null;
  /** The body parsed as JSON (cached). Throws `ERR_NOT_JSON` when it is not JSON. */
  json<T = unknown>(): T;
}

export interface Delivery extends StoredPayload {
  id: number;
  eventId: number | null;
  signatureValid: boolean | null;
  signatureError: string | null;
  /** Length of the body as sent: for a rejected delivery, more than `body` holds when it was cut to `invalidBodyBytes`. */
  bodyLength: number;
  /** SHA-256 (hex) of the whole body as sent, recorded for rejected deliveries; null otherwise. */
  bodySha256: string | null;
  /** `body` holds only the first `invalidBodyBytes` of what was sent. */
  bodyTruncated: boolean;
  json<T = unknown>(): T;
}

export interface Attempt {
  id: number;
  eventId: number;
  attemptedAt: number;
  outcome: AttemptOutcome;
  error: string | null;
  durationMs: number | null;
}

export interface ListEventsOptions {
  status?: EventStatus;
  endpoint?: string;
  eventType?: string;
  /** Only events received at or after this unix time (seconds). */
  since?: number;
  limit?: number;
}

/** A key whose events wait (CONTRACT §11), as `listBlockedKeys()` lists it. */
export interface BlockedKey {
  endpoint: string;
  key: string;
  /** The key's first unsettled event, which the others wait for. */
  blockingEventId: number;
  /** `received`: waiting for its handler, or in it; `failed`: waiting for its retry. */
  blockingStatus: "received" | "failed";
  /** How many events of the key wait behind it (at least 1). */
  waiting: number;
}

export interface ListBlockedKeysOptions {
  endpoint?: string;
  /** At most this many keys, most waiting first (1 to 1000, default 50). */
  limit?: number;
}

/** The filters of listEvents(), without a limit: iterateEvents() yields every match (an async iterable: `for await`). */
export type IterateEventsOptions = Omit<ListEventsOptions, "limit">;

export interface ListDeliveriesOptions {
  eventId?: number;
  endpoint?: string;
  signatureValid?: boolean;
  /** true: only deliveries without an event; false: only linked ones. */
  orphaned?: boolean;
  since?: number;
  limit?: number;
}

// ---- the SQLite connection, structurally --------------------------------------------------------
//
// The public types describe the better-sqlite3 connection by the members Knocker and its users
// need, not by importing better-sqlite3's own types: those live in @types/better-sqlite3, a
// package an app that installs only knocker does not have. A better-sqlite3 `Database` (any
// install of the package) satisfies `SqliteDatabase`; where a library wants the full type
// (Drizzle's `drizzle(db)`), `tx.db as Database` is a valid assertion.

/** What a write statement reports (better-sqlite3's `RunResult`). */
export interface SqliteRunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

/** A prepared statement of a `SqliteDatabase` (the members of better-sqlite3's `Statement`). */
export interface SqliteStatement {
  readonly source: string;
  /** The statement returns rows (a SELECT, or a write with RETURNING). */
  readonly reader: boolean;
  readonly readonly: boolean;
  run(...params: unknown[]): SqliteRunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Only the first column of each row. */
  pluck(toggleState?: boolean): this;
  expand(toggleState?: boolean): this;
  raw(toggleState?: boolean): this;
  bind(...params: unknown[]): this;
  safeIntegers(toggleState?: boolean): this;
}

/** A function wrapped by `SqliteDatabase.transaction()`: calling it runs `fn` in a transaction. */
// `any[]` and the conditional parameter type as in better-sqlite3's declaration, so that its
// `Transaction` is assignable to this one (tsc compares the two conditional types term by term).
// eslint-style escape hatches are not used in this code base; the `any` is deliberate.
export interface SqliteTransaction<F extends (...args: any[]) => unknown> {
  (...params: SqliteTransactionArgs<F>): ReturnType<F>;
  deferred(...params: SqliteTransactionArgs<F>): ReturnType<F>;
  immediate(...params: SqliteTransactionArgs<F>): ReturnType<F>;
  exclusive(...params: SqliteTransactionArgs<F>): ReturnType<F>;
}

/** The parameters of a function wrapped by `SqliteDatabase.transaction()`. */
export type SqliteTransactionArgs<F extends (...args: any[]) => unknown> = F extends (...args: infer A) => unknown ? A : never;

/**
 * A better-sqlite3 connection, described by the members Knocker's API hands out (`tx.db`) and
 * takes (`open(db)`: the app's own connection, which it keeps for its tables and closes itself).
 * Kysely's `SqliteDialect({ database })` accepts it as is.
 */
export interface SqliteDatabase {
  /** The file name the connection was opened with (`:memory:` for an in-memory database). */
  readonly name: string;
  readonly open: boolean;
  readonly inTransaction: boolean;
  readonly readonly: boolean;
  readonly memory: boolean;
  prepare(source: string): SqliteStatement;
  exec(source: string): this;
  transaction<F extends (...args: any[]) => unknown>(fn: F): SqliteTransaction<F>;
  /** `PRAGMA source`; with `{ simple: true }` the first column of the first row. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): this;
}

// ---- handlers -------------------------------------------------------------------------------------

/** The handler's window onto the dispatch transaction. */
export interface HandlerTx {
  run(sql: string, params?: readonly unknown[]): SqliteRunResult;
  get<T = unknown>(sql: string, params?: readonly unknown[]): T | undefined;
  all<T = unknown>(sql: string, params?: readonly unknown[]): T[];
  exec(sql: string): void;
  /** The connection, inside the transaction (for Drizzle, Kysely…). */
  readonly db: SqliteDatabase;
}

/**
 * A transactional handler: it runs synchronously inside the write transaction that records the
 * event's outcome, so its writes through `tx` commit or roll back with it. It must not return a
 * Promise (`handle()` refuses one at compile time, and the attempt fails at run time).
 */
export type Handler = (event: Event, tx: HandlerTx) => void;


/** A transactional handler's window on Postgres: queries on the client of the transaction that records the outcome. */
export interface PostgresHandlerTx {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * A transactional handler on Postgres (annotate its `tx: PostgresHandlerTx`): it may await its
 * queries on `tx`, which commit with the event's transition and the ack, or roll back with them.
 */
export type PostgresHandler = (event: Event, tx: PostgresHandlerTx) => void | Promise<void>;

/** The storage engines; a Knocker's type names its engine, which decides what its handlers' `tx` is. */
export type EngineName = "sqlite" | "postgres";

/** A `postgres://` or `postgresql://` URL: `open()` gives a `Knocker<"postgres">` for one. */
export type PostgresUrl = `postgres://${string}` | `postgresql://${string}`;

/** The transactional handler of an engine (both, when the engine is not known). */
export type HandlerOf<E extends EngineName> = [E] extends ["sqlite"] ? Handler : [E] extends ["postgres"] ? PostgresHandler : Handler | PostgresHandler;

/** The async handler of an engine, whose finalizer gets that engine's `tx`. */
export type AsyncHandlerOf<E extends EngineName> = [E] extends ["sqlite"] ? AsyncHandler : [E] extends ["postgres"] ? PostgresAsyncHandler
  : (event: Event, ctx: HandlerContext) => void | Finalizer | PostgresFinalizer | Promise<void | Finalizer | PostgresFinalizer>;

/** SQLite's transactional handlers must be synchronous (SynchronousHandler); Postgres's may await. */
export type TransactionalCheck<E extends EngineName, H> = [E] extends ["sqlite"] ? (H extends Handler ? SynchronousHandler<H> : unknown) : unknown;

/**
 * What `handle()` checks a handler against besides `Handler`: nothing for a synchronous function;
 * for one whose return type can be a Promise (an `async` function, `() => fetch(…)`), a string
 * type no function matches, so the call does not compile and tsc's error quotes the rule.
 */
export type SynchronousHandler<H extends Handler> = [PromiseIn<ReturnType<H>>] extends [never]
  ? unknown
  : "a transactional handler runs inside the SQLite write transaction and must not return a Promise: register an async handler with { transaction: false }";

/** The Promise-like members of a return type (none for `any`: nothing is known about it). */
type PromiseIn<R> = 0 extends 1 & R ? never : Extract<R, PromiseLike<unknown>>;

/** What an async handler (`{ transaction: false }`) is given besides the event. */
export interface HandlerContext {
  /** Aborted when the handler passes its `timeoutS`, its claim is lost, or the worker shuts down past `shutdownTimeoutS`. */
  readonly signal: AbortSignal;
  /** This run's attempt number, from 1. */
  readonly attempt: number;
  /** The same for every attempt of this event: hand it to external APIs as their idempotency key. */
  readonly idempotencyKey: string;
  readonly workerId: string;
}

/** Returned by an async handler: runs inside the transaction that records the outcome and acks. */
export type Finalizer = (tx: HandlerTx) => void;

/** An async handler's finalizer on Postgres: it may await its queries on `tx`. */
export type PostgresFinalizer = (tx: PostgresHandlerTx) => void | Promise<void>;

/** An async handler on Postgres: as AsyncHandler, resolving to a PostgresFinalizer (annotate its `tx`). */
export type PostgresAsyncHandler = (event: Event, ctx: HandlerContext) => void | PostgresFinalizer | Promise<void | PostgresFinalizer>;

/**
 * An async handler: runs outside every transaction (no lock is held while it awaits). It may
 * resolve to a finalizer whose writes commit exactly once, with the ack. External effects are
 * at-least-once: a crash after them and before the ack runs the handler again.
 */
export type AsyncHandler = (event: Event, ctx: HandlerContext) => void | Finalizer | Promise<void | Finalizer>;

export interface TransactionalHandleOptions {
  /** The default: the handler runs inside the write transaction (synchronous). */
  transaction?: true;
}

export interface AsyncHandleOptions {
  /** Run the handler outside the write transaction; it may be async. */
  transaction: false;
  /** Abort `ctx.signal` and fail the attempt after this many seconds (default: `visibilityTimeoutS`). */
  timeoutS?: number;
}

export type HandleOptions = TransactionalHandleOptions | AsyncHandleOptions;

export interface HandleTarget {
  endpoint: string;
  eventType?: string;
}

export interface WorkerErrorContext {
  workerId: string;
  /** The event the error is about, when there is one. */
  eventId: number | null;
}

export interface RunWorkerOptions {
  /** Stop after the batch in hand is finished. */
  signal?: AbortSignal;
  /** Failed and dead attempts, lost claims and storage errors, as they happen. */
  onError?: (error: unknown, context: WorkerErrorContext) => void;
  /** Defaults to host:pid:random. */
  workerId?: string;
  /** Async handlers (`{ transaction: false }`) in flight at once in this worker (default 8); at the cap it claims nothing new. */
  concurrency?: number;
  /** After `signal` aborts: how long to wait for async handlers in flight (default 30 s) before aborting them and handing their claims back. */
  shutdownTimeoutS?: number;
}

export interface WorkerState {
  workerId: string;
  running: boolean;
  currentEventId: number | null;
  lastError: string | null;
}

export interface PruneEventsOptions {
  statuses?: readonly PrunableStatus[];
  olderThan: number;
  limit?: number;
}

export interface PruneOrphanDeliveriesOptions {
  olderThan: number;
  limit?: number;
}

export interface ListPruneAuditsOptions {
  kind?: PruneKind;
  since?: number;
  limit?: number;
}

export interface PruneEventsResult {
  eventsPruned: number;
  deliveriesPruned: number;
  attemptsPruned: number;
  liveJobsPruned: number;
}

export interface PruneDeliveriesResult {
  deliveriesPruned: number;
}

export interface PruneAudit {
  id: number;
  kind: PruneKind;
  queueName: string;
  executedAt: number;
  eventsPruned: number;
  deliveriesPruned: number;
  attemptsPruned: number;
  liveJobsPruned: number;
  summaryJson: string;
}

/** What `new RetentionPolicy(...)` takes; ages and the interval are in seconds. */
export interface RetentionPolicyOptions {
  /** How often retention runs (seconds, at least 1). */
  intervalS: number;
  /** Which settled events to prune (default both: handled and ignored). */
  eventStatuses?: readonly PrunableStatus[];
  /** Prune events received more than this many seconds before the run; unset/null = keep events. */
  eventOlderThanS?: number | null;
  /** Events removed per transaction (1..1000, default 100); a run repeats batches until done. */
  eventLimit?: number;
  /** Prune orphan deliveries older than this; unset/null = keep them. */
  orphanDeliveriesOlderThanS?: number | null;
  /** Orphan deliveries removed per transaction (1..1000, default 100). */
  orphanDeliveriesLimit?: number;
}

export interface RunRetentionOptions {
  signal?: AbortSignal;
  onError?: (error: unknown) => void;
}

export interface NodeHandlerOptions {
  /** A path prefix removed before the endpoint lookup: `/hooks` serves `/hooks/webhooks/stripe` as `/webhooks/stripe`. */
  prefix?: string;
}

/**
 * A node:http / Express handler (Fastify: call it with `request.raw, reply.raw`). Without `next`, unknown paths answer 404;
 * with `next`, they are passed on.
 */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>;

// ---- the operator dashboard (CONTRACT §12, docs/dashboard.md) ----------------------------------

/** What the server knows about a request's peer, which a fetch-style `Request` does not carry. */
export interface DashboardPeer {
  /** The socket's remote address (`req.socket.remoteAddress` on node:http). */
  remoteAddress?: string | undefined;
}

export interface DashboardOptions {
  /**
   * Required: who may see the inbox. A function of the request (a session cookie, a header set by
   * an authenticating proxy, a bearer token…) returning true to let it in; false, a throw or a
   * rejection answers 401 with no data. It may instead return a `Response` to answer with (a
   * redirect to the app's login, a 401 with `WWW-Authenticate: Basic`). Or `"local-only"`: only
   * peers on a loopback address, with a Host header naming a loopback host — the peer address
   * must be passed to the handler (the `.node` adapter does; a fetch server passes
   * `{ remoteAddress }` as the second argument).
   */
  authorize: ((request: Request) => boolean | Response | Promise<boolean | Response>) | "local-only";
  /** Where the dashboard is mounted, e.g. `"/ops/knocker"` (default `"/"`); requests outside it answer 404. */
  basePath?: string;
  /** Show everything, change nothing: action buttons are hidden and action requests refused (403). */
  readOnly?: boolean;
  /**
   * Key of the CSRF tokens (at least 16 bytes). Default: random per `dashboard()` call, so forms
   * loaded before a restart must be reloaded. Give every process behind one load balancer the same.
   */
  secret?: string | Uint8Array;
}

/**
 * The dashboard as a fetch-style handler (`(request, peer?) => Promise<Response>`), plus `.node`
 * for node:http and Express (`(req, res, next?)`, which passes the peer address).
 */
export interface DashboardHandler {
  (request: Request, peer?: DashboardPeer): Promise<Response>;
  readonly node: NodeHandler;
}
