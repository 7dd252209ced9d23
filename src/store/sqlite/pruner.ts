import type { Database, Statement } from "better-sqlite3";
import { KnockerError } from "../../errors.js";
import type {
  ListPruneAuditsOptions, PrunableStatus, PruneAudit, PruneDeliveriesResult, PruneEventsOptions, PruneEventsResult, PruneKind,
  PruneOrphanDeliveriesOptions,
} from "../../interfaces.js";
import { checkLimit, checkOneOf, checkOptionalTimestamp, checkOptionsObject, checkTimestamp, describe } from "../../operator/validate.js";
import { eventPruneSummary, orphanPruneSummary, type EventPruneRequest, type OrphanPruneRequest, type PruneSource } from "../../retention/prune-requests.js";
import type { AuditFilter, PruneStore } from "../store.js";
import { immediateTransaction } from "./connection.js";
import type { ReaderPool } from "./reader-pool.js";
import { toPruneAudit } from "../rows.js";
import { prunablePlans } from "../ranges.js";
import { preparePruneStatements, selectAudits, type PruneStatements } from "./plans/prune.js";

interface IdRow {
  id: number;
  received_at: number;
}

/**
 * The retention primitives (CONTRACT §7). Each prune removes at most `limit` rows, oldest first,
 * and writes exactly one audit row in the same transaction, also when nothing matched. Manual
 * calls and scheduled retention runs share the `…InTransaction` methods, so both leave the same
 * audit trail.
 */
export class Pruner implements PruneStore {
  readonly #db: Database;
  readonly #readers: ReaderPool;
  readonly #queueName: string;
  readonly #now: () => number;
  readonly #sql: PruneStatements;
  /** The prunable-events walks, one per number of endpoints and statuses. */
  readonly #walks = new Map<string, Statement>();

  constructor(db: Database, readers: ReaderPool, queueName: string, now: () => number) {
    this.#db = db;
    this.#readers = readers;
    this.#queueName = queueName;
    this.#now = now;
    this.#sql = preparePruneStatements(db);
  }

  pruneEvents(request: EventPruneRequest): PruneEventsResult {
    return immediateTransaction(this.#db, "pruning events", () => this.pruneEventsInTransaction(request, { source: "manual" }));
  }

  pruneOrphanDeliveries(request: OrphanPruneRequest): PruneDeliveriesResult {
    return immediateTransaction(this.#db, "pruning orphan deliveries", () =>
      this.pruneOrphansInTransaction(request, { source: "manual" }),
    );
  }

  audits(filter: AuditFilter): PruneAudit[] {
    return this.#readers.read((db) => selectAudits(db, filter)).map(toPruneAudit);
  }

  /** Runs inside the caller's write transaction. */
  pruneEventsInTransaction(request: EventPruneRequest, source: PruneSource): PruneEventsResult {
    const now = this.#now();
    const plan = prunablePlans("knocker_events", request.statuses, this.#sql.endpointIds.all() as number[], request.olderThan, request.limit);
    const rows = this.#prepared(plan.ids).all(plan.params) as IdRow[];
    const result: PruneEventsResult = { eventsPruned: 0, deliveriesPruned: 0, attemptsPruned: 0, liveJobsPruned: 0 };
    let claimedJobsLeft = 0;
    if (rows.length > 0) {
      const ids = JSON.stringify(rows.map((row) => row.id));
      const queue = this.#queueName;
      // Children first: deliveries reference events without a cascade.
      result.liveJobsPruned = this.#sql.deleteLiveJobs.run({ queue, ids, now }).changes;
      claimedJobsLeft = this.#sql.countRemainingJobs.get({ queue, ids }) as number;
      result.attemptsPruned = this.#sql.deleteAttempts.run({ ids }).changes;
      result.deliveriesPruned = this.#sql.deleteEventDeliveries.run({ ids }).changes;
      result.eventsPruned = this.#sql.deleteEvents.run({ ids }).changes;
    }
    this.#audit("prune_events", now, result, eventPruneSummary(source, request, rows, claimedJobsLeft));
    return result;
  }

  /** Runs inside the caller's write transaction. */
  pruneOrphansInTransaction(request: OrphanPruneRequest, source: PruneSource): PruneDeliveriesResult {
    const now = this.#now();
    const rows = this.#sql.selectOrphans.all({ olderThan: request.olderThan, limit: request.limit }) as IdRow[];
    const deliveriesPruned = rows.length > 0 ? this.#sql.deleteDeliveries.run({ ids: JSON.stringify(rows.map((row) => row.id)) }).changes : 0;
    this.#audit(
      "prune_orphan_deliveries",
      now,
      { eventsPruned: 0, deliveriesPruned, attemptsPruned: 0, liveJobsPruned: 0 },
      orphanPruneSummary(source, request, rows),
    );
    return { deliveriesPruned };
  }

  #prepared(sql: string): Statement {
    let statement = this.#walks.get(sql);
    if (statement === undefined) this.#walks.set(sql, (statement = this.#db.prepare(sql)));
    return statement;
  }

  #audit(kind: PruneKind, executedAt: number, counts: PruneEventsResult, summary: Record<string, unknown>): void {
    this.#sql.insertAudit.run({ kind, queueName: this.#queueName, executedAt, ...counts, summaryJson: JSON.stringify(summary) });
  }
}
