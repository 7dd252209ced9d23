import type { Event } from "../interfaces.js";

/**
 * The `traceparent` of the receipt's PRODUCER span, as stored with the event (CONTRACT §13). Kept
 * beside the Event object rather than on it: it is Knocker's bookkeeping, not part of the
 * event's documented shape.
 */
const traceParents = new WeakMap<Event, string>();

export function attachTraceParent(event: Event, traceParent: string | null): void {
  if (traceParent !== null) traceParents.set(event, traceParent);
}

export function traceParentOf(event: Event): string | null {
  return traceParents.get(event) ?? null;
}
