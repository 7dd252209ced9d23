import type { Database } from "better-sqlite3";
import type { RetryBackoff } from "../../interfaces.js";
import { retryDelayS } from "../../worker/backoff.js";
import type { ClaimedJob } from "../store.js";
import { toClaimedJob as toJob, type JobRow } from "../rows.js";
import { prepareQueueStatements, type QueueStatements } from "./plans/queue.js";

export interface QueueConfig {
  name: string;
  visibilityTimeoutS: number;
  maxAttempts: number;
  retryBackoff: RetryBackoff | false;
}

/**
 * A named queue in the Honker layout. Methods run inside the caller's transaction; the queue
 * never opens one itself, so a job's state always changes together with the event it is about.
 */
export class Queue {
  readonly config: QueueConfig;
  readonly #sql: QueueStatements;

  constructor(db: Database, config: QueueConfig) {
    this.config = config;
    this.#sql = prepareQueueStatements(db);
  }

  get name(): string {
    return this.config.name;
  }

  enqueue(payload: { event_id: number; delivery_id?: number }, now: number, runAt = now): number {
    return Number(this.#sql.enqueue.run(this.name, JSON.stringify(payload), runAt, this.config.maxAttempts, now).lastInsertRowid);
  }

  /** A job for each event with an id in `firstEventId`..`lastEventId`; returns how many were written. */
  enqueueEventRange(firstEventId: number, lastEventId: number): number {
    return this.#sql.enqueueEventRange.run(this.name, this.config.maxAttempts, firstEventId, lastEventId).changes;
  }

  /** Claims that expired on the last allowed attempt; the caller dead-letters them. */
  expiredFinalClaims(now: number): ClaimedJob[] {
    return (this.#sql.expiredFinalClaims.all(this.name, now) as JobRow[]).map(toJob);
  }

  /** Inside the caller's write transaction, so the choice of statement holds for the claim itself. */
  claim(workerId: string, limit: number, now: number): ClaimedJob[] {
    const statement = this.#keysMayWait() ? this.#sql.claimOrdered : this.#sql.claim;
    const rows = statement.all(workerId, this.#claimExpiry(now), this.name, now, now, limit) as JobRow[];
    return rows.map(toJob).sort((a, b) => a.id - b.id);
  }

  /** True while `job`'s claim is still this worker's and has not expired. */
  stillClaimed(job: ClaimedJob, now: number): boolean {
    return this.#sql.stillClaimed.get(job.id, job.workerId, job.attempts, now) !== undefined;
  }

  /**
   * Before running a claimed job: a fresh visibility window if the claim is still this worker's
   * (a batch's jobs are claimed together, so a later one's window would otherwise shrink with
   * every handler before it). False when another worker has taken the job since.
   */
  renewClaim(job: ClaimedJob, now: number): boolean {
    return this.#sql.renewClaim.run(this.#claimExpiry(now), job.id, job.workerId, job.attempts).changes === 1;
  }

  /** Hand back claims whose handlers never ran (a failed batch, close()): pending, attempt refunded. */
  releaseClaims(jobs: readonly ClaimedJob[]): void {
    for (const job of jobs) this.#sql.releaseClaim.run(job.id, job.workerId, job.attempts);
  }

  /**
   * For long jobs (a retention run): if `job`'s claim is still held, renew it for another
   * visibility timeout and return true; false when it expired or was taken.
   */
  extendClaim(job: ClaimedJob, now: number): boolean {
    return this.#sql.extendClaim.run(this.#claimExpiry(now), job.id, job.workerId, job.attempts, now).changes === 1;
  }

  ack(jobId: number): void {
    this.#sql.ack.run(jobId);
  }

  /** Back to pending after the backoff for this attempt; returns when it becomes due. */
  retry(job: ClaimedJob, now: number): number {
    const runAt = now + retryDelayS(this.config.retryBackoff, job.attempts);
    this.#sql.retry.run(runAt, job.id);
    return runAt;
  }

  deadLetter(jobId: number, error: string, now: number): void {
    this.#sql.copyToDead.run(error, now, jobId);
    this.#sql.ack.run(jobId);
  }

  /** Remove every live job about `eventId` on this queue; returns how many. */
  removeEventJobs(eventId: number): number {
    return this.#sql.deleteForEvent.run(this.name, eventId).changes;
  }

  /**
   * When a claim (or renewal) made at `now` expires. Timestamps are whole seconds and a claim
   * expires once `now >= claim_expires_at`. `now` is the current second rounded down, so
   * `now + visibilityTimeoutS` would expire a claim made at x.9 s after only
   * visibilityTimeoutS - 0.9 s. The extra second makes every claim last at least
   * visibilityTimeoutS (and at most one second longer).
   */
  #claimExpiry(now: number): number {
    return now + this.config.visibilityTimeoutS + 1;
  }

  /**
   * Outside a transaction the probe and the look are two snapshots; if keys start waiting between
   * them, a waiting job may count as due, and the claim that follows (which probes again inside
   * its transaction) comes back empty: one wasted turn, never a job run out of order.
   */
  nextDueAt(): number | null {
    const statement = this.#keysMayWait() ? this.#sql.nextDueAtOrdered : this.#sql.nextDueAt;
    return (statement.get(this.name, this.name) as number | null) ?? null;
  }

  /** Whether a job of this queue may have to wait behind its ordering key (plans/ordering.ts). */
  #keysMayWait(): boolean {
    return this.#sql.keysMayWait.get() === 1;
  }
}
