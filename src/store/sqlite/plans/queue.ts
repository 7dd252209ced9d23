import type { Database } from "better-sqlite3";
import { prepareAll } from "../connection.js";
import { JOB_WAITS, KEYS_MAY_WAIT } from "./ordering.js";

/** Every statement on the Honker queue tables, prepared once per connection. */
export function prepareQueueStatements(db: Database) {
  return prepareAll(db, {
    enqueue: `INSERT INTO _honker_live (queue, payload, state, priority, run_at, attempts, max_attempts, created_at)
       VALUES (?, ?, 'pending', 0, ?, 0, ?, ?)`,

    /**
     * One job per event in an id range, in id order, due when the event was received: what
     * \`enqueue\` would write for each (json_object gives the same text as JSON.stringify).
     */
    enqueueEventRange: `INSERT INTO _honker_live (queue, payload, state, priority, run_at, attempts, max_attempts, created_at)
       SELECT ?, json_object('event_id', id), 'pending', 0, received_at, 0, ?, received_at
       FROM knocker_events WHERE id BETWEEN ? AND ? ORDER BY id`,

    /** Jobs whose claim expired on their last allowed attempt: they can only be dead-lettered. */
    expiredFinalClaims: `SELECT id, payload, attempts, max_attempts, worker_id FROM _honker_live
       WHERE queue = ? AND state = 'processing' AND claim_expires_at <= ? AND attempts >= max_attempts
       ORDER BY id`,

    /** Claim due pending jobs and expired claims with attempts left, in queue order. */
    claim: claimStatement(""),

    /**
     * The same, passing over jobs whose event waits behind an earlier one of its ordering key
     * (plans/ordering.ts): of each key only the first unsettled event is ever claimable. Only
     * needed while keysMayWait: even unevaluated, the correlated check made every claim of an
     * inbox without keys about 30 µs slower.
     */
    claimOrdered: claimStatement(`AND NOT ${JOB_WAITS}`),

    keysMayWait: { pluck: KEYS_MAY_WAIT },

    /** The claim token: same worker, same attempt, not yet expired. */
    stillClaimed: { pluck: `SELECT 1 FROM _honker_live
       WHERE id = ? AND state = 'processing' AND worker_id = ? AND attempts = ? AND claim_expires_at > ?` },

    /**
     * A new window for a claim that is still this worker's, expired or not. Only safe inside the
     * caller's write transaction: while it holds the write lock nobody else can take the job.
     */
    renewClaim: `UPDATE _honker_live SET claim_expires_at = ?
       WHERE id = ? AND state = 'processing' AND worker_id = ? AND attempts = ?`,

    /** Give a claim back unused: pending again, its attempt refunded. */
    releaseClaim: `UPDATE _honker_live SET state = 'pending', worker_id = NULL, claim_expires_at = NULL, attempts = attempts - 1
       WHERE id = ? AND state = 'processing' AND worker_id = ? AND attempts = ?`,

    /** Heartbeat: push a still-held claim's expiry out (same token as stillClaimed). */
    extendClaim: `UPDATE _honker_live SET claim_expires_at = ?
       WHERE id = ? AND state = 'processing' AND worker_id = ? AND attempts = ? AND claim_expires_at > ?`,

    ack: `DELETE FROM _honker_live WHERE id = ?`,

    retry: `UPDATE _honker_live SET state = 'pending', run_at = ?, worker_id = NULL, claim_expires_at = NULL WHERE id = ?`,

    copyToDead: `INSERT OR REPLACE INTO _honker_dead (id, queue, payload, priority, run_at, attempts, max_attempts, last_error, created_at, died_at)
       SELECT id, queue, payload, priority, run_at, attempts, max_attempts, ?, created_at, ? FROM _honker_live WHERE id = ?`,

    // json_valid() first: it guards json_extract() and matches the partial index _honker_live_event_v2.
    deleteForEvent: `DELETE FROM _honker_live WHERE queue = ? AND json_valid(payload) AND json_extract(payload, '$.event_id') = ?`,

    /** When the next job becomes claimable: a pending job's run_at or a claim's expiry. */
    nextDueAt: {
      pluck: `SELECT MIN(due) FROM (
         SELECT MIN(run_at) AS due FROM _honker_live WHERE queue = ? AND state = 'pending'
         UNION ALL
         SELECT MIN(claim_expires_at) FROM _honker_live WHERE queue = ? AND state = 'processing')`,
    },

    /**
     * The same, of the jobs claimOrdered would not pass over. A job waiting behind its key is due
     * when the event ahead of it settles, a commit that wakes the workers (so an idle worker does
     * not spin on it).
     */
    nextDueAtOrdered: {
      pluck: `SELECT MIN(due) FROM (
         SELECT * FROM (SELECT run_at AS due FROM _honker_live l WHERE queue = ? AND state = 'pending' AND NOT ${JOB_WAITS}
           ORDER BY run_at LIMIT 1)
         UNION ALL
         SELECT * FROM (SELECT claim_expires_at FROM _honker_live l WHERE queue = ? AND state = 'processing' AND NOT ${JOB_WAITS}
           ORDER BY claim_expires_at LIMIT 1))`,
    },
  });
}

export type QueueStatements = ReturnType<typeof prepareQueueStatements>;

/** `UPDATE … RETURNING` of the first `LIMIT` claimable jobs; `filter` narrows which are. */
function claimStatement(filter: string): string {
  return `UPDATE _honker_live
       SET state = 'processing', worker_id = ?, claim_expires_at = ?, attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM _honker_live l
         WHERE queue = ? AND state IN ('pending', 'processing')
           AND ((state = 'pending' AND run_at <= ?) OR (state = 'processing' AND claim_expires_at <= ?))
           ${filter}
         ORDER BY priority DESC, run_at, id
         LIMIT ?)
       RETURNING id, payload, attempts, max_attempts, worker_id`;
}
