// Retention's statements on Postgres, for schema `s` (quoted). Sets of ids travel as one bigint
// array, so a batch of up to 1,000 events costs a handful of statements.
import type { AuditFilter } from "../../store.js";

export function prunePlans(s: string) {
  return {
    /** Jobs of this queue about the given events; a job a worker holds under a live claim is left to it. */
    deleteLiveJobs: `DELETE FROM ${s}._honker_live
      WHERE queue = $1 AND ${s}.knocker_job_event_id(payload) = ANY($2::bigint[]) AND NOT (state = 'processing' AND claim_expires_at > $3)`,
    countRemainingJobs: `SELECT count(*)::int AS n FROM ${s}._honker_live WHERE queue = $1 AND ${s}.knocker_job_event_id(payload) = ANY($2::bigint[])`,
    deleteAttempts: `DELETE FROM ${s}.knocker_attempts WHERE event_id = ANY($1::bigint[])`,
    deleteEventDeliveries: `DELETE FROM ${s}.knocker_deliveries WHERE event_id = ANY($1::bigint[])`,
    deleteEvents: `DELETE FROM ${s}.knocker_events WHERE id = ANY($1::bigint[])`,
    selectOrphans: `SELECT id, received_at FROM ${s}.knocker_deliveries WHERE event_id IS NULL AND received_at < $1 ORDER BY received_at, id LIMIT $2`,
    deleteDeliveries: `DELETE FROM ${s}.knocker_deliveries WHERE id = ANY($1::bigint[])`,
    endpointIds: `SELECT id FROM ${s}.knocker_endpoints ORDER BY id`,
    insertAudit: `INSERT INTO ${s}.knocker_prune_audits
      (kind, queue_name, executed_at, events_pruned, deliveries_pruned, attempts_pruned, live_jobs_pruned, summary_json)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  };
}

/** Audit rows, newest first (ids break ties within one second). */
export function auditsPlan(s: string, filter: AuditFilter) {
  const clauses: string[] = [];
  const params: Record<string, unknown> = { limit: filter.limit };
  if (filter.kind !== undefined) (clauses.push("kind = @kind"), (params.kind = filter.kind));
  if (filter.since !== undefined) (clauses.push("executed_at >= @since"), (params.since = filter.since));
  const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
  return {
    sql: `SELECT id, kind, queue_name, executed_at, events_pruned, deliveries_pruned, attempts_pruned, live_jobs_pruned, summary_json
      FROM ${s}.knocker_prune_audits ${where} ORDER BY executed_at DESC, id DESC LIMIT @limit`,
    params,
  };
}
