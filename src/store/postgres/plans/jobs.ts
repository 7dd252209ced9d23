// Every statement of the Postgres queue and of an event's transitions, for schema `s` (quoted).
// The claim token is the same as on SQLite: (worker_id, attempts) of a row in state processing.

const EVENT_COLUMNS = `e.id, e.endpoint_id, k.name AS endpoint, e.received_at, e.provider_event_id,
  e.provider_delivery_id, e.event_type, e.method, e.headers_json, e.body_blob, e.query_json, e.dedupe_key,
  e.status, e.attempt_count, e.handled_at, e.last_error, e.ordering_key, e.trace_context`;

import { jobWaits } from "./ordering.js";

const DUE = `((state = 'pending' AND run_at <= $2) OR (state = 'processing' AND claim_expires_at <= $2))`;

export function jobPlans(s: string) {
  const waits = jobWaits(s);
  return {
    // A job waiting behind an earlier event of its key is not due: it becomes due in the commit
    // that settles that event, which NOTIFYs (settleBatch, #recordUnhandled, ignore).
    hasDue: `SELECT EXISTS (SELECT 1 FROM ${s}._honker_live l WHERE queue = $1 AND ${DUE} AND NOT ${waits}) AS due`,
    nextDueAt: `SELECT LEAST(
        (SELECT run_at FROM ${s}._honker_live l WHERE queue = $1 AND state = 'pending' AND NOT ${waits} ORDER BY run_at LIMIT 1),
        (SELECT claim_expires_at FROM ${s}._honker_live l WHERE queue = $1 AND state = 'processing' AND NOT ${waits}
         ORDER BY claim_expires_at LIMIT 1)) AS due`,

    /** Claims that expired on their last attempt, locked for the dead-lettering that follows. */
    expiredFinalClaims: `SELECT id, payload, attempts, max_attempts, worker_id FROM ${s}._honker_live
      WHERE queue = $1 AND state = 'processing' AND claim_expires_at <= $2 AND attempts >= max_attempts
      ORDER BY id FOR UPDATE SKIP LOCKED`,

    /**
     * Due jobs in queue order, skipping rows another worker's transaction holds: two workers
     * claiming at once take different jobs, neither waits. Jobs whose event waits behind an
     * earlier one of its ordering key are passed over (plans/ordering.ts). $3 claim expiry, $4
     * worker, $5 limit.
     */
    claim: `UPDATE ${s}._honker_live SET state = 'processing', worker_id = $4, claim_expires_at = $3, attempts = attempts + 1
      WHERE id = ANY(ARRAY(
        SELECT id FROM ${s}._honker_live l
        WHERE queue = $1 AND state IN ('pending', 'processing') AND ${DUE} AND NOT (state = 'processing' AND attempts >= max_attempts)
          AND NOT ${waits}
        ORDER BY priority DESC, run_at, id
        LIMIT $5
        FOR UPDATE SKIP LOCKED))
      RETURNING id, payload, attempts, max_attempts, worker_id`,

    /** The claim token still this worker's and not expired; the row stays locked until commit. */
    stillClaimed: `SELECT 1 FROM ${s}._honker_live
      WHERE id = $1 AND state = 'processing' AND worker_id = $2 AND attempts = $3 AND claim_expires_at > $4 FOR UPDATE`,
    extendClaim: `UPDATE ${s}._honker_live SET claim_expires_at = $1
      WHERE id = $2 AND state = 'processing' AND worker_id = $3 AND attempts = $4 AND claim_expires_at > $5`,
    releaseClaim: `UPDATE ${s}._honker_live SET state = 'pending', worker_id = NULL, claim_expires_at = NULL, attempts = attempts - 1
      WHERE id = $1 AND state = 'processing' AND worker_id = $2 AND attempts = $3`,
    ack: `DELETE FROM ${s}._honker_live WHERE id = $1`,
    retry: `UPDATE ${s}._honker_live SET state = 'pending', run_at = $1, worker_id = NULL, claim_expires_at = NULL WHERE id = $2`,
    deadLetter: `WITH gone AS (DELETE FROM ${s}._honker_live WHERE id = $3 RETURNING *)
      INSERT INTO ${s}._honker_dead (id, queue, payload, priority, run_at, attempts, max_attempts, last_error, created_at, died_at)
      SELECT id, queue, payload, priority, run_at, attempts, max_attempts, $1, created_at, $2 FROM gone
      ON CONFLICT (id) DO UPDATE SET queue = excluded.queue, payload = excluded.payload, priority = excluded.priority,
        run_at = excluded.run_at, attempts = excluded.attempts, max_attempts = excluded.max_attempts,
        last_error = excluded.last_error, created_at = excluded.created_at, died_at = excluded.died_at`,

    notify: `SELECT pg_notify($1, '')`,


    /**
     * A claimed batch, before its handlers run, in one round trip: each claim still held ($1 job
     * ids, $2 their workers, $3 their attempts) locked until the commit — so no other worker can
     * take it while its handler runs, and the claim committed just before needs no new window —
     * with each job's event row ($4) and, for a delivery replay ($5, else NULL), that delivery's
     * payload (d_ columns). `held` false: the claim is gone; a NULL id: the event is.
     */
    loadBatch: `WITH batch AS (
        SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS b(job_id, worker_id, attempts, event_id, delivery_id)),
      held AS (
        SELECT l.id FROM ${s}._honker_live l JOIN batch b
          ON l.id = b.job_id AND l.state = 'processing' AND l.worker_id = b.worker_id AND l.attempts = b.attempts
        FOR UPDATE OF l)
      SELECT b.job_id, r.id IS NOT NULL AS held, ${EVENT_COLUMNS},
        d.id AS d_id, dk.name AS d_endpoint, d.received_at AS d_received_at, d.provider_event_id AS d_provider_event_id,
        d.provider_delivery_id AS d_provider_delivery_id, d.event_type AS d_event_type, d.method AS d_method,
        d.headers_json AS d_headers_json, d.body_blob AS d_body_blob, d.query_json AS d_query_json, d.dedupe_key AS d_dedupe_key
      FROM batch b
      LEFT JOIN held r ON r.id = b.job_id
      LEFT JOIN ${s}.knocker_events e ON e.id = b.event_id
      LEFT JOIN ${s}.knocker_endpoints k ON k.id = e.endpoint_id
      LEFT JOIN ${s}.knocker_deliveries d ON d.id = b.delivery_id AND d.event_id = e.id
      LEFT JOIN ${s}.knocker_endpoints dk ON dk.id = d.endpoint_id`,

    /**
     * A batch's outcomes that need no more than an ack, in one round trip: jobs acked ($1, their
     * claims locked by loadBatch), and of those the handled ones' events marked handled with an
     * attempt each ($2 event ids, $3 durations in ms, $4 now); when one of them has an ordering
     * key, a NOTIFY on $5: the next event of its key may be claimed, on any node.
     */
    settleBatch: `WITH acked AS (DELETE FROM ${s}._honker_live WHERE id = ANY($1::bigint[]) RETURNING id),
      handled AS (
        UPDATE ${s}.knocker_events e SET status = 'handled', attempt_count = e.attempt_count + 1, handled_at = $4, last_error = NULL
        FROM unnest($2::bigint[], $3::int[]) AS h(event_id, duration_ms) WHERE e.id = h.event_id RETURNING e.id, h.duration_ms, e.ordering_key),
      attempt AS (
        INSERT INTO ${s}.knocker_attempts (event_id, attempted_at, outcome, error, duration_ms) SELECT id, $4, 'handled', NULL, duration_ms FROM handled RETURNING id),
      woke AS (SELECT pg_notify($5, '') FROM (SELECT 1 FROM handled WHERE ordering_key IS NOT NULL LIMIT 1) AS keyed)
      SELECT (SELECT count(*) FROM acked)::int AS acked, (SELECT count(*) FROM attempt)::int AS attempts, (SELECT count(*) FROM woke)::int AS woke`,

    getEvent: `SELECT ${EVENT_COLUMNS} FROM ${s}.knocker_events e JOIN ${s}.knocker_endpoints k ON k.id = e.endpoint_id WHERE e.id = $1`,
    markUnhandled: `UPDATE ${s}.knocker_events SET status = $1, attempt_count = attempt_count + $2, last_error = $3 WHERE id = $4`,
    insertAttempt: `INSERT INTO ${s}.knocker_attempts (event_id, attempted_at, outcome, error, duration_ms) VALUES ($1, $2, $3, $4, $5)`,
  };
}

export type JobPlans = ReturnType<typeof jobPlans>;
