import type { Database } from "better-sqlite3";
import { KnockerError } from "../errors.js";
import type { Attempt, Delivery, Event, EventStatus, IterateEventsOptions, ListDeliveriesOptions, ListEventsOptions } from "../interfaces.js";
import type { Queue } from "../store/sqlite/queue.js";
import { immediateTransaction } from "../store/sqlite/connection.js";
import type { EventStatements } from "../store/sqlite/plans/events.js";
import type { ReaderPool } from "../store/sqlite/reader-pool.js";
import { toAttempt, toDelivery, toEvent, type DeliveryRow, type EventRow } from "../store/rows.js";
import {
  selectAttempts, selectDeliveries, selectDelivery, selectEvent, selectEvents, type EventCursor, type EventFilter,
} from "../store/sqlite/plans/operator.js";
import {
  checkId, checkLimit, checkOneOf, checkOptionalBoolean, checkOptionalString, checkOptionalTimestamp, checkOptionsObject,
} from "./validate.js";

export const STATUSES: readonly EventStatus[] = ["received", "processing", "handled", "failed", "dead", "ignored"];

/** Rows per page (one query each) of iterateEvents(). */
const ITERATE_PAGE = 100;

/** Which states each action accepts (CONTRACT §5). */
export const ACCEPTS = {
  ignore: ["received", "failed", "dead"],
  replay: ["handled", "failed", "dead", "ignored"],
  requeue: ["failed", "dead", "ignored"],
  replayDelivery: ["handled", "failed", "dead", "ignored"],
} as const satisfies Record<string, readonly EventStatus[]>;

/** The operator surface: reads on reader connections, state changes in write transactions. */
export class Operator {
  readonly #db: Database;
  readonly #readers: ReaderPool;
  readonly #queue: Queue;
  readonly #events: EventStatements;
  readonly #now: () => number;
  readonly #onJobsCommitted: () => void;

  constructor(db: Database, readers: ReaderPool, queue: Queue, events: EventStatements, now: () => number, onJobsCommitted: () => void) {
    this.#db = db;
    this.#readers = readers;
    this.#queue = queue;
    this.#events = events;
    this.#now = now;
    this.#onJobsCommitted = onJobsCommitted;
  }

  getEvent(id: number): Event | null {
    checkId(id, "event id");
    const row = this.#readers.read((db) => selectEvent(db, id));
    return row ? toEvent(row) : null;
  }

  listEvents(options?: ListEventsOptions): Event[] {
    const o = checkOptionsObject(options, "listEvents", ["status", "endpoint", "eventType", "since", "limit"]);
    const filter = checkEventFilter(o);
    const limit = checkLimit(o.limit);
    return this.#readers.read((db) => selectEvents(db, filter, limit)).map((row) => toEvent(row));
  }

  /**
   * Every matching event, newest first, without a limit, a page of ITERATE_PAGE rows at a time.
   * Each page is one query (on a borrowed reader, or the writer when none is free) that sees what
   * committed before it; between pages — and so across the caller's `await`s — no connection and
   * no read transaction is held. The caller may write (ignore, replay…) between steps. Options are
   * checked at the first step, so a bad one rejects the first `next()`.
   */
  async *iterateEvents(options: IterateEventsOptions | undefined, assertOpen: () => void): AsyncGenerator<Event, void, undefined> {
    assertOpen();
    const filter = checkEventFilter(checkOptionsObject(options, "iterateEvents", ["status", "endpoint", "eventType", "since"]));
    let after: EventCursor | undefined;
    for (;;) {
      assertOpen();
      const rows = this.#readers.read((db) => selectEvents(db, filter, ITERATE_PAGE, after));
      for (const row of rows) {
        assertOpen(); // rows of a page already read are not handed out after close()
        yield toEvent(row);
      }
      const last = rows.at(-1);
      if (rows.length < ITERATE_PAGE || last === undefined) return;
      after = { receivedAt: last.received_at, id: last.id };
    }
  }

  getDelivery(id: number): Delivery | null {
    checkId(id, "delivery id");
    const row = this.#readers.read((db) => selectDelivery(db, id));
    return row ? toDelivery(row) : null;
  }

