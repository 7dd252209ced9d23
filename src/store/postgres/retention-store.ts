import type { RetryBackoff } from "../../interfaces.js";
import type { PruneSource } from "../../retention/prune-requests.js";
import { retryDelayS } from "../../worker/backoff.js";
import { errorMessage } from "../../worker/outcomes.js";
import { toClaimedJob, type JobRow } from "../rows.js";
import type { ClaimedJob, RetentionBatch, RetentionPhase, RetentionSchedule, RetentionStore, TaskDefinition } from "../store.js";
import type { PgClient } from "./driver.js";
import { jobPlans, type JobPlans } from "./plans/jobs.js";
import type { PgPruner } from "./pruner.js";
import type { Query } from "./queries.js";
import { PgScheduler } from "./scheduler.js";
import type { PgSession } from "./session.js";

export interface PgRetentionQueue {
  /** The retention queue (`<queueName>.retention`). */
  name: string;
  visibilityTimeoutS: number;
  retryBackoff: RetryBackoff | false;
}

/**
 * The Postgres engine's side of runRetention(): the Honker scheduler tables and the retention
 * queue, on the worker's queue statements. A run's job is claimed with FOR UPDATE SKIP LOCKED;
 * each prune batch is one transaction that first renews the claim (the UPDATE locks the job row,
 * so no other node can take the job while the batch runs), then prunes, and — in the last batch —
 * acks, so a fire's pruning and its ack commit together.
 */
export class PgRetentionStore implements RetentionStore {
  readonly #session: PgSession;
  readonly #s: string;
  readonly #sql: JobPlans;
  readonly #pruner: PgPruner;
  readonly #queue: PgRetentionQueue;
  readonly #now: () => number;
  /** Calls that must end before the pool does (the stop's ack and lock release among them). */
  readonly #pending = new Set<Promise<unknown>>();
  #open = true;

  constructor(session: PgSession, quotedSchema: string, pruner: PgPruner, queue: PgRetentionQueue, now: () => number) {
    this.#session = session;
    this.#s = quotedSchema;
    this.#sql = jobPlans(quotedSchema);
    this.#pruner = pruner;
    this.#queue = queue;
    this.#now = now;
  }

  /** True until the engine ends its pool (after the retention loops have ended). */
  get isOpen(): boolean {
    return this.#open;
  }

  schedule(task: TaskDefinition, owner: string, leaseS: number): RetentionSchedule {
    const scheduler = new PgScheduler(this.#session, this.#s, task, owner, leaseS);
    return {
      leaseS,
      register: (now) => this.#track(scheduler.register(now)),
      view: () => this.#track(scheduler.view()),
      paused: () => this.#track(scheduler.paused()),
      tick: (now) => this.#track(scheduler.tick(now)),
      release: () => this.#track(scheduler.release()),
    };
  }

  nextJobDueAt(): Promise<number | null> {
    return this.#track(this.#session.read("reading the retention queue", async (client, q) =>
      (await q<{ due: number | null }>(client, this.#sql.nextDueAt, [this.#queue.name])).rows[0]!.due));
  }

  claimJob(owner: string, now: number): Promise<ClaimedJob | null> {
    return this.#track(this.#session.transaction("claiming a retention job", async (client, q) => {
      const expired = (await q<JobRow>(client, this.#sql.expiredFinalClaims, [this.#queue.name, now])).rows.map(toClaimedJob);
      for (const job of expired) {
        await q(client, this.#sql.deadLetter, [`retention run's claim expired on the final attempt (${job.attempts} of ${job.maxAttempts})`, now, job.id]);
      }
      const claimed = await q<JobRow>(client, this.#sql.claim, [this.#queue.name, now, this.#claimExpiry(now), owner, 1]);
      return claimed.rows.length === 0 ? null : toClaimedJob(claimed.rows[0]!);
    }));
  }

  pruneBatch(job: ClaimedJob, phase: RetentionPhase, source: PruneSource, lastPhase: boolean): Promise<RetentionBatch> {
    return this.#track(this.#session.transaction("running retention", async (client, q): Promise<RetentionBatch> => {
      const now = this.#now();
      const renewed = await q(client, this.#sql.extendClaim, [this.#claimExpiry(now), job.id, job.workerId, job.attempts, now]);
      if (renewed.rowCount !== 1) return { lost: true };
      if (phase.kind === "events") {
        const events = await this.#pruner.pruneEventsIn(client, q, phase.request, source);
        const done = events.eventsPruned < phase.request.limit;
        // The last phase acks the job in the same transaction as its last prune.
        if (done && lastPhase) await q(client, this.#sql.ack, [job.id]);
        return { lost: false, done, events };
      }
      const orphans = await this.#pruner.pruneOrphansIn(client, q, phase.request, source);
      const done = orphans.deliveriesPruned < phase.request.limit;
      if (done && lastPhase) await q(client, this.#sql.ack, [job.id]);
      return { lost: false, done, orphans };
    }));
  }

  async finishEarly(job: ClaimedJob): Promise<void> {
    try {
      await this.#track(this.#session.transaction("finishing a stopped retention run", async (client, q) => {
        if (await this.#stillClaimed(client, q, job, this.#now())) await q(client, this.#sql.ack, [job.id]);
      }));
    } catch {
      // the claim expires and another run picks the job up
    }
  }

  async settleFailed(job: ClaimedJob, error: unknown, unusable: boolean): Promise<void> {
    try {
      await this.#track(this.#session.transaction("recording a failed retention run", async (client, q) => {
        const now = this.#now();
        if (!(await this.#stillClaimed(client, q, job, now))) return;
        if (unusable || job.attempts >= job.maxAttempts) await q(client, this.#sql.deadLetter, [errorMessage(error), now, job.id]);
        else await q(client, this.#sql.retry, [now + retryDelayS(this.#queue.retryBackoff, job.attempts), job.id]);
      }));
    } catch {
      // the claim expires and the job is retried
    }
  }

  /** Before the pool ends: no more calls, and the ones under way (a stop's ack, a lock release) finished. */
  async close(): Promise<void> {
    this.#open = false;
    await Promise.allSettled([...this.#pending]);
  }

  async #stillClaimed(client: PgClient, q: Query, job: ClaimedJob, now: number): Promise<boolean> {
    return (await q(client, this.#sql.stillClaimed, [job.id, job.workerId, job.attempts, now])).rowCount === 1;
  }

  /** As for the worker's claims: whole seconds, plus one so every claim lasts at least visibilityTimeoutS. */
  #claimExpiry(now: number): number {
    return now + this.#queue.visibilityTimeoutS + 1;
  }

  #track<T>(call: Promise<T>): Promise<T> {
    this.#pending.add(call);
    const forget = () => this.#pending.delete(call);
    call.then(forget, forget);
    return call;
  }
}
