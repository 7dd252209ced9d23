import type { Database } from "better-sqlite3";
import type {
  ActivityWindow, DashboardEndpoint, DashboardQueries, DeliverySelection, DeliverySummary, EndpointActivity, EventSelection,
  EventSummary, LookupHit, PageCursor, QueueDepth, StatusCount,
} from "../../dashboard/queries.js";
import { LOOKUP_RECENT_DELIVERIES, SUMMARY_TEXT } from "../../dashboard/queries.js";
import type { EventStatus } from "../../interfaces.js";
import { DASHBOARD_SQL, deliveryPagePlan, eventPagePlan, selectionPlans, type Plan } from "./plans/dashboard.js";
import { prepareAll, type StatementMap } from "./connection.js";
import type { ReaderPool } from "./reader-pool.js";

type Prepared = StatementMap<typeof DASHBOARD_SQL>;

/**
 * The dashboard's reads on SQLite. Every call borrows a reader connection (read-only: it never
 * takes the write lock, so a page view never holds up ingest) for one read transaction, so the
 * several statements of an overview see one snapshot. Statements are prepared once per reader.
 */
export class SqliteDashboardQueries implements DashboardQueries {
  readonly #readers: ReaderPool;
  readonly #queueName: string;
  readonly #prepared = new WeakMap<Database, Prepared>();

  constructor(readers: ReaderPool, queueName: string) {
    this.#readers = readers;
    this.#queueName = queueName;
  }

  async endpoints(): Promise<DashboardEndpoint[]> {
    return this.#read((_db, sql) => (sql.endpoints.all() as Array<Omit<DashboardEndpoint, "enabled"> & { enabled: number }>).map((row) => ({ ...row, enabled: row.enabled === 1 })));
  }

  async statusCounts(statuses: readonly EventStatus[]): Promise<StatusCount[]> {
    return this.#read((_db, sql) => {
      const out: StatusCount[] = [];
      for (const { id } of sql.endpoints.all() as Array<{ id: number }>) {
        for (const status of statuses) out.push({ endpointId: id, status, count: sql.statusCount.get(id, status) as number });
      }
      return out;
    });
  }

  async activity({ from, slotS, slots }: ActivityWindow): Promise<EndpointActivity[]> {
    const to = from + slotS * slots;
    return this.#read((_db, sql) =>
      (sql.endpoints.all() as Array<{ id: number }>).map(({ id }) => {
        const accepted: number[] = [];
        const rejected: number[] = [];
        for (let slot = 0; slot < slots; slot++) {
          const start = from + slot * slotS;
          const end = start + slotS;
          accepted.push((sql.receiptCount.get(id, 1, start, end) as number) + (sql.receiptUncheckedCount.get(id, start, end) as number));
          rejected.push(sql.receiptCount.get(id, 0, start, end) as number);
        }
        const oldest = ["received", "failed", "processing"]
          .map((status) => sql.oldestWith.get(id, status) as number | null)
          .filter((at): at is number => at !== null);
        return {
          endpointId: id,
          accepted,
          rejected,
          dropped: sql.dropped.get(id, from, to) as number,
          oldestUnhandledAt: oldest.length === 0 ? null : Math.min(...oldest),
        };
      }),
    );
  }

  async queue(now: number): Promise<QueueDepth> {
    const queue = this.#queueName;
    return this.#read((_db, sql) => ({
      due: sql.dueJobs.get(queue, now) as number,
      scheduled: sql.scheduledJobs.get(queue, now) as number,
      processing: sql.processingJobs.get(queue) as number,
      oldestDueAt: sql.oldestDue.get(queue) as number | null,
    }));
  }

  async eventPage(selection: EventSelection, limit: number, after?: PageCursor): Promise<EventSummary[]> {
    return this.#read((db, sql) => run(db, eventPagePlan(selection, endpointIds(sql), limit, SUMMARY_TEXT, after)) as EventSummary[]);
  }

  async deliveryPage(selection: DeliverySelection, limit: number, after?: PageCursor): Promise<DeliverySummary[]> {
    return this.#read((db, sql) => {
      const rows = run(db, deliveryPagePlan(selection, endpointIds(sql), limit, SUMMARY_TEXT, after)) as Array<DeliverySummary & { signatureValid: number | null }>;
      return rows.map((row) => ({ ...row, signatureValid: row.signatureValid === null ? null : row.signatureValid === 1 }));
    });
  }

  async lookup(text: string): Promise<LookupHit[]> {
    return this.#read((_db, sql) => {
      const hits: LookupHit[] = [];
      if (/^[1-9]\d{0,15}$/.test(text) && Number.isSafeInteger(Number(text))) {
        const id = Number(text);
        const event = sql.eventById.get(id) as Omit<LookupHit, "match"> | undefined;
        if (event) hits.push({ ...event, match: "event id" });
        const delivery = sql.deliveryById.get(id) as Omit<LookupHit, "match"> | undefined;
        if (delivery) hits.push({ ...delivery, match: "delivery id" });
      }
      for (const row of sql.eventsByDedupeKey.all(text) as Array<Omit<LookupHit, "match">>) hits.push({ ...row, match: "dedupe key" });
      for (const row of sql.recentDeliveriesByProviderId.all({ text, limit: LOOKUP_RECENT_DELIVERIES }) as LookupHit[]) hits.push(row);
      return hits;
    });
  }

  async selectEvents(selection: EventSelection, options: { limit: number; throughId?: number; countCap: number }): Promise<{ ids: number[]; total: number }> {
    return this.#read((db, sql) => {
      const plans = selectionPlans(selection, endpointIds(sql), options.limit, options.throughId, options.countCap);
      return {
        ids: db.prepare(plans.ids.sql).pluck().all(plans.ids.params) as number[],
        total: db.prepare(plans.count.sql).pluck().get(plans.count.params) as number,
      };
    });
  }

  async maxEventId(): Promise<number> {
    return this.#read((_db, sql) => sql.maxEventId.get() as number);
  }

  /** One read transaction on a borrowed reader. */
  #read<T>(fn: (db: Database, sql: Prepared) => T): T {
    return this.#readers.read((db) => {
      const sql = this.#statements(db);
      return db.inTransaction ? fn(db, sql) : db.transaction(() => fn(db, sql))();
    });
  }

  #statements(db: Database): Prepared {
    let prepared = this.#prepared.get(db);
    if (prepared === undefined) this.#prepared.set(db, (prepared = prepareAll(db, DASHBOARD_SQL)));
    return prepared;
  }
}

function endpointIds(sql: Prepared): number[] {
  return (sql.endpoints.all() as Array<{ id: number }>).map((row) => row.id);
}

function run(db: Database, plan: Plan): unknown[] {
  return db.prepare(plan.sql).all(plan.params);
}
