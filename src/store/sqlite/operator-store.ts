import type { Database } from "better-sqlite3";
import type { Attempt, BlockedKey, Delivery, Event } from "../../interfaces.js";
import { requireState, unknownDelivery, unknownEvent, unlinkedDelivery } from "../../operator/transitions.js";
import { toAttempt, toBlockedKey, toDelivery, toEvent, type DeliveryRow, type EventRow } from "../rows.js";
import type { DeliveryFilter, EventCursor, EventFilter, OperatorStore } from "../store.js";
import { immediateTransaction } from "./connection.js";
import type { EventStatements } from "./plans/events.js";
import { prepareOrderingStatements, selectBlockedKeys, type OrderingStatements } from "./plans/ordering.js";
import { selectAttempts, selectDeliveries, selectDelivery, selectEvent, selectEvents } from "./plans/operator.js";
import type { Queue } from "./queue.js";
import type { ReaderPool } from "./reader-pool.js";

/** The SQLite engine's operator surface: reads on reader connections, actions in write transactions. */
export class SqliteOperatorStore implements OperatorStore {
  readonly #db: Database;
  readonly #readers: ReaderPool;
  readonly #queue: Queue;
  readonly #events: EventStatements;
  readonly #now: () => number;
  readonly #onJobsCommitted: () => void;
  readonly #ordering: OrderingStatements;

  constructor(db: Database, readers: ReaderPool, queue: Queue, events: EventStatements, now: () => number, onJobsCommitted: () => void) {
    this.#ordering = prepareOrderingStatements(db);
    this.#db = db;
    this.#readers = readers;
    this.#queue = queue;
    this.#events = events;
    this.#now = now;
    this.#onJobsCommitted = onJobsCommitted;
  }

  event(id: number): Event | null {
    const row = this.#readers.read((db) => selectEvent(db, id));
    return row ? toEvent(row) : null;
  }

  events(filter: EventFilter, limit: number, after?: EventCursor): Event[] {
    return this.#readers.read((db) => selectEvents(db, filter, limit, after)).map((row) => toEvent(row));
  }

  delivery(id: number): Delivery | null {
    const row = this.#readers.read((db) => selectDelivery(db, id));
    return row ? toDelivery(row) : null;
  }

  deliveries(filter: DeliveryFilter): Delivery[] {
    return this.#readers.read((db) => selectDeliveries(db, filter)).map(toDelivery);
  }

  attempts(eventId: number): Attempt[] {
    return this.#readers.read((db) => selectAttempts(db, eventId)).map(toAttempt);
  }

  blockedKeys(filter: { endpoint?: string; limit: number }): BlockedKey[] {
    return this.#readers.read((db) => selectBlockedKeys(db, filter.endpoint, filter.limit)).map(toBlockedKey);
  }

  /**
   * received/failed/dead → ignored, with an `ignored` attempt row; already ignored is a no-op.
   * Ignoring a keyed event releases the next one of its key: idle workers are woken.
   */
  ignore(id: number): Event {
    let keyed = false;
    return this.#write("ignore", () => {
      const row = this.#eventRow(id);
      if (row.status === "ignored") return row;
      requireState("ignore", row);
      this.#events.markIgnored.run(id);
      this.#events.insertAttempt.run(id, this.#now(), "ignored", null, null);
      keyed = row.ordering_key !== null;
      return this.#eventRow(id);
    }, () => keyed);
  }

  restart(id: number, action: "replay" | "requeue"): Event {
    return this.#write(action, () => this.#restart(this.#eventRow(id), action, null), () => true);
  }

  restartDelivery(deliveryId: number): Event {
    return this.#write("replayDelivery", () => {
      const delivery = this.#events.getDelivery.get(deliveryId) as DeliveryRow | undefined;
      if (!delivery) throw unknownDelivery(deliveryId);
      if (delivery.event_id === null) throw unlinkedDelivery(deliveryId);
      return this.#restart(this.#eventRow(delivery.event_id), "replayDelivery", deliveryId);
    }, () => true);
  }

  /**
   * Shared mechanics of replay/requeue/replayDelivery: drop live jobs, reset, enqueue. A keyed
   * event takes the next place of its key, so it runs behind the key's pending events.
   */
  #restart(row: EventRow, action: "replay" | "requeue" | "replayDelivery", deliveryId: number | null): EventRow {
    requireState(action, row);
    this.#queue.removeEventJobs(row.id);
    this.#events.resetForReplay.run(row.id);
    if (row.ordering_key !== null) this.#ordering.place(row.id, row.endpoint_id, row.ordering_key);
    const payload = deliveryId === null ? { event_id: row.id } : { event_id: row.id, delivery_id: deliveryId };
    this.#queue.enqueue(payload, this.#now());
    return this.#eventRow(row.id);
  }

  #eventRow(id: number): EventRow {
    const row = this.#events.getEvent.get(id) as EventRow | undefined;
    if (!row) throw unknownEvent(id);
    return row;
  }

  /** `wakes`, asked after the commit: whether workers may find new work. */
  #write(action: string, fn: () => EventRow, wakes: () => boolean): Event {
    const row = immediateTransaction(this.#db, action, fn);
    if (wakes()) this.#onJobsCommitted();
    return toEvent(row);
  }
}
