// What a prune asks for, checked once for every engine: pruneEvents()/pruneOrphanDeliveries()
// arguments and the statuses a retention policy may name.
import { KnockerError } from "../errors.js";
import type { ListPruneAuditsOptions, PrunableStatus, PruneEventsOptions, PruneKind, PruneOrphanDeliveriesOptions } from "../interfaces.js";
import type { AuditFilter } from "../store/store.js";
import { checkLimit, checkOneOf, checkOptionalTimestamp, checkOptionsObject, checkTimestamp, describe } from "../operator/validate.js";

/** The only statuses retention may remove: every other one is still, or may again be, work. */
export const PRUNABLE_STATUSES = ["handled", "ignored"] as const satisfies readonly PrunableStatus[];
export type { PrunableStatus };

/** Rows per prune call when the caller does not say (the seed's example value). */
export const DEFAULT_PRUNE_LIMIT = 100;

/** A validated pruneEvents() request. */
export interface EventPruneRequest {
  statuses: readonly PrunableStatus[];
  olderThan: number;
  limit: number;
}

/** A validated pruneOrphanDeliveries() request. */
export interface OrphanPruneRequest {
  olderThan: number;
  limit: number;
}

/** Who asked for a prune; recorded in the audit row's summary_json. */
export type PruneSource = { source: "manual" } | { source: "retention"; fireAt: number; jobId: number; batch: number };

/**
 * Check and de-duplicate a list of statuses to prune. `fail(problem)` builds the error, so
 * pruneEvents() and RetentionPolicy report it with their own code and wording.
 */
export function normalizeStatuses(value: unknown, fail: (problem: string) => Error): PrunableStatus[] {
  if (!Array.isArray(value)) throw fail(`must be an array of ${PRUNABLE_STATUSES.join(" / ")}, got ${describe(value)}`);
  if (value.length === 0) throw fail(`must name at least one status (${PRUNABLE_STATUSES.join(", ")})`);
  const statuses: PrunableStatus[] = [];
  for (const status of value) {
    if (!(PRUNABLE_STATUSES as readonly unknown[]).includes(status)) {
      throw fail(`may only contain ${PRUNABLE_STATUSES.join(", ")} (events in other states are never pruned), got ${describe(status)}`);
    }
    if (!statuses.includes(status as PrunableStatus)) statuses.push(status as PrunableStatus);
  }
  return statuses;
}

function argumentError(name: string): (problem: string) => KnockerError {
  return (problem) => new KnockerError("ERR_INVALID_ARGUMENT", `${name} ${problem}`);
}

export function checkEventPruneRequest(options: PruneEventsOptions | undefined): EventPruneRequest {
  const o = checkOptionsObject(options, "pruneEvents", ["statuses", "olderThan", "limit"]);
  return {
    statuses: o.statuses === undefined ? [...PRUNABLE_STATUSES] : normalizeStatuses(o.statuses, argumentError("statuses")),
    olderThan: checkTimestamp(o.olderThan, "olderThan"),
    limit: checkLimit(o.limit, DEFAULT_PRUNE_LIMIT),
  };
}

export function checkOrphanPruneRequest(options: PruneOrphanDeliveriesOptions | undefined): OrphanPruneRequest {
  const o = checkOptionsObject(options, "pruneOrphanDeliveries", ["olderThan", "limit"]);
  return { olderThan: checkTimestamp(o.olderThan, "olderThan"), limit: checkLimit(o.limit, DEFAULT_PRUNE_LIMIT) };
}


const KINDS: readonly PruneKind[] = ["prune_events", "prune_orphan_deliveries"];

export function checkAuditFilter(options: ListPruneAuditsOptions | undefined): AuditFilter {
  const o = checkOptionsObject(options, "listPruneAudits", ["kind", "since", "limit"]);
  return { kind: checkOneOf(o.kind, KINDS, "kind"), since: checkOptionalTimestamp(o.since, "since"), limit: checkLimit(o.limit) };
}

/** The audit summary's account of who pruned. */
export function summarySource(source: PruneSource): Record<string, unknown> {
  return source.source === "manual"
    ? { source: "manual" }
    : { source: "retention", fire_at: source.fireAt, job_id: source.jobId, batch: source.batch };
}

/** Oldest and newest `received_at` among the pruned rows (rows come oldest first). */
export function receivedRange(rows: ReadonlyArray<{ received_at: number }>): { min: number; max: number } | null {
  return rows.length === 0 ? null : { min: rows[0]!.received_at, max: rows[rows.length - 1]!.received_at };
}

/** The summary_json of a prune_events audit row, on every engine. */
export function eventPruneSummary(source: PruneSource, request: EventPruneRequest, rows: ReadonlyArray<{ received_at: number }>, claimedJobsLeft: number): Record<string, unknown> {
  return {
    ...summarySource(source),
    statuses: request.statuses,
    older_than: request.olderThan,
    limit: request.limit,
    received_at: receivedRange(rows),
    claimed_jobs_left: claimedJobsLeft,
  };
}

/** The summary_json of a prune_orphan_deliveries audit row, on every engine. */
export function orphanPruneSummary(source: PruneSource, request: OrphanPruneRequest, rows: ReadonlyArray<{ received_at: number }>): Record<string, unknown> {
  return { ...summarySource(source), older_than: request.olderThan, limit: request.limit, received_at: receivedRange(rows) };
}
