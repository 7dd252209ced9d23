// The storage seam: what the engine-neutral core (the Knocker facade, the worker loop, async
// handler runs, retention) asks of a storage engine. Each engine lives in its own folder with its
// SQL in `plans/` (src/store/sqlite/ is the first). Methods may answer synchronously (SQLite:
// better-sqlite3 is synchronous inside, so its hot paths never wait on a promise) or with a
// Promise (a networked engine); the core awaits either.
import type { Attempt, BlockedKey, Delivery, Event, EventStatus, IngestResult, PrunableStatus, PruneAudit, PruneDeliveriesResult, PruneEventsResult, PruneKind } from "../interfaces.js";
import type { EventPruneRequest, OrphanPruneRequest, PruneSource } from "../retention/prune-requests.js";
import type { Receipt } from "../ingest/receipt.js";
import type { Finalizer } from "../interfaces.js";
import type { DashboardQueries } from "../dashboard/queries.js";
import type { JobOutcome, StartedJob } from "../worker/outcomes.js";

export type MaybePromise<T> = T | Promise<T>;

/** A job this worker holds a claim on; `workerId` and `attempts` are the claim's token. */
export interface ClaimedJob {
  id: number;
  payload: string;
  /** This claim's attempt number (incremented at claim). */
  attempts: number;
  maxAttempts: number;
  workerId: string;
}

/**
 * The worker's view of the queue. A batch's transactional handlers run inside the engine's
 * write transaction, with the outcome and the ack; async handlers run outside, between
 * `runBatch` (which claims them) and `finishAsync`/`failAsync` (which record them).
 */
export interface JobStore {
  /** False once the engine is closed: worker loops end. */
  readonly isOpen: boolean;
  /** Whether a claim pass could find work now (a cheap read that keeps idle workers off the write lock). */
  hasDueWork(): MaybePromise<boolean>;
  /** Milliseconds until the next job becomes claimable (Infinity when none). */
  msUntilDue(): MaybePromise<number>;
  /** Dead-letter claims that expired on their last attempt, then claim up to `limit` jobs. */
  claim(workerId: string, limit: number): MaybePromise<ClaimedJob[]>;
  /**
   * Run a claimed batch in one transaction; with `claimNext`, the same commit claims the next
   * batch (at most `limit`, and no more async handlers than `asyncRoom` less those started now).
   */
  runBatch(
    jobs: readonly ClaimedJob[],
    onJob: (eventId: number | null) => void,
    claimNext?: { workerId: string; limit: number; asyncRoom: number },
  ): MaybePromise<{ outcomes: JobOutcome[]; next: ClaimedJob[] }>;
  /** An async handler resolved: its finalizer, the event's transition and the ack, in one transaction. */
  finishAsync(started: StartedJob, finalizer: Finalizer | undefined, durationMs: number): MaybePromise<JobOutcome>;
  /** An async handler failed: record the attempt (retry or dead-letter). */
  failAsync(started: StartedJob, error: unknown, durationMs: number): MaybePromise<JobOutcome>;
  /** Heartbeat: a fresh visibility window for a claim still held; false when it is gone. */
  extendClaim(job: ClaimedJob): MaybePromise<boolean>;
  /** Hand back claims whose handlers never ran or were stopped, attempt refunded (best effort). */
  release(jobs: readonly ClaimedJob[]): MaybePromise<void>;
}

/** Wakes idle workers: commits through this process at once, other processes' commits soon after. */
export interface ChangeFeed {
  /** A token of the database's state; take it before looking for work and pass it to wait(). */
  version(): unknown;
  /** Resolve on notify(), a change since `seen`, after `dueInMs`, or on abort. */
  wait(dueInMs: number, signal: AbortSignal | undefined, seen: unknown): Promise<void>;
  notify(): void;
}

/** Receipts stored durably: each promise settles once its commit is durable. */
export interface ReceiptStore {
  submit(receipt: Receipt): Promise<IngestResult>;
  /** Commit what is waiting now (close()). */
  flushNow(): void;
}

