import type { Database } from "better-sqlite3";
import { everyExpr, intervalOf, nextFire } from "../../retention/schedule-grid.js";
import { immediateTransaction } from "./connection.js";
import type { SchedulerTaskRow as TaskRow } from "../rows.js";
import type { RetentionSchedule, SchedulerView, TaskDefinition, TickResult } from "../store.js";
import { prepareSchedulerStatements, type SchedulerStatements } from "./plans/scheduler.js";


/**
 * The scheduler of one task on the Honker tables. Correctness comes from the tick: taking the
 * lock, enqueueing the due fire and advancing `next_fire_at` happen in one write transaction, so
 * two processes can never both fire the same `next_fire_at`. The lock (a lease in `_honker_locks`)
 * elects one process to tick, so the others stay off the write lock; when its holder dies, the
 * lease runs out and another process takes over.
 */
export class Scheduler implements RetentionSchedule {
  readonly #db: Database;
  readonly #sql: SchedulerStatements;
  readonly #task: TaskDefinition;
  readonly #lockName: string;
  readonly #owner: string;
  readonly #leaseS: number;

  constructor(db: Database, task: TaskDefinition, owner: string, leaseS: number) {
    this.#db = db;
    this.#sql = prepareSchedulerStatements(db);
    this.#task = task;
    this.#lockName = task.name;
    this.#owner = owner;
    this.#leaseS = leaseS;
  }

  get leaseS(): number {
    return this.#leaseS;
  }

  /** Create or update the task row (a new or changed schedule is due now); returns its `next_fire_at`. */
  register(now: number): number {
    return immediateTransaction(this.#db, "registering the retention schedule", () => {
      this.#sql.upsertTask.run({
        name: this.#task.name,
        queue: this.#task.queue,
        cronExpr: everyExpr(this.#task.intervalS),
        payload: JSON.stringify(this.#task.payload),
        firstFireAt: now,
        maxAttempts: this.#task.maxAttempts,
      });
      return (this.#sql.getTask.get(this.#task.name) as TaskRow).next_fire_at;
    });
  }

  /** A read: enough to decide whether a tick is worth the write lock. */
  view(): SchedulerView {
    const task = this.#sql.getTask.get(this.#task.name) as TaskRow | undefined;
    const lock = this.#sql.getLock.get(this.#lockName) as { owner: string; expires_at: number } | undefined;
    return {
      nextFireAt: task?.next_fire_at ?? null,
      enabled: task?.enabled === 1,
      lockOwner: lock?.owner ?? null,
      lockExpiresAt: lock?.expires_at ?? null,
    };
  }

  /** Whether an operator paused the task (`enabled` set to anything but 1); a missing row is not a pause. */
  paused(): boolean {
    const enabled = this.#sql.getEnabled.get(this.#task.name) as number | undefined;
    return enabled !== undefined && enabled !== 1;
  }

  /** Take or renew the lock and, holding it, turn a due fire into one job — one transaction. */
  tick(now: number): TickResult {
    return immediateTransaction(this.#db, "ticking the retention scheduler", () => {
      const held = this.#sql.acquireLock.run({ name: this.#lockName, owner: this.#owner, expiresAt: now + this.#leaseS, now }).changes === 1;
      if (!held) return { leader: false, fired: null, coalesced: false };
      const task = this.#sql.getTask.get(this.#task.name) as TaskRow | undefined;
      if (!task || task.enabled !== 1 || task.next_fire_at > now) return { leader: true, fired: null, coalesced: false };

      const { fireAt, nextFireAt, missedFires } = nextFire(task.next_fire_at, intervalOf(task.cron_expr, task.name), now);
      this.#sql.advance.run({ name: task.name, nextFireAt, dueAt: task.next_fire_at });
      if (this.#sql.hasLiveJob.get(task.queue) === 1) return { leader: true, fired: null, coalesced: true };
      const jobId = Number(this.#sql.enqueueFire.run({ name: task.name, fireAt, missedFires, now }).lastInsertRowid);
      return { leader: true, fired: { jobId, fireAt, missedFires }, coalesced: false };
    });
  }

  /** Give the lock up (stop, close) so another process takes over at once. */
  release(): void {
    immediateTransaction(this.#db, "releasing the retention scheduler lock", () => {
      this.#sql.releaseLock.run(this.#lockName, this.#owner);
    });
  }
}
