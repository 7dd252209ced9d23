// Every statement of the retention scheduler on Postgres, for schema `s` (quoted): the Honker
// scheduler tables (`_honker_scheduler_tasks`, `_honker_locks`) and the one that turns a due fire
// into a job. The retention queue's own statements are the worker's (plans/jobs.ts), on its queue.

export function schedulerPlans(s: string) {
  return {
    /**
     * Register or update the task ($1 name, $2 queue, $3 cron_expr, $4 payload, $5 first fire,
     * $6 max attempts). As on SQLite: an unchanged schedule keeps its `next_fire_at`, a new or
     * changed one is due at once; the payload is always the latest; an existing row keeps its
     * `enabled` (an operator's pause outlives restarts). Nodes registering at once take turns on
     * the row.
     */
    upsertTask: `INSERT INTO ${s}._honker_scheduler_tasks AS t
        (name, queue, cron_expr, payload, priority, expires_s, next_fire_at, enabled, max_attempts)
      VALUES ($1, $2, $3, $4, 0, NULL, $5, 1, $6)
      ON CONFLICT (name) DO UPDATE SET
        queue = excluded.queue,
        payload = excluded.payload,
        max_attempts = excluded.max_attempts,
        next_fire_at = CASE WHEN t.cron_expr = excluded.cron_expr THEN t.next_fire_at ELSE excluded.next_fire_at END,
        cron_expr = excluded.cron_expr
      RETURNING next_fire_at`,

    /** The task and its lock in one read ($1 task, $2 lock); a row of NULLs when neither exists. */
    view: `SELECT t.next_fire_at, t.enabled, l.owner AS lock_owner, l.expires_at AS lock_expires_at
      FROM (SELECT 1) AS one
      LEFT JOIN ${s}._honker_scheduler_tasks t ON t.name = $1
      LEFT JOIN ${s}._honker_locks l ON l.name = $2`,
    getEnabled: `SELECT enabled FROM ${s}._honker_scheduler_tasks WHERE name = $1`,
    /** The task row, locked until the tick commits. */
    lockTask: `SELECT name, queue, cron_expr, next_fire_at, enabled FROM ${s}._honker_scheduler_tasks WHERE name = $1 FOR UPDATE`,

    /**
     * Take the lock when it is free, expired or already ours ($1 name, $2 owner, $3 expiry, $4
     * now); a row back when we hold it. The row stays locked until the tick commits, so a node
     * trying at the same moment waits and then sees the new holder.
     */
    acquireLock: `INSERT INTO ${s}._honker_locks AS l (name, owner, expires_at) VALUES ($1, $2, $3)
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
      WHERE l.owner = excluded.owner OR l.expires_at <= $4
      RETURNING owner`,
    releaseLock: `DELETE FROM ${s}._honker_locks WHERE name = $1 AND owner = $2`,

    /** Is a run of this task still queued or running? (The queue belongs to the task alone.) */
    hasLiveJob: `SELECT EXISTS (SELECT 1 FROM ${s}._honker_live WHERE queue = $1) AS live`,

    /** The job for one fire ($1 task, $2 fire_at, $3 missed fires, $4 now): the task's payload plus which fire it is. */
    enqueueFire: `INSERT INTO ${s}._honker_live (queue, payload, state, priority, run_at, attempts, max_attempts, created_at, expires_at)
      SELECT queue, (payload::jsonb || jsonb_build_object('fire_at', $2::bigint, 'missed_fires', $3::bigint))::text, 'pending', priority,
             $4::bigint, 0, max_attempts, $4::bigint, CASE WHEN expires_s IS NULL THEN NULL ELSE $4::bigint + expires_s END
      FROM ${s}._honker_scheduler_tasks WHERE name = $1
      RETURNING id`,

    /** Advance the schedule ($1 task, $2 next fire, $3 the fire it was due at); the guard makes a stale tick a no-op. */
    advance: `UPDATE ${s}._honker_scheduler_tasks SET next_fire_at = $2 WHERE name = $1 AND next_fire_at = $3`,
  };
}

export type SchedulerPlans = ReturnType<typeof schedulerPlans>;
