import type { Attempt, BlockedKey, Delivery, Event, IterateEventsOptions, ListBlockedKeysOptions, ListDeliveriesOptions, ListEventsOptions } from "../interfaces.js";
import type { EventCursor, EventFilter, OperatorStore } from "../store/store.js";
import { STATUSES } from "./transitions.js";
import {
  checkId, checkLimit, checkOneOf, checkOptionalBoolean, checkOptionalString, checkOptionalTimestamp, checkOptionsObject,
} from "./validate.js";

export { ACCEPTS, STATUSES } from "./transitions.js";

/** Rows per page (one query each) of iterateEvents(). */
const ITERATE_PAGE = 100;

/**
 * The operator surface, engine-neutral: every argument is checked here, once, then handed to
 * the engine's OperatorStore. Each method is async, so a bad argument rejects rather than throws.
 */
export class Operator {
  readonly #store: OperatorStore;

  constructor(store: OperatorStore) {
    this.#store = store;
  }

  async getEvent(id: number): Promise<Event | null> {
    return this.#store.event(checkId(id, "event id"));
  }

  async listEvents(options?: ListEventsOptions): Promise<Event[]> {
    const o = checkOptionsObject(options, "listEvents", ["status", "endpoint", "eventType", "since", "limit"]);
    const filter = checkEventFilter(o);
    return this.#store.events(filter, checkLimit(o.limit));
  }

  /**
   * Every matching event, newest first, without a limit, a page of ITERATE_PAGE rows at a time.
   * Each page is one query that sees what committed before it; between pages — and so across the
   * caller's `await`s — no connection and no read transaction is held. The caller may write
   * (ignore, replay…) between steps. Options are checked at the first step, so a bad one rejects
   * the first `next()`.
   */
  async *iterateEvents(options: IterateEventsOptions | undefined, assertOpen: () => void): AsyncGenerator<Event, void, undefined> {
    assertOpen();
    const filter = checkEventFilter(checkOptionsObject(options, "iterateEvents", ["status", "endpoint", "eventType", "since"]));
    let after: EventCursor | undefined;
    for (;;) {
      assertOpen();
      const events = await this.#store.events(filter, ITERATE_PAGE, after);
      for (const event of events) {
        assertOpen(); // events of a page already read are not handed out after close()
        yield event;
      }
      const last = events.at(-1);
      if (events.length < ITERATE_PAGE || last === undefined) return;
      after = { receivedAt: last.receivedAt, id: last.id };
    }
  }

  async getDelivery(id: number): Promise<Delivery | null> {
    return this.#store.delivery(checkId(id, "delivery id"));
  }

  async listDeliveries(options?: ListDeliveriesOptions): Promise<Delivery[]> {
    const o = checkOptionsObject(options, "listDeliveries", ["eventId", "endpoint", "signatureValid", "orphaned", "since", "limit"]);
    return this.#store.deliveries({
      eventId: o.eventId === undefined ? undefined : checkId(o.eventId, "eventId"),
      endpoint: checkOptionalString(o.endpoint, "endpoint"),
      signatureValid: checkOptionalBoolean(o.signatureValid, "signatureValid"),
      orphaned: checkOptionalBoolean(o.orphaned, "orphaned"),
      since: checkOptionalTimestamp(o.since, "since"),
      limit: checkLimit(o.limit),
    });
  }

  async listAttempts(eventId: number): Promise<Attempt[]> {
    return this.#store.attempts(checkId(eventId, "event id"));
  }

  async ignore(id: number): Promise<Event> {
    return this.#store.ignore(checkId(id, "event id"));
  }

  async replay(id: number): Promise<Event> {
    return this.#store.restart(checkId(id, "event id"), "replay");
  }

  async requeue(id: number): Promise<Event> {
    return this.#store.restart(checkId(id, "event id"), "requeue");
  }

  /** Keys whose events wait behind their first unsettled one (CONTRACT §11), most waiting first. */
  async listBlockedKeys(options?: ListBlockedKeysOptions): Promise<BlockedKey[]> {
    const o = checkOptionsObject(options, "listBlockedKeys", ["endpoint", "limit"]);
    return this.#store.blockedKeys({ endpoint: checkOptionalString(o.endpoint, "endpoint"), limit: checkLimit(o.limit) });
  }

  /** Re-run the handler of a delivery's event with that delivery's payload; the event row keeps its own. */
  async replayDelivery(deliveryId: number): Promise<Event> {
    return this.#store.restartDelivery(checkId(deliveryId, "delivery id"));
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
