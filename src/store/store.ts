// The storage seam: what the engine-neutral core (the Knocker facade, the worker loop, async
// handler runs, retention) asks of a storage engine. Each engine lives in its own folder with its
// SQL in `plans/` (src/store/sqlite/ is the first). Methods may answer synchronously (SQLite:
// better-sqlite3 is synchronous inside, so its hot paths never wait on a promise) or with a
// Promise (a networked engine); the core awaits either.
import type { IngestResult } from "../interfaces.js";
import type { Receipt } from "../ingest/receipt.js";
import type { Finalizer } from "../interfaces.js";
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
