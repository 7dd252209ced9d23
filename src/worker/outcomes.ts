// What a job's run came to, as the worker loop and the engines report it (engine-neutral).
import type { RegisteredHandler } from "../endpoints.js";
import { KnockerError } from "../errors.js";
import type { Event } from "../interfaces.js";
import type { ClaimedJob } from "../store/store.js";

/** A claimed job whose handler is async: it runs after the claim commits, outside any transaction. */
export interface StartedJob {
  job: ClaimedJob;
  event: Event;
  handler: Extract<RegisteredHandler, { transaction: false }>;
}

export type JobOutcome =
  | { kind: "started"; eventId: number; started: StartedJob }
  | { kind: "handled"; eventId: number }
  | { kind: "failed" | "dead"; eventId: number; error: unknown }
  | { kind: "skipped"; eventId: number | null }
  | { kind: "lost"; eventId: number | null; error: KnockerError };

export function lost(job: ClaimedJob, eventId: number | null): JobOutcome {
  return {
    kind: "lost",
    eventId,
    error: new KnockerError(
      "ERR_CLAIM_LOST",
      `claim on job ${job.id}${eventId === null ? "" : ` (event ${eventId})`} expired or was taken by another worker; its work was rolled back`,
    ),
  };
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
