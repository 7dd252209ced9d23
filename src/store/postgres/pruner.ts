import type { PruneAudit, PruneDeliveriesResult, PruneEventsResult, PruneKind } from "../../interfaces.js";
import { eventPruneSummary, orphanPruneSummary, type EventPruneRequest, type OrphanPruneRequest, type PruneSource } from "../../retention/prune-requests.js";
import { toPruneAudit, type PruneAuditRow } from "../rows.js";
import type { AuditFilter, PruneStore } from "../store.js";
import type { PgClient } from "./driver.js";
import { prunablePlans } from "../ranges.js";
import { auditsPlan, prunePlans } from "./plans/prune.js";
import { positional, type Query } from "./queries.js";
import type { PgSession } from "./session.js";

interface IdRow {
  id: number;
  received_at: number;
}

/**
 * The retention primitives on Postgres (CONTRACT §7), with SQLite's semantics: each prune removes
 * at most `limit` rows, oldest first, and writes exactly one audit row in the same transaction,
 * also when nothing matched. The events it takes are locked (FOR UPDATE), so two nodes pruning
 * at once cannot delete one event's rows twice or count them twice.
 */
export class PgPruner implements PruneStore {
  readonly #session: PgSession;
  readonly #s: string;
  readonly #sql: ReturnType<typeof prunePlans>;
  readonly #queueName: string;
  readonly #now: () => number;

  constructor(session: PgSession, quotedSchema: string, queueName: string, now: () => number) {
    this.#session = session;
    this.#s = quotedSchema;
    this.#sql = prunePlans(quotedSchema);
    this.#queueName = queueName;
    this.#now = now;
  }

  pruneEvents(request: EventPruneRequest): Promise<PruneEventsResult> {
    return this.#session.transaction("pruning events", (client, q) => this.pruneEventsIn(client, q, request, { source: "manual" }));
  }

  pruneOrphanDeliveries(request: OrphanPruneRequest): Promise<PruneDeliveriesResult> {
    return this.#session.transaction("pruning orphan deliveries", (client, q) => this.pruneOrphansIn(client, q, request, { source: "manual" }));
  }

  audits(filter: AuditFilter): Promise<PruneAudit[]> {
    return this.#session.read("listing prune audits", async (client, q) => {
      const plan = auditsPlan(this.#s, filter);
      const { text, values } = positional(plan.sql, plan.params);
      return (await q<PruneAuditRow & Record<string, unknown>>(client, text, values)).rows.map(toPruneAudit);
    });
  }

  /** Inside the caller's transaction. */
  async pruneEventsIn(client: PgClient, q: Query, request: EventPruneRequest, source: PruneSource): Promise<PruneEventsResult> {
    const now = this.#now();
    const every = (await q<{ id: number }>(client, this.#sql.endpointIds)).rows.map((row) => row.id);
    const plan = prunablePlans(`${this.#s}.knocker_events`, request.statuses, every, request.olderThan, request.limit, "postgres");
    const walk = positional(plan.ids, plan.params);
    const found = (await q<IdRow>(client, walk.text, walk.values)).rows;
    // Lock them; one another node deleted meanwhile is gone from the lock's answer.
    const locked = found.length === 0 ? [] : (await q<{ id: number }>(client, `SELECT id FROM ${this.#s}.knocker_events WHERE id = ANY($1::bigint[]) FOR UPDATE`, [found.map((row) => row.id)])).rows;
    const keep = new Set(locked.map((row) => row.id));
    const rows = found.filter((row) => keep.has(row.id));
    const result: PruneEventsResult = { eventsPruned: 0, deliveriesPruned: 0, attemptsPruned: 0, liveJobsPruned: 0 };
    let claimedJobsLeft = 0;
    if (rows.length > 0) {
      const ids = rows.map((row) => row.id);
      result.liveJobsPruned = (await q(client, this.#sql.deleteLiveJobs, [this.#queueName, ids, now])).rowCount;
      claimedJobsLeft = (await q<{ n: number }>(client, this.#sql.countRemainingJobs, [this.#queueName, ids])).rows[0]!.n;
      result.attemptsPruned = (await q(client, this.#sql.deleteAttempts, [ids])).rowCount;
      result.deliveriesPruned = (await q(client, this.#sql.deleteEventDeliveries, [ids])).rowCount;
      result.eventsPruned = (await q(client, this.#sql.deleteEvents, [ids])).rowCount;
    }
    await this.#audit(client, q, "prune_events", now, result, eventPruneSummary(source, request, rows, claimedJobsLeft));
    return result;
  }

  /** Inside the caller's transaction. */
  async pruneOrphansIn(client: PgClient, q: Query, request: OrphanPruneRequest, source: PruneSource): Promise<PruneDeliveriesResult> {
    const now = this.#now();
    const rows = (await q<IdRow>(client, this.#sql.selectOrphans, [request.olderThan, request.limit])).rows;
    const deliveriesPruned = rows.length > 0 ? (await q(client, this.#sql.deleteDeliveries, [rows.map((row) => row.id)])).rowCount : 0;
    await this.#audit(client, q, "prune_orphan_deliveries", now, { eventsPruned: 0, deliveriesPruned, attemptsPruned: 0, liveJobsPruned: 0 }, orphanPruneSummary(source, request, rows));
    return { deliveriesPruned };
  }

  async #audit(client: PgClient, q: Query, kind: PruneKind, executedAt: number, counts: PruneEventsResult, summary: Record<string, unknown>): Promise<void> {
    await q(client, this.#sql.insertAudit, [
      kind, this.#queueName, executedAt, counts.eventsPruned, counts.deliveriesPruned, counts.attemptsPruned, counts.liveJobsPruned, JSON.stringify(summary),
    ]);
  }
}
