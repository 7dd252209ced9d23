import { EndpointRegistry } from "./endpoints.js";
import { KnockerError } from "./errors.js";
import { handleFetch } from "./http/fetch-handler.js";
import { FrontDoor } from "./http/front-door.js";
import { createDashboard } from "./dashboard/dashboard.js";
import { createNodeHandler } from "./http/node-adapter.js";
import type {
  DashboardHandler, DashboardOptions,
  AddEndpointOptions, AsyncHandleOptions, AsyncHandler, Attempt, BlockedKey, Delivery, ListBlockedKeysOptions, EndpointOptions, Event, HandleOptions, HandleTarget, Handler, IngestInput,
  TransactionalHandleOptions, IngestResult, IterateEventsOptions,
  ListDeliveriesOptions, ListEventsOptions, NodeHandler, NodeHandlerOptions, OpenOptions, ReceiveByNameInput, ReceiveInput,
  RunWorkerOptions, WorkerState,
  ListPruneAuditsOptions, PruneAudit, PruneDeliveriesResult, PruneEventsOptions, PruneEventsResult, PruneOrphanDeliveriesOptions,
  PostgresPool, RetentionPolicyOptions, RunRetentionOptions, SqliteDatabase, SynchronousHandler, EngineName, HandlerOf, AsyncHandlerOf, TransactionalCheck, PostgresUrl,
} from "./interfaces.js";
import { Observer, type KnockerEventName, type KnockerListener } from "./observer.js";
import { resolveOptions, type ResolvedOptions } from "./options.js";
import { curatedProviderVersions } from "./providers/registry.js";
import type { RetentionPolicy } from "./retention/policy.js";
import { Operator } from "./operator/operator.js";
import { checkAuditFilter, checkEventPruneRequest, checkOrphanPruneRequest } from "./retention/prune-requests.js";
import { RetentionRunner } from "./retention/run-retention.js";
import { attachEngine } from "./store/engine-of.js";
import { IngressService } from "./ingest/ingress-service.js";
import { openStore } from "./store/open-store.js";
import type { Store } from "./store/store.js";
import { WorkerPool } from "./worker/worker.js";
import { createTelemetry, type Telemetry } from "./telemetry/telemetry.js";
import { readInboxHealth } from "./telemetry/health.js";

/** Endpoint.receive()'s way in (set by Knocker's static block, which can reach its private members). */
let ingestAt: (knocker: Knocker, endpoint: string, input: ReceiveInput | IngestInput, trusted: boolean) => Promise<IngestResult>;

/**
 * Open (or create) a Knocker inbox on a SQLite file, or on a better-sqlite3 connection the app
 * already has. One `open()` per process, shared by ingress and workers, is the fast path.
 */
export function open(target: PostgresUrl | PostgresPool, options?: OpenOptions): Knocker<"postgres">;
export function open(pathOrDatabase: string | SqliteDatabase, options?: OpenOptions): Knocker<"sqlite">;
/** With the engine named, for a target whose kind the compiler cannot see: `open<"postgres">(process.env.DATABASE_URL!)`. */
export function open<E extends EngineName>(target: string | SqliteDatabase | PostgresPool, options?: OpenOptions): Knocker<E>;
export function open(target: string | SqliteDatabase | PostgresPool, options?: OpenOptions): Knocker<EngineName> {
  return new Knocker(target, options);
}

/**
 * An inbox. `E` is its engine: it decides what a transactional handler's `tx` is (SQLite's
 * synchronous HandlerTx, Postgres's PostgresHandlerTx) and whether the handler may be async.
 */
export class Knocker<E extends EngineName = "sqlite"> {
  readonly #options: ResolvedOptions;
  readonly #store: Store;
  readonly #endpoints: EndpointRegistry;
  readonly #workers: WorkerPool;
  readonly #operator: Operator;
  readonly #retention: RetentionRunner;
  readonly #observer = new Observer();
  readonly #ingress: IngressService;
  readonly #frontDoor: FrontDoor;
  readonly #telemetry: Telemetry | null;
  #closed = false;
  /** close()'s promise, once it has closed everything it closes at once. */
  #closing: Promise<void> | null = null;
  /** A networked engine's connections end after its pending work (SQLite's close at once). */
  #connectionsClosed: Promise<void> = Promise.resolve();
  /** The promises of running runWorker() and runRetention() loops. */
  readonly #loops = new Set<Promise<void>>();

