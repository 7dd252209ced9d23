import type { Database } from "better-sqlite3";
import type { PruneSource } from "../../retention/prune-requests.js";
import { errorMessage } from "../../worker/outcomes.js";
import type { ClaimedJob, RetentionBatch, RetentionPhase, RetentionSchedule, RetentionStore, TaskDefinition } from "../store.js";
import { immediateTransaction } from "./connection.js";
import type { Pruner } from "./pruner.js";
import { Queue, type QueueConfig } from "./queue.js";
import { Scheduler } from "./scheduler.js";

/** The SQLite engine's side of runRetention(): the Honker scheduler tables and the retention queue. */
export class SqliteRetentionStore implements RetentionStore {
  readonly #db: Database;
  readonly #pruner: Pruner;
  readonly #queue: Queue;
  readonly #now: () => number;

  /** `queue`: the retention queue (`<queueName>.retention`). */
  constructor(db: Database, pruner: Pruner, queue: QueueConfig, now: () => number) {
    this.#db = db;
    this.#pruner = pruner;
    this.#queue = new Queue(db, queue);
    this.#now = now;
  }

  get isOpen(): boolean {
    return this.#db.open;
  }

  schedule(task: TaskDefinition, owner: string, leaseS: number): RetentionSchedule {
    return new Scheduler(this.#db, task, owner, leaseS);
  }

  nextJobDueAt(): number | null {
    return this.#queue.nextDueAt();
  }

  claimJob(owner: string, now: number): ClaimedJob | null {
    return immediateTransaction(this.#db, "claiming a retention job", () => {
      for (const expired of this.#queue.expiredFinalClaims(now)) {
        this.#queue.deadLetter(expired.id, `retention run's claim expired on the final attempt (${expired.attempts} of ${expired.maxAttempts})`, now);
      }
      return this.#queue.claim(owner, 1, now)[0] ?? null;
    });
  }

  pruneBatch(job: ClaimedJob, phase: RetentionPhase, source: PruneSource, lastPhase: boolean): RetentionBatch {
    return immediateTransaction(this.#db, "running retention", (): RetentionBatch => {
      if (!this.#queue.extendClaim(job, this.#now())) return { lost: true };
      if (phase.kind === "events") {
        const events = this.#pruner.pruneEventsInTransaction(phase.request, source);
        const done = events.eventsPruned < phase.request.limit;
        // The last phase acks the job in the same transaction as its last prune.
        if (done && lastPhase) this.#queue.ack(job.id);
        return { lost: false, done, events };
      }
      const orphans = this.#pruner.pruneOrphansInTransaction(phase.request, source);
      const done = orphans.deliveriesPruned < phase.request.limit;
      if (done && lastPhase) this.#queue.ack(job.id);
      return { lost: false, done, orphans };
    });
  }

  finishEarly(job: ClaimedJob): void {
    try {
      immediateTransaction(this.#db, "finishing a stopped retention run", () => {
        if (this.#queue.stillClaimed(job, this.#now())) this.#queue.ack(job.id);
      });
    } catch {
      // the claim expires and another run picks the job up
    }
  }

  settleFailed(job: ClaimedJob, error: unknown, unusable: boolean): void {
    try {
      immediateTransaction(this.#db, "recording a failed retention run", () => {
        const now = this.#now();
        if (!this.#queue.stillClaimed(job, now)) return;
        if (unusable || job.attempts >= job.maxAttempts) this.#queue.deadLetter(job.id, errorMessage(error), now);
        else this.#queue.retry(job, now);
      });
    } catch {
      // the claim expires and the job is retried
    }
  }
}