  listDeliveries(options?: ListDeliveriesOptions): Delivery[] {
    const o = checkOptionsObject(options, "listDeliveries", ["eventId", "endpoint", "signatureValid", "orphaned", "since", "limit"]);
    const filter = {
      eventId: o.eventId === undefined ? undefined : checkId(o.eventId, "eventId"),
      endpoint: checkOptionalString(o.endpoint, "endpoint"),
      signatureValid: checkOptionalBoolean(o.signatureValid, "signatureValid"),
      orphaned: checkOptionalBoolean(o.orphaned, "orphaned"),
      since: checkOptionalTimestamp(o.since, "since"),
      limit: checkLimit(o.limit),
    };
    return this.#readers.read((db) => selectDeliveries(db, filter)).map(toDelivery);
  }

  listAttempts(eventId: number): Attempt[] {
    checkId(eventId, "event id");
    return this.#readers.read((db) => selectAttempts(db, eventId)).map(toAttempt);
  }

  /** received/failed/dead → ignored, with an `ignored` attempt row; already ignored is a no-op. */
  ignore(id: number): Event {
    checkId(id, "event id");
    return this.#write("ignore", () => {
      const row = this.#eventRow(id);
      if (row.status === "ignored") return row;
      this.#requireState("ignore", row);
      this.#events.markIgnored.run(id);
      this.#events.insertAttempt.run(id, this.#now(), "ignored", null, null);
      return this.#eventRow(id);
    }, false);
  }

  replay(id: number): Event {
    checkId(id, "event id");
    return this.#write("replay", () => this.#restart(this.#eventRow(id), "replay", null), true);
  }

  requeue(id: number): Event {
    checkId(id, "event id");
    return this.#write("requeue", () => this.#restart(this.#eventRow(id), "requeue", null), true);
  }

  /** Re-run the handler of a delivery's event with that delivery's payload; the event row keeps its own. */
  replayDelivery(deliveryId: number): Event {
    checkId(deliveryId, "delivery id");
    return this.#write("replayDelivery", () => {
      const delivery = this.#events.getDelivery.get(deliveryId) as DeliveryRow | undefined;
      if (!delivery) throw new KnockerError("ERR_UNKNOWN_DELIVERY", `no delivery with id ${deliveryId}`);
      if (delivery.event_id === null) {
        throw new KnockerError(
          "ERR_INVALID_STATE",
          `delivery ${deliveryId} is not linked to an event (rejected signature or handshake); only linked deliveries can be replayed`,
        );
      }
      return this.#restart(this.#eventRow(delivery.event_id), "replayDelivery", deliveryId);
    }, true);
  }

  /** Shared mechanics of replay/requeue/replayDelivery: drop live jobs, reset, enqueue. */
  #restart(row: EventRow, action: "replay" | "requeue" | "replayDelivery", deliveryId: number | null): EventRow {
    this.#requireState(action, row);
    this.#queue.removeEventJobs(row.id);
    this.#events.resetForReplay.run(row.id);
    const payload = deliveryId === null ? { event_id: row.id } : { event_id: row.id, delivery_id: deliveryId };
    this.#queue.enqueue(payload, this.#now());
    return this.#eventRow(row.id);
  }

  #eventRow(id: number): EventRow {
    const row = this.#events.getEvent.get(id) as EventRow | undefined;
    if (!row) throw new KnockerError("ERR_UNKNOWN_EVENT", `no event with id ${id}`);
    return row;
  }

  #requireState(action: keyof typeof ACCEPTS, row: EventRow): void {
    const accepted: readonly EventStatus[] = ACCEPTS[action];
    if (!accepted.includes(row.status)) {
      throw new KnockerError(
        "ERR_INVALID_STATE",
        `cannot ${action} event ${row.id}: its status is "${row.status}"; ${action} accepts ${accepted.join(", ")}`,
      );
    }
  }

  #write(action: string, fn: () => EventRow, enqueues: boolean): Event {
    const row = immediateTransaction(this.#db, action, fn);
    if (enqueues) this.#onJobsCommitted();
    return toEvent(row);
  }
}

function checkEventFilter(o: Partial<ListEventsOptions>): EventFilter {
  return {
    status: checkOneOf(o.status, STATUSES, "status"),
    endpoint: checkOptionalString(o.endpoint, "endpoint"),
    eventType: checkOptionalString(o.eventType, "eventType"),
    since: checkOptionalTimestamp(o.since, "since"),
  };
}