/** Where a newest-first walk over events stopped: the next page starts strictly after it. */
export interface EventCursor {
  receivedAt: number;
  id: number;
}

export interface EventFilter {
  status?: EventStatus;
  endpoint?: string;
  eventType?: string;
  since?: number;
}

export interface DeliveryFilter {
  eventId?: number;
  endpoint?: string;
  signatureValid?: boolean;
  orphaned?: boolean;
  since?: number;
  limit: number;
}

/**
 * Operator reads and actions, on checked arguments (src/operator/operator.ts validates them).
 * Reads never take the write lock; each action is one write transaction that checks the
 * transition (src/operator/transitions.ts) and, for a restart, enqueues a new job.
 */
export interface OperatorStore {
  event(id: number): MaybePromise<Event | null>;
  /** Newest first; `after` continues a walk (iterateEvents). */
  events(filter: EventFilter, limit: number, after?: EventCursor): MaybePromise<Event[]>;
  delivery(id: number): MaybePromise<Delivery | null>;
  deliveries(filter: DeliveryFilter): MaybePromise<Delivery[]>;
  /** Newest first. */
  attempts(eventId: number): MaybePromise<Attempt[]>;
  ignore(id: number): MaybePromise<Event>;
  /** replay/requeue: drop the event's live jobs, reset it, enqueue a new job. */
  restart(id: number, action: "replay" | "requeue"): MaybePromise<Event>;
  /** Re-run the event of a linked delivery with that delivery's payload. */
  restartDelivery(deliveryId: number): MaybePromise<Event>;
  /** Keys with events waiting behind their first unsettled one, most waiting first. */
  blockedKeys(filter: { endpoint?: string; limit: number }): MaybePromise<BlockedKey[]>;
}

export interface StatusCountRow {
  endpoint: string;
  provider: string | null;
  status: EventStatus | null;
  n: number;
}

export interface QueueRow {
  depth: number;
  pending: number;
  processing: number;
  oldestPendingAt: number | null;
}

export interface DeliveryCountRow {
  total: number;
  invalid: number;
  orphaned: number;
  /** Rejected receipts counted but not stored (over invalidDeliveriesPerMinute). */
  dropped: number;
}

export interface StatsRows {
  statusCounts: StatusCountRow[];
  queue: QueueRow;
  deadJobs: number;
  deliveries: DeliveryCountRow;
}

/** Every count of `knocker stats`, from one snapshot of the file. */
export interface EventSelection {
  status?: EventStatus;
  endpoint?: string;
  eventType?: string;
  since?: number;
  limit?: number;
}


/** The command line's reads beyond the operator API (counts, and the id snapshot of a bulk action). */
export interface CliQueries {
  stats(queueName: string): MaybePromise<StatsRows>;
  /** Ids of the events a bulk action will visit, oldest first, taken once before any change. */
  eventIds(selection: EventSelection): MaybePromise<number[]>;
  /** What a prune would remove, counted up to `limit` (the number its confirmation names). */
  countPrunable(what: { statuses: readonly PrunableStatus[]; olderThan: number; limit: number } | { olderThan: number; limit: number }): MaybePromise<number>;
}

/** A recurring task in `_honker_scheduler_tasks`, fired every `intervalS` seconds. */
export interface TaskDefinition {
  name: string;
  /** The queue its jobs go to. */
  queue: string;
  intervalS: number;
  /** The job payload (a JSON object); each job adds `fire_at` and `missed_fires`. */
  payload: Record<string, unknown>;
  maxAttempts: number;
}

/** What one tick did. */
export interface TickResult {
  /** Whether this owner holds the scheduler lock after the tick. */
  leader: boolean;
  /** Set when a due fire became a job. */
  fired: { jobId: number; fireAt: number; missedFires: number } | null;
  /** A fire came due while the previous run was still queued or running: folded into it. */
  coalesced: boolean;
}

export interface SchedulerView {
  nextFireAt: number | null;
  enabled: boolean;
  lockOwner: string | null;
  lockExpiresAt: number | null;
}


