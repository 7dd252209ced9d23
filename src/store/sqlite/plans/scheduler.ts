import type { Database } from "better-sqlite3";
import { prepareAll } from "../connection.js";

// Every statement of the retention scheduler on the Honker scheduler tables
// (`_honker_scheduler_tasks`, `_honker_locks`) and the one that turns a due fire into a job.

/** Statements of the scheduler, prepared once on the writer connection. */
export function prepareSchedulerStatements(db: Database) {
  return prepareAll(db, {
    /**
     * Register or update the task. An unchanged schedule (same `cron_expr`) keeps its
     * `next_fire_at`, so restarting processes neither reset the clock nor fire early; a new or
     * changed schedule is due at once (`@firstFireAt` = now) and then every interval. The
     * payload (the policy) is always the latest one. A new row is enabled; an existing row keeps
     * its `enabled`, so an operator's pause (`enabled = 0`) outlives restarts and new processes.
     */
    upsertTask: `INSERT INTO _honker_scheduler_tasks
         (name, queue, cron_expr, payload, priority, expires_s, next_fire_at, enabled, max_attempts)
       VALUES (@name, @queue, @cronExpr, @payload, 0, NULL, @firstFireAt, 1, @maxAttempts)
       ON CONFLICT(name) DO UPDATE SET
         queue = excluded.queue,
         payload = excluded.payload,
         max_attempts = excluded.max_attempts,
         next_fire_at = CASE WHEN _honker_scheduler_tasks.cron_expr = excluded.cron_expr
                             THEN _honker_scheduler_tasks.next_fire_at ELSE excluded.next_fire_at END,
         cron_expr = excluded.cron_expr`,

    getTask: `SELECT name, queue, cron_expr, next_fire_at, enabled FROM _honker_scheduler_tasks WHERE name = ?`,
    getEnabled: { pluck: `SELECT enabled FROM _honker_scheduler_tasks WHERE name = ?` },

    /** Take the lock when it is free, expired or already ours; `changes` = 1 when we hold it. */
    acquireLock: `INSERT INTO _honker_locks (name, owner, expires_at) VALUES (@name, @owner, @expiresAt)
       ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE _honker_locks.owner = excluded.owner OR _honker_locks.expires_at <= @now`,
    getLock: `SELECT owner, expires_at FROM _honker_locks WHERE name = ?`,
    releaseLock: `DELETE FROM _honker_locks WHERE name = ? AND owner = ?`,

    /** Is a run of this task still queued or running? (The queue belongs to the task alone.) */
    hasLiveJob: { pluck: `SELECT EXISTS (SELECT 1 FROM _honker_live WHERE queue = ?)` },

    /** The job for one fire: the task's payload plus which fire it is. */
    enqueueFire: `INSERT INTO _honker_live (queue, payload, state, priority, run_at, attempts, max_attempts, created_at, expires_at)
       SELECT queue, json_set(payload, '$.fire_at', @fireAt, '$.missed_fires', @missedFires), 'pending', priority, @now, 0,
              max_attempts, @now, CASE WHEN expires_s IS NULL THEN NULL ELSE @now + expires_s END
       FROM _honker_scheduler_tasks WHERE name = @name`,

    /** Advance the schedule; the guard on the old value makes a stale tick a no-op. */
    advance: `UPDATE _honker_scheduler_tasks SET next_fire_at = @nextFireAt WHERE name = @name AND next_fire_at = @dueAt`,
  });
}

export type SchedulerStatements = ReturnType<typeof prepareSchedulerStatements>;
