import type {
  ActivityWindow, DashboardEndpoint, DashboardQueries, DeliverySelection, DeliverySummary, EndpointActivity, EventSelection,
  EventSummary, LookupHit, PageCursor, QueueDepth, StatusCount,
} from "../../dashboard/queries.js";
import { LOOKUP_RECENT_DELIVERIES, SUMMARY_TEXT } from "../../dashboard/queries.js";
import type { EventStatus } from "../../interfaces.js";
import type { Plan } from "../page-plans.js";
import type { PgClient } from "./driver.js";
import { dashboardPlans, pagePlans, type DashboardPlans } from "./plans/dashboard.js";
import { positional, type Query } from "./queries.js";
import type { PgSession } from "./session.js";

/**
 * The dashboard's reads on Postgres, with the answers of SQLite's (sqlite/dashboard-queries.ts).
 * A call that needs several statements runs them in one read-only snapshot, so an overview's
 * numbers agree with each other as they do on SQLite's read transaction.
 */
export class PgDashboardQueries implements DashboardQueries {
  readonly #session: PgSession;
  readonly #sql: DashboardPlans;
  readonly #pages: ReturnType<typeof pagePlans>;
  readonly #queueName: string;

  constructor(session: PgSession, quotedSchema: string, queueName: string) {
    this.#session = session;
    this.#sql = dashboardPlans(quotedSchema);
    this.#pages = pagePlans(quotedSchema);
    this.#queueName = queueName;
  }

  endpoints(): Promise<DashboardEndpoint[]> {
    return this.#session.read("reading the dashboard's endpoints", async (client, q) =>
      (await q<Omit<DashboardEndpoint, "enabled"> & { enabled: number }>(client, this.#sql.endpoints)).rows.map((row) => ({ ...row, enabled: row.enabled === 1 })));
  }

  statusCounts(statuses: readonly EventStatus[]): Promise<StatusCount[]> {
    return this.#session.read("counting events for the dashboard", async (client, q) =>
      (await q<{ endpoint_id: number; status: EventStatus; n: number }>(client, this.#sql.statusCounts, [statuses])).rows
        .map((row) => ({ endpointId: row.endpoint_id, status: row.status, count: row.n })));
  }

  activity({ from, slotS, slots }: ActivityWindow): Promise<EndpointActivity[]> {
    return this.#session.snapshot("reading the dashboard's activity", async (client, q) => {
      const perSlot = (await q<{ endpoint_id: number; i: number; accepted: number; rejected: number }>(client, this.#sql.receiptsPerSlot, [from, slotS, slots])).rows;
      const backlog = (await q<{ endpoint_id: number; dropped: number; oldest_unhandled_at: number | null }>(
        client, this.#sql.endpointBacklog, [from, from + slotS * slots])).rows;
      return backlog.map((row) => {
        const mine = perSlot.filter((slot) => slot.endpoint_id === row.endpoint_id);
        return {
          endpointId: row.endpoint_id,
          accepted: mine.map((slot) => slot.accepted),
          rejected: mine.map((slot) => slot.rejected),
          dropped: row.dropped,
          oldestUnhandledAt: row.oldest_unhandled_at,
        };
      });
    });
  }

  queue(now: number): Promise<QueueDepth> {
    return this.#session.read("reading the queue for the dashboard", async (client, q) => {
      const row = (await q<{ due: number; scheduled: number; processing: number; oldest_due_at: number | null }>(client, this.#sql.queue, [this.#queueName, now])).rows[0]!;
      return { due: row.due, scheduled: row.scheduled, processing: row.processing, oldestDueAt: row.oldest_due_at };
    });
  }

  eventPage(selection: EventSelection, limit: number, after?: PageCursor): Promise<EventSummary[]> {
    return this.#session.snapshot("reading a page of events", async (client, q) =>
      run<EventSummary>(client, q, this.#pages.eventPage(selection, await this.#endpointIds(client, q), limit, SUMMARY_TEXT, after)));
  }

  deliveryPage(selection: DeliverySelection, limit: number, after?: PageCursor): Promise<DeliverySummary[]> {
    return this.#session.snapshot("reading a page of deliveries", async (client, q) => {
      const plan = this.#pages.deliveryPage(selection, await this.#endpointIds(client, q), limit, SUMMARY_TEXT, after);
      const rows = await run<Omit<DeliverySummary, "signatureValid"> & { signatureValid: number | null }>(client, q, plan);
      return rows.map((row) => ({ ...row, signatureValid: row.signatureValid === null ? null : row.signatureValid === 1 }));
    });
  }

  lookup(text: string): Promise<LookupHit[]> {
    return this.#session.snapshot("looking up an id for the dashboard", async (client, q) => {
      const hits: LookupHit[] = [];
      if (/^[1-9]\d{0,15}$/.test(text) && Number.isSafeInteger(Number(text))) {
        const id = Number(text);
        const event = (await q<Omit<LookupHit, "match">>(client, this.#sql.eventById, [id])).rows[0];
        if (event) hits.push({ ...event, match: "event id" });
        const delivery = (await q<Omit<LookupHit, "match">>(client, this.#sql.deliveryById, [id])).rows[0];
        if (delivery) hits.push({ ...delivery, match: "delivery id" });
      }
      for (const row of (await q<Omit<LookupHit, "match">>(client, this.#sql.eventsByDedupeKey, [text])).rows) hits.push({ ...row, match: "dedupe key" });
      hits.push(...(await q<LookupHit>(client, this.#sql.recentDeliveriesByProviderId, [text, LOOKUP_RECENT_DELIVERIES])).rows);
      return hits;
    });
  }

  selectEvents(selection: EventSelection, options: { limit: number; throughId?: number; countCap: number }): Promise<{ ids: number[]; total: number }> {
    return this.#session.snapshot("selecting events for a bulk action", async (client, q) => {
      const plans = this.#pages.selection(selection, await this.#endpointIds(client, q), options.limit, options.throughId, options.countCap);
      const ids = (await run<{ id: number }>(client, q, plans.ids)).map((row) => row.id);
      const [count] = await run<Record<string, number>>(client, q, plans.count);
      return { ids, total: Number(Object.values(count!)[0]) };
    });
  }

  maxEventId(): Promise<number> {
    return this.#session.read("reading the newest event id", async (client, q) => (await q<{ n: number }>(client, this.#sql.maxEventId)).rows[0]!.n);
  }

  async #endpointIds(client: PgClient, q: Query): Promise<number[]> {
    return (await q<{ id: number }>(client, this.#sql.endpoints)).rows.map((row) => row.id);
  }
}

async function run<R>(client: PgClient, q: Query, plan: Plan): Promise<R[]> {
  const { text, values } = positional(plan.sql, plan.params);
  return (await q(client, text, values)).rows as R[];
}
