import type { Attempt, BlockedKey, Delivery, Event } from "../../interfaces.js";
import { requireState, unknownDelivery, unknownEvent, unlinkedDelivery, type OperatorAction } from "../../operator/transitions.js";
import { toAttempt, toBlockedKey, toDelivery, toEvent, type AttemptRow, type BlockedKeyRow, type DeliveryRow, type EventRow } from "../rows.js";
import type { DeliveryFilter, EventCursor, EventFilter, OperatorStore } from "../store.js";
import type { PgClient } from "./driver.js";
import { deliveryListPlan, eventListPlan, operatorPlans } from "./plans/operator.js";
import { orderingPlans } from "./plans/ordering.js";
import { positional, type Query } from "./queries.js";
import type { PgSession } from "./session.js";

/** The Postgres engine's operator surface: reads on a pooled client, each action one transaction. */
export class PgOperatorStore implements OperatorStore {
  readonly #session: PgSession;
  readonly #s: string;
  readonly #sql: ReturnType<typeof operatorPlans>;
  readonly #ordering: ReturnType<typeof orderingPlans>;
  readonly #queue: { name: string; maxAttempts: number; channel: string };
  readonly #now: () => number;
  readonly #onJobsCommitted: () => void;

  constructor(session: PgSession, quotedSchema: string, queue: { name: string; maxAttempts: number; channel: string }, now: () => number, onJobsCommitted: () => void) {
    this.#session = session;
    this.#s = quotedSchema;
    this.#sql = operatorPlans(quotedSchema);
    this.#ordering = orderingPlans(quotedSchema);
    this.#queue = queue;
    this.#now = now;
    this.#onJobsCommitted = onJobsCommitted;
  }

  event(id: number): Promise<Event | null> {
    return this.#session.read("reading an event", async (client, q) => {
      const row = (await q<EventRow & Record<string, unknown>>(client, this.#sql.event, [id])).rows[0];
      return row ? toEvent(row) : null;
    });
  }

  events(filter: EventFilter, limit: number, after?: EventCursor): Promise<Event[]> {
    return this.#session.read("listing events", async (client, q) => {
      let endpointId: number | undefined;
      if (filter.endpoint !== undefined) {
        endpointId = (await q<{ id: number }>(client, this.#sql.endpointId, [filter.endpoint])).rows[0]?.id;
        if (endpointId === undefined) return [];
      }
      const every = (await q<{ id: number }>(client, this.#sql.endpointIds)).rows.map((row) => row.id);
      const plan = eventListPlan(this.#s, filter, endpointId, every, limit, after);
      const { text, values } = positional(plan.sql, plan.params);
      return (await q<EventRow & Record<string, unknown>>(client, text, values)).rows.map((row) => toEvent(row));
    });
  }

  delivery(id: number): Promise<Delivery | null> {
    return this.#session.read("reading a delivery", async (client, q) => {
      const row = (await q<DeliveryRow & Record<string, unknown>>(client, this.#sql.delivery, [id])).rows[0];
      return row ? toDelivery(row) : null;
    });
  }

  deliveries(filter: DeliveryFilter): Promise<Delivery[]> {
    return this.#session.read("listing deliveries", async (client, q) => {
      const plan = deliveryListPlan(this.#s, filter);
      const { text, values } = positional(plan.sql, plan.params);
      return (await q<DeliveryRow & Record<string, unknown>>(client, text, values)).rows.map(toDelivery);
    });
  }

  attempts(eventId: number): Promise<Attempt[]> {
    return this.#session.read("listing attempts", async (client, q) =>
      (await q<AttemptRow & Record<string, unknown>>(client, this.#sql.attempts, [eventId])).rows.map(toAttempt));
  }

  blockedKeys(filter: { endpoint?: string; limit: number }): Promise<BlockedKey[]> {
    return this.#session.read("listing blocked keys", async (client, q) =>
      (await q<BlockedKeyRow & Record<string, unknown>>(client, this.#ordering.blockedKeys, [filter.endpoint ?? null, filter.limit])).rows.map(toBlockedKey));
  }

  /**
   * received/failed/dead → ignored, with an `ignored` attempt row; already ignored is a no-op.
   * Ignoring a keyed event releases the next one of its key: workers on every node are woken.
   */
  async ignore(id: number): Promise<Event> {
    let keyed = false;
    const row = await this.#session.transaction("ignore", async (client, q) => {
      const row = await this.#lock(client, q, id);
      if (row.status === "ignored") return row;
      requireState("ignore", row);
      await q(client, this.#sql.markIgnored, [id]);
      await q(client, this.#sql.insertAttempt, [id, this.#now(), "ignored", null, null]);
      keyed = row.ordering_key !== null;
      if (keyed) await q(client, "SELECT pg_notify($1, '')", [this.#queue.channel]);
      return (await this.#lock(client, q, id));
    });
    if (keyed) this.#onJobsCommitted();
    return toEvent(row);
  }

  async restart(id: number, action: "replay" | "requeue"): Promise<Event> {
    const row = await this.#session.transaction(action, async (client, q) => this.#restart(client, q, await this.#lock(client, q, id), action, null));
    this.#onJobsCommitted();
    return toEvent(row);
  }

  async restartDelivery(deliveryId: number): Promise<Event> {
    const row = await this.#session.transaction("replayDelivery", async (client, q) => {
      const delivery = (await q<DeliveryRow & Record<string, unknown>>(client, this.#sql.delivery, [deliveryId])).rows[0];
      if (!delivery) throw unknownDelivery(deliveryId);
      if (delivery.event_id === null) throw unlinkedDelivery(deliveryId);
      return this.#restart(client, q, await this.#lock(client, q, delivery.event_id), "replayDelivery", deliveryId);
    });
    this.#onJobsCommitted();
    return toEvent(row);
  }

  /** Shared mechanics of replay/requeue/replayDelivery: drop live jobs, reset, enqueue (a keyed event at the end of its key). */
  async #restart(client: PgClient, q: Query, row: EventRow, action: OperatorAction, deliveryId: number | null): Promise<EventRow> {
    requireState(action, row);
    await q(client, this.#sql.removeEventJobs, [this.#queue.name, row.id]);
    await q(client, this.#sql.resetForReplay, [row.id]);
    // A keyed event goes behind its key's pending events.
    if (row.ordering_key !== null) await q(client, this.#ordering.place, [row.id]);
    const payload = deliveryId === null ? { event_id: row.id } : { event_id: row.id, delivery_id: deliveryId };
    await q(client, this.#sql.enqueue, [this.#queue.name, JSON.stringify(payload), this.#now(), this.#queue.maxAttempts]);
    await q(client, "SELECT pg_notify($1, '')", [this.#queue.channel]); // wakes workers on other nodes at the commit
    return this.#lock(client, q, row.id);
  }

  async #lock(client: PgClient, q: Query, id: number): Promise<EventRow> {
    const row = (await q<EventRow & Record<string, unknown>>(client, this.#sql.lockEvent, [id])).rows[0];
    if (!row) throw unknownEvent(id);
    return row;
  }
}