  constructor(pathOrDatabase: string | SqliteDatabase | PostgresPool, options?: OpenOptions) {
    this.#options = resolveOptions(options);
    const telemetry = (this.#telemetry = createTelemetry(this.#options.telemetry, this.#options.queueName));
    // The registry records endpoints through the store, which dispatches to the registry's handlers.
    let store: Store | undefined;
    this.#endpoints = new EndpointRegistry((endpoint, now) => store!.saveEndpoint(endpoint, now), telemetry === null ? null : (endpoint, handler) => telemetry.wrap(endpoint, handler));
    store = this.#store = openStore(pathOrDatabase, this.#options, this.#endpoints, this.#observer);
    attachEngine(this, store);
    this.#ingress = new IngressService(this.#endpoints, this.#options, store, this.#observer, () => this.#assertOpen(), telemetry);
    this.#frontDoor = new FrontDoor(this.#ingress, this.#observer, telemetry);
    const dashboard = store.dashboard;
    telemetry?.observeHealth(() => readInboxHealth(dashboard, this.#options.now()));
    this.#operator = new Operator(store.operator);
    const { queueName, maxAttempts, now } = this.#options;
    this.#retention = new RetentionRunner(store.retention, queueName, maxAttempts, now, this.#observer);
    const endpoints = this.#endpoints;
    this.#workers = new WorkerPool(store.jobs, store.changes, {
      batchSize: this.#options.batchSize,
      queueName: this.#options.queueName,
      visibilityTimeoutS: this.#options.visibilityTimeoutS,
      hasAsyncHandlers: () => endpoints.hasAsyncHandlers,
    }, this.#observer, telemetry);
  }

  /** The Honker queue that carries this inbox's event jobs. */
  get queueName(): string {
    return this.#options.queueName;
  }

  /** Reader connections currently open (bounded by `maxReaders`). */
  get openReaders(): number {
    return this.#store.openReaders;
  }

  /** Subscribe to commit and batch events (metrics, logging); returns an unsubscribe function. */
  on<K extends KnockerEventName>(name: K, listener: KnockerListener<K>): () => void {
    return this.#observer.on(name, listener);
  }

  /** Fresh copy of the curated providers' versions. */
  providerVersions(): Record<string, string> {
    return curatedProviderVersions();
  }

  // ---- endpoints and handlers -------------------------------------------------------------

  endpoint(name: string, options: EndpointOptions): Endpoint<E> {
    if (options === null || typeof options !== "object") throw new TypeError("endpoint() takes (name, options)");
    return this.addEndpoint({ ...options, name });
  }

  addEndpoint(options: AddEndpointOptions): Endpoint<E> {
    this.#assertOpen();
    const registered = this.#endpoints.add(options, this.#options.now());
    return new Endpoint<E>(this as Knocker<EngineName>, registered.name, registered.path);
  }

  /**
   * Register a handler for one event type of an endpoint, or for all its other types:
   * transactional by default (synchronous: one that returns a Promise does not compile), async
   * with `{ transaction: false }`.
   */
  handle<H extends HandlerOf<E>>(target: HandleTarget, handler: H & TransactionalCheck<E, H>, options?: TransactionalHandleOptions): this;
  handle(target: HandleTarget, handler: AsyncHandlerOf<E>, options: AsyncHandleOptions): this;
  handle(target: HandleTarget, handler: HandlerOf<EngineName> | AsyncHandlerOf<EngineName>, options?: HandleOptions): this {
    if (target === null || typeof target !== "object") throw new TypeError("handle() takes ({ endpoint, eventType? }, handler, options?)");
    this.#endpoints.addHandler(target.endpoint, target.eventType, handler as Handler | AsyncHandler, options);
    return this;
  }

  // ---- ingress ----------------------------------------------------------------------------

  /** Verify with the endpoint's provider, store, dedupe and enqueue. Resolves after the commit. */
  receive(input: ReceiveByNameInput): Promise<IngestResult> {
    return this.#ingest(input, false);
  }

  /** Trusted low-level ingress: no verification; the caller states validity and metadata. */
  ingest(input: IngestInput): Promise<IngestResult> {
    return this.#ingest(input, true);
  }

  #ingest(input: ReceiveByNameInput | IngestInput, trusted: boolean): Promise<IngestResult> {
    if (input === null || typeof input !== "object") return Promise.reject(new TypeError("receive() takes an object: { endpoint, body, headers, … }"));
    return this.#ingestAt(input.endpoint, input, trusted);
  }

  // Not `async`: the receipt's own promise is handed back as it is (no extra turns on the hot
  // path); a bad call still rejects rather than throws.
  #ingestAt(endpoint: string, input: ReceiveInput | IngestInput, trusted: boolean): Promise<IngestResult> {
    try {
      this.#assertOpen();
      return this.#ingress.receiveAt(this.#endpoints.get(endpoint), input, trusted);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  static {
    // Endpoint.receive() reaches the endpoint by its name without copying the caller's input
    // into a new object with an `endpoint` key (a copy per receipt on the hot path).
    ingestAt = (knocker, endpoint, input, trusted) => knocker.#ingestAt(endpoint, input, trusted);
  }

  // ---- HTTP -------------------------------------------------------------------------------

  /**
   * Serve every registered endpoint by its `path` from a Web `Request` (Hono, Next.js route
   * handlers, any fetch-style server). A bound function: `serve({ fetch: webhooks.fetch })` works.
   */
  readonly fetch = (request: Request): Promise<Response> => handleFetch(this.#frontDoor, request);

  /** `(req, res, next?)` for node:http, Express and Fastify (a hijacked route, see docs/http.md); mount it before any body parser. */
  nodeHandler(options?: NodeHandlerOptions): NodeHandler {
    return createNodeHandler(this.#frontDoor, options);
  }

  /**
   * The operator dashboard as a fetch-style handler (and `.node` for node:http / Express): the
   * inbox in a browser, with replay, requeue and ignore, one at a time or by filter. `authorize`
   * is required (see docs/dashboard.md).
   */
  dashboard(options: DashboardOptions): DashboardHandler {
    this.#assertOpen();
    const endpoints = this.#endpoints;
    return createDashboard({
      operator: this,
      queries: this.#store.dashboard,
      queueName: this.#options.queueName,
      now: this.#options.now,
      secretNames: (name) => {
        const provider = endpoints.all().find((endpoint) => endpoint.name === name)?.provider;
        return { headers: provider?.secretHeaders ?? [], query: provider?.secretQueryParams ?? [] };
      },
    }, options);
  }

  // ---- operator ----------------------------------------------------------------------------
  // Every operator call returns a Promise (CONTRACT §2, §9). On SQLite the work itself is one
  // synchronous better-sqlite3 call made before the method returns (a call from inside a
  // handler does its work right there); a bad argument or a closed inbox rejects the promise.

  async getEvent(id: number): Promise<Event | null> {
    this.#assertOpen();
    return this.#operator.getEvent(id);
  }
  async listEvents(options?: ListEventsOptions): Promise<Event[]> {
    this.#assertOpen();
    return this.#operator.listEvents(options);
  }
  /**
   * Every matching event, newest first, for bulk work:
   * `for await (const e of webhooks.iterateEvents({ status: "dead" })) await webhooks.replay(e.id)`.
   * It pages through the events 100 at a time, each page one query that sees what committed
   * before it; between pages no connection or read transaction is held, so the loop may `await`
   * anything. A bad option or a closed Knocker rejects the first `next()`.
   */
  iterateEvents(options?: IterateEventsOptions): AsyncIterableIterator<Event> {
    return this.#operator.iterateEvents(options, () => this.#assertOpen());
  }
  async getDelivery(id: number): Promise<Delivery | null> {
    this.#assertOpen();
    return this.#operator.getDelivery(id);
  }
  async listDeliveries(options?: ListDeliveriesOptions): Promise<Delivery[]> {
    this.#assertOpen();
    return this.#operator.listDeliveries(options);
  }
  async listAttempts(eventId: number): Promise<Attempt[]> {
    this.#assertOpen();
    return this.#operator.listAttempts(eventId);
  }
  async ignore(id: number): Promise<Event> {
    this.#assertOpen();
    return this.#operator.ignore(id);
  }
  async replay(id: number): Promise<Event> {
    this.#assertOpen();
    return this.#operator.replay(id);
  }
  async requeue(id: number): Promise<Event> {
    this.#assertOpen();
    return this.#operator.requeue(id);
  }
  async replayDelivery(deliveryId: number): Promise<Event> {
    this.#assertOpen();
    return this.#operator.replayDelivery(deliveryId);
  }
  /**
   * Ordered processing: the keys whose events wait behind their first unsettled event (received,
   * running, or failed awaiting a retry), with that event and how many wait; most waiting first.
   * A key stuck behind a failing event is released by ignoring it, or once it is dead.
   */
  async listBlockedKeys(options?: ListBlockedKeysOptions): Promise<BlockedKey[]> {
    this.#assertOpen();
    return this.#operator.listBlockedKeys(options);
  }

  // ---- worker -----------------------------------------------------------------------------

  /** Run handlers until `signal` aborts (or close()); resolves once the claimed batch drained. */
  async runWorker(options?: RunWorkerOptions): Promise<void> {
    this.#assertOpen();
    return this.#track(this.#workers.run(options));
  }

  workerStates(): WorkerState[] {
    return this.#workers.states();
  }

  // ---- retention (CONTRACT §7) ------------------------------------------------------------

  /** Remove up to `limit` handled/ignored events received before `olderThan`, oldest first, with their rows. */
  async pruneEvents(options: PruneEventsOptions): Promise<PruneEventsResult> {
    this.#assertOpen();
    return this.#store.pruner.pruneEvents(checkEventPruneRequest(options));
  }
  /** Remove up to `limit` deliveries without an event received before `olderThan`, oldest first. */
  async pruneOrphanDeliveries(options: PruneOrphanDeliveriesOptions): Promise<PruneDeliveriesResult> {
    this.#assertOpen();
    return this.#store.pruner.pruneOrphanDeliveries(checkOrphanPruneRequest(options));
  }
  /** Prune audit rows, newest first. */
  async listPruneAudits(options?: ListPruneAuditsOptions): Promise<PruneAudit[]> {
    this.#assertOpen();
    return this.#store.pruner.audits(checkAuditFilter(options));
  }
  /** Prune on a schedule shared by every process on this file, until `signal` aborts (or close()). */
  async runRetention(policy: RetentionPolicy | RetentionPolicyOptions, options?: RunRetentionOptions): Promise<void> {
    this.#assertOpen();
    return this.#track(this.#retention.run(policy, options));
  }

  // ---- lifecycle --------------------------------------------------------------------------

  /**
   * Commit receipts still waiting for their group commit (and sync them with `durability:
   * "full"`), stop workers and retention, and close connections; a connection passed to open()
   * is left open for its owner. All of that happens before close() returns: from then on every
   * call refuses with ERR_CLOSED. The promise resolves once the loops of `runWorker()` and
   * `runRetention()` running on this Knocker have ended. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing === null) {
      try {
        this.#closeNow();
      } catch (error) {
        return Promise.reject(error);
      }
      this.#closing = Promise.allSettled([...this.#loops, this.#connectionsClosed]).then(() => undefined);
    }
    return this.#closing;
  }

  #closeNow(): void {
    if (this.#closed) return;
    this.#store.close();
    this.#closed = true;
    this.#workers.stopAll();
    this.#retention.stopAll();
    this.#telemetry?.close();
    this.#connectionsClosed = Promise.resolve(this.#store.closeConnections(Promise.allSettled([...this.#loops])));
  }

  /** Keep a running loop's promise, so close() can wait for it to end. */
  #track(loop: Promise<void>): Promise<void> {
    this.#loops.add(loop);
    const forget = () => this.#loops.delete(loop);
    loop.then(forget, forget);
    return loop;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new KnockerError("ERR_CLOSED", "this Knocker has been closed");
  }
}

/** An endpoint registered on a Knocker: register its handlers and receive its webhooks. */
export class Endpoint<E extends EngineName = "sqlite"> {
  readonly #knocker: Knocker<EngineName>;
  readonly name: string;
  readonly path: string;

  constructor(knocker: Knocker<EngineName>, name: string, path: string) {
    this.#knocker = knocker;
    this.name = name;
    this.path = path;
  }

  /**
   * `handle(type, fn)` for one event type; `handle(fn)` for every type without its own handler.
   * Transactional by default; `{ transaction: false }` registers an async handler `(event, ctx)`.
   */
  handle<H extends HandlerOf<E>>(handler: H & TransactionalCheck<E, H>, options?: TransactionalHandleOptions): this;
  handle(handler: AsyncHandlerOf<E>, options: AsyncHandleOptions): this;
  handle<H extends HandlerOf<E>>(eventType: string, handler: H & TransactionalCheck<E, H>, options?: TransactionalHandleOptions): this;
  handle(eventType: string, handler: AsyncHandlerOf<E>, options: AsyncHandleOptions): this;
  handle(
    typeOrHandler: string | HandlerOf<EngineName> | AsyncHandlerOf<EngineName>,
    handlerOrOptions?: HandlerOf<EngineName> | AsyncHandlerOf<EngineName> | HandleOptions,
    maybeOptions?: HandleOptions,
  ): this {
    const register = this.#knocker.handle.bind(this.#knocker) as (target: HandleTarget, handler: unknown, options?: HandleOptions) => Knocker;
    if (typeof typeOrHandler === "function") {
      register({ endpoint: this.name }, typeOrHandler, handlerOrOptions as HandleOptions | undefined);
    } else {
      register({ endpoint: this.name, eventType: typeOrHandler }, handlerOrOptions, maybeOptions);
    }
    return this;
  }

  receive(input: ReceiveInput): Promise<IngestResult> {
    if (input === null || typeof input !== "object") return Promise.reject(new TypeError("receive() takes an object: { body, headers, … }"));
    return ingestAt(this.#knocker, this.name, input, false);
  }

  ingest(input: Omit<IngestInput, "endpoint">): Promise<IngestResult> {
    return this.#knocker.ingest({ ...input, endpoint: this.name });
  }
}
