import { everyExpr, intervalOf, nextFire } from "../../retention/schedule-grid.js";
import type { SchedulerTaskRow as TaskRow } from "../rows.js";
import type { RetentionSchedule, SchedulerView, TaskDefinition, TickResult } from "../store.js";
import { schedulerPlans, type SchedulerPlans } from "./plans/scheduler.js";
import type { PgSession } from "./session.js";


/**
 * The scheduler of one task on Postgres, with the SQLite scheduler's rules. A tick is one
 * transaction: the lock upsert (which keeps the lock's row locked until the commit, so ticks of
 * every node take turns), the task row locked, the due fire enqueued and `next_fire_at` advanced —
 * so no two nodes can fire the same `next_fire_at`. The lock (a lease in `_honker_locks`) elects
 * the node that ticks; when its holder dies, the lease runs out and another node takes over.
 */
export class PgScheduler implements RetentionSchedule {
  readonly #session: PgSession;
  readonly #sql: SchedulerPlans;
  readonly #task: TaskDefinition;
  readonly #owner: string;
  readonly #leaseS: number;

  constructor(session: PgSession, quotedSchema: string, task: TaskDefinition, owner: string, leaseS: number) {
    this.#session = session;
    this.#sql = schedulerPlans(quotedSchema);
    this.#task = task;
    this.#owner = owner;
    this.#leaseS = leaseS;
  }

  get leaseS(): number {
    return this.#leaseS;
  }

  /** Create or update the task row (a new or changed schedule is due now); returns its `next_fire_at`. */
  register(now: number): Promise<number> {
    const task = this.#task;
    // One statement: no transaction of its own.
    return this.#session.read("registering the retention schedule", async (client, q) =>
      (await q<{ next_fire_at: number }>(client, this.#sql.upsertTask, [
        task.name, task.queue, everyExpr(task.intervalS), JSON.stringify(task.payload), now, task.maxAttempts,
      ])).rows[0]!.next_fire_at);
  }

  view(): Promise<SchedulerView> {
    return this.#session.read("reading the retention schedule", async (client, q) => {
      const row = (await q<{ next_fire_at: number | null; enabled: number | null; lock_owner: string | null; lock_expires_at: number | null }>(
        client, this.#sql.view, [this.#task.name, this.#task.name])).rows[0]!;
      return { nextFireAt: row.next_fire_at, enabled: row.enabled === 1, lockOwner: row.lock_owner, lockExpiresAt: row.lock_expires_at };
    });
  }

  /** Whether an operator paused the task (`enabled` set to anything but 1); a missing row is not a pause. */
  paused(): Promise<boolean> {
    return this.#session.read("reading the retention schedule", async (client, q) => {
      const row = (await q<{ enabled: number }>(client, this.#sql.getEnabled, [this.#task.name])).rows[0];
      return row !== undefined && row.enabled !== 1;
    });
  }

  tick(now: number): Promise<TickResult> {
    return this.#session.transaction("ticking the retention scheduler", async (client, q): Promise<TickResult> => {
      const held = (await q(client, this.#sql.acquireLock, [this.#task.name, this.#owner, now + this.#leaseS, now])).rowCount === 1;
      if (!held) return { leader: false, fired: null, coalesced: false };
      const task = (await q<TaskRow>(client, this.#sql.lockTask, [this.#task.name])).rows[0];
      if (!task || task.enabled !== 1 || task.next_fire_at > now) return { leader: true, fired: null, coalesced: false };

      const { fireAt, nextFireAt, missedFires } = nextFire(task.next_fire_at, intervalOf(task.cron_expr, task.name), now);
      const advanced = (await q(client, this.#sql.advance, [task.name, nextFireAt, task.next_fire_at])).rowCount === 1;
      if (!advanced) return { leader: true, fired: null, coalesced: false };
      if ((await q<{ live: boolean }>(client, this.#sql.hasLiveJob, [task.queue])).rows[0]!.live) return { leader: true, fired: null, coalesced: true };
      const jobId = (await q<{ id: number }>(client, this.#sql.enqueueFire, [task.name, fireAt, missedFires, now])).rows[0]!.id;
      return { leader: true, fired: { jobId, fireAt, missedFires }, coalesced: false };
    });
  }

  /** Give the lock up (stop, close) so another node takes over at once. */
  async release(): Promise<void> {
    await this.#session.read("releasing the retention scheduler lock", (client, q) => q(client, this.#sql.releaseLock, [this.#task.name, this.#owner]));
  }
}