/** One runRetention() run's hold on the shared schedule (a lease on the scheduler lock). */
export interface RetentionSchedule {
  readonly leaseS: number;
  /** Create the task if missing (or put it back); returns its next fire time. */
  register(now: number): MaybePromise<number>;
  view(): MaybePromise<SchedulerView>;
  paused(): MaybePromise<boolean>;
  /** Take or renew the lock and, as its holder, turn a due fire into one job. */
  tick(now: number): MaybePromise<TickResult>;
  release(): MaybePromise<void>;
}

export type RetentionPhase =
  | { kind: "events"; request: EventPruneRequest }
  | { kind: "orphans"; request: OrphanPruneRequest };

/** What one retention batch pruned; `done`: fewer rows than the limit, this phase's backlog is gone. */
export type RetentionBatch =
  | { lost: true }
  | { lost: false; done: boolean; events?: PruneEventsResult; orphans?: PruneDeliveriesResult };

/**
 * The engine's side of `runRetention()`: the shared schedule, the retention queue, and prune
 * batches that each renew the run's claim, prune and (last) ack in one transaction.
 */
export interface RetentionStore {
  readonly isOpen: boolean;
  schedule(task: TaskDefinition, owner: string, leaseS: number): RetentionSchedule;
  nextJobDueAt(): MaybePromise<number | null>;
  /** Claim one due retention job (dead-lettering claims that expired on their last attempt). */
  claimJob(owner: string, now: number): MaybePromise<ClaimedJob | null>;
  pruneBatch(job: ClaimedJob, phase: RetentionPhase, source: PruneSource, lastPhase: boolean): MaybePromise<RetentionBatch>;
  /** A stop between batches: ack the job if its claim is still held. */
  finishEarly(job: ClaimedJob): MaybePromise<void>;
  /** A failed run: retry after the backoff, or dead-letter (at once when `unusable`). */
  settleFailed(job: ClaimedJob, error: unknown, unusable: boolean): MaybePromise<void>;
}

export interface AuditFilter {
  kind?: PruneKind;
  since?: number;
  limit: number;
}

/** The retention primitives on checked requests: each prune is one transaction with its audit row. */
export interface PruneStore {
  pruneEvents(request: EventPruneRequest): MaybePromise<PruneEventsResult>;
  pruneOrphanDeliveries(request: OrphanPruneRequest): MaybePromise<PruneDeliveriesResult>;
  /** Newest first. */
  audits(filter: AuditFilter): MaybePromise<PruneAudit[]>;
}

/** Each endpoint's budget of stored rejected receipts per minute (the rest are only counted). */
export interface RejectionCounter {
  /** Whether a rejected receipt may be stored now; counts it either way. Synchronous: it runs on the ingest path. */
  admit(endpointId: number, endpointName: string, nowS: number): boolean;
}

/**
 * A storage engine, as the Knocker facade composes it. Registration is synchronous
 * (`saveEndpoint`); everything else may answer with a Promise.
 */
export interface Store {
  readonly kind: string;
  readonly receipts: ReceiptStore;
  readonly jobs: JobStore;
  readonly changes: ChangeFeed;
  readonly operator: OperatorStore;
  readonly pruner: PruneStore;
  readonly retention: RetentionStore;
  readonly rejections: RejectionCounter;
  readonly cli: CliQueries;
  /** The operator dashboard's aggregates and pages (reads only). */
  readonly dashboard: DashboardQueries;
  /** Connections open for reads, for `openReaders` (0 where the engine pools them elsewhere). */
  readonly openReaders: number;
  /** Record an endpoint (never its secrets); returns its stable id. */
  saveEndpoint(endpoint: { name: string; path: string; provider: string | null; enabled: boolean }, now: number): number;
  /** Commit what is waiting and stop background work; then `closeConnections()` once the loops stopped. */
  close(): void;
  /**
   * SQLite closes at once; a networked engine first waits for `loopsEnded` (the worker and
   * retention loops, which may still need a connection on their way out), then resolves once its
   * pending work is done and its pool ended.
   */
  closeConnections(loopsEnded?: Promise<unknown>): MaybePromise<void>;
}
