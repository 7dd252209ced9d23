import type { Database } from "better-sqlite3";
import type { PruneKind } from "../../../interfaces.js";
import { prepareAll } from "../connection.js";
import type { PruneAuditRow } from "../../rows.js";
import type { AuditFilter } from "../../store.js";

// Every statement retention runs on the Knocker tables. Sets of ids travel as one JSON array
// bound to `json_each(?)`, so a batch of up to 1,000 events costs a handful of statements, each
// an index lookup per id.

/** Statements of the prune primitives, prepared once on the writer connection. */
export function preparePruneStatements(db: Database) {
  return prepareAll(db, {
    endpointIds: { pluck: "SELECT id FROM knocker_endpoints" },

    /**
     * Jobs of this queue about the given events (found through the `_honker_live_event_v2` index,
     * so a payload whose `event_id` is not that integer is never touched). A job a worker holds
     * under a live claim is left to that worker, which acks it quietly once it finds the event
     * gone; deleting it under the worker would only surface as a false "claim lost" error.
     */
    deleteLiveJobs: `DELETE FROM _honker_live
       WHERE queue = @queue AND json_valid(payload) AND json_extract(payload, '$.event_id') IN (SELECT value FROM json_each(@ids))
         AND NOT (state = 'processing' AND claim_expires_at > @now)`,
    /** What deleteLiveJobs left behind: jobs under a live claim. */
    countRemainingJobs: {
      pluck: `SELECT COUNT(*) FROM _honker_live
       WHERE queue = @queue AND json_valid(payload) AND json_extract(payload, '$.event_id') IN (SELECT value FROM json_each(@ids))`,
    },
    deleteAttempts: `DELETE FROM knocker_attempts WHERE event_id IN (SELECT value FROM json_each(@ids))`,
    deleteEventDeliveries: `DELETE FROM knocker_deliveries WHERE event_id IN (SELECT value FROM json_each(@ids))`,
    deleteEvents: `DELETE FROM knocker_events WHERE id IN (SELECT value FROM json_each(@ids))`,

    /** Deliveries that never became (or joined) an event: rejected signatures and handshakes. */
    selectOrphans: `SELECT id, received_at FROM knocker_deliveries
       WHERE event_id IS NULL AND received_at < @olderThan
       ORDER BY received_at, id LIMIT @limit`,
    deleteDeliveries: `DELETE FROM knocker_deliveries WHERE id IN (SELECT value FROM json_each(@ids))`,

    insertAudit: `INSERT INTO knocker_prune_audits
       (kind, queue_name, executed_at, events_pruned, deliveries_pruned, attempts_pruned, live_jobs_pruned, summary_json)
       VALUES (@kind, @queueName, @executedAt, @eventsPruned, @deliveriesPruned, @attemptsPruned, @liveJobsPruned, @summaryJson)`,
  });
}

export type PruneStatements = ReturnType<typeof preparePruneStatements>;

/** Audit rows, newest first (ids break ties within one second); runs on a reader connection. */
export function selectAudits(db: Database, filter: AuditFilter): PruneAuditRow[] {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.kind !== undefined) (clauses.push("kind = ?"), params.push(filter.kind));
  if (filter.since !== undefined) (clauses.push("executed_at >= ?"), params.push(filter.since));
  const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
  return db
    .prepare(
      `SELECT id, kind, queue_name, executed_at, events_pruned, deliveries_pruned, attempts_pruned, live_jobs_pruned, summary_json
       FROM knocker_prune_audits ${where} ORDER BY executed_at DESC, id DESC LIMIT ?`,
    )
    .all(...params, filter.limit) as PruneAuditRow[];
}
