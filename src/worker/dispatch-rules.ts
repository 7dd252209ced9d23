// The rules of running a job that do not depend on the engine: what a job's payload names, which
// events can still run, and the errors recorded for claims that expired without an outcome or
// for an event nobody handles. Each engine's dispatcher applies them inside its own transaction.
import type { EventStatus } from "../interfaces.js";
import type { ClaimedJob } from "../store/store.js";

export interface JobPayload {
  eventId: number;
  /** A delivery replay runs the handler on that delivery's payload. */
  deliveryId: number | null;
}

/** `{"event_id": N}` or `{"event_id": N, "delivery_id": D}`; null for anything else. */
export function parseJobPayload(text: string): JobPayload | null {
  try {
    const value = JSON.parse(text) as { event_id?: unknown; delivery_id?: unknown };
    if (!Number.isSafeInteger(value?.event_id)) return null;
    const deliveryId = Number.isSafeInteger(value.delivery_id) ? (value.delivery_id as number) : null;
    return { eventId: value.event_id as number, deliveryId };
  } catch {
    return null;
  }
}

export const MALFORMED_PAYLOAD = 'malformed job payload: expected {"event_id": <integer>}';

/** Only a received or failed event runs; ignored, handled or dead ones are settled. */
export function isRunnable(status: EventStatus): boolean {
  return status === "received" || status === "failed";
}

/**
 * The attempts a job's earlier claims used without leaving a trace (their transactions never
 * committed): every attempt after the event's recorded ones, up to the one before this claim.
 * Each is recorded as a failed attempt with this error.
 */
export function lostAttempts(job: ClaimedJob, recordedAttempts: number): Array<{ attempt: number; error: string }> {
  const lost: Array<{ attempt: number; error: string }> = [];
  for (let attempt = recordedAttempts + 1; attempt <= job.attempts - 1; attempt++) {
    lost.push({
      attempt,
      error:
        `claim expired on attempt ${attempt} of ${job.maxAttempts} before an outcome was recorded: ` +
        "the worker stopped, or the handler ran longer than visibilityTimeoutS",
    });
  }
  return lost;
}

/** Why a claim that expired on its last attempt is dead-lettered. */
export function finalClaimExpired(job: ClaimedJob): string {
  return (
    `claim expired on the final attempt (${job.attempts} of ${job.maxAttempts}): ` +
    "the worker stopped, or the handler ran longer than visibilityTimeoutS"
  );
}

export function noHandler(endpoint: string, eventType: string | null): string {
  return `no handler for endpoint "${endpoint}" and event type "${eventType ?? "(none)"}", and no fallback handler`;
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as { then?: unknown }).then === "function";
}
