import { KnockerError } from "../errors.js";
import type { EventStatus } from "../interfaces.js";

export const STATUSES: readonly EventStatus[] = ["received", "processing", "handled", "failed", "dead", "ignored"];

/** Which states each operator action accepts (CONTRACT §5). */
export const ACCEPTS = {
  ignore: ["received", "failed", "dead"],
  replay: ["handled", "failed", "dead", "ignored"],
  requeue: ["failed", "dead", "ignored"],
  replayDelivery: ["handled", "failed", "dead", "ignored"],
} as const satisfies Record<string, readonly EventStatus[]>;

export type OperatorAction = keyof typeof ACCEPTS;

/** Every engine checks a transition the same way, inside its write transaction. */
export function requireState(action: OperatorAction, event: { id: number; status: EventStatus }): void {
  const accepted: readonly EventStatus[] = ACCEPTS[action];
  if (!accepted.includes(event.status)) {
    throw new KnockerError(
      "ERR_INVALID_STATE",
      `cannot ${action} event ${event.id}: its status is "${event.status}"; ${action} accepts ${accepted.join(", ")}`,
    );
  }
}

export function unknownEvent(id: number): KnockerError {
  return new KnockerError("ERR_UNKNOWN_EVENT", `no event with id ${id}`);
}

export function unknownDelivery(id: number): KnockerError {
  return new KnockerError("ERR_UNKNOWN_DELIVERY", `no delivery with id ${id}`);
}

export function unlinkedDelivery(id: number): KnockerError {
  return new KnockerError(
    "ERR_INVALID_STATE",
    `delivery ${id} is not linked to an event (rejected signature or handshake); only linked deliveries can be replayed`,
  );
}
