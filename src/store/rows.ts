import { KnockerError } from "../errors.js";
import type { ClaimedJob } from "./store.js";
import { attachTraceParent } from "../telemetry/event-trace.js";
import type { Attempt, AttemptOutcome, BlockedKey, Delivery, Event, EventStatus, HeaderMap, PruneAudit, PruneKind, QueryMap } from "../interfaces.js";

/** Columns shared by knocker_events and knocker_deliveries, plus the endpoint's name. */
export interface PayloadRow {
  id: number;
  endpoint: string;
  received_at: number;
  provider_event_id: string | null;
  provider_delivery_id: string | null;
  event_type: string | null;
  method: string;
  headers_json: string;
  body_blob: Buffer;
  query_json: string;
  dedupe_key: string | null;
}

export interface EventRow extends PayloadRow {
  endpoint_id: number;
  status: EventStatus;
  attempt_count: number;
  handled_at: number | null;
  last_error: string | null;
  ordering_key: string | null;
  /** Selected where a handler will see the event (telemetry's link to the receipt's span). */
  trace_context?: string | null;
}

export interface DeliveryRow extends PayloadRow {
  endpoint_id: number;
  event_id: number | null;
  signature_valid: number | null;
  signature_error: string | null;
  body_length: number | null;
  body_sha256: string | null;
}

export interface AttemptRow {
  id: number;
  event_id: number;
  attempted_at: number;
  outcome: AttemptOutcome;
  error: string | null;
  duration_ms: number | null;
}

/** A claimed row of `_honker_live`, as both engines' claims return it. */
export interface JobRow {
  id: number;
  payload: string;
  attempts: number;
  max_attempts: number;
  worker_id: string;
}

/** A row of `_honker_scheduler_tasks`, as both engines' schedulers read it. */
export interface SchedulerTaskRow {
  name: string;
  queue: string;
  cron_expr: string;
  next_fire_at: number;
  enabled: number;
}

export interface PruneAuditRow {
  id: number;
  kind: PruneKind;
  queue_name: string;
  executed_at: number;
  events_pruned: number;
  deliveries_pruned: number;
  attempts_pruned: number;
  live_jobs_pruned: number;
  summary_json: string;
}

/** A cached JSON view of a body, shared by Event and Delivery objects. */
function jsonAccessor(body: Buffer): <T>() => T {
  let cached: { value: unknown } | undefined;
  return <T>() => {
    if (!cached) {
      try {
        cached = { value: JSON.parse(body.toString("utf8")) };
      } catch (error) {
        throw new KnockerError("ERR_NOT_JSON", "body is not valid JSON", { cause: error });
      }
    }
    return cached.value as T;
  };
}

function payloadFields(row: PayloadRow) {
  return {
    endpoint: row.endpoint,
    eventType: row.event_type,
    providerEventId: row.provider_event_id,
    providerDeliveryId: row.provider_delivery_id,
    dedupeKey: row.dedupe_key,
    method: row.method,
    headers: JSON.parse(row.headers_json) as HeaderMap,
    query: JSON.parse(row.query_json) as QueryMap,
    body: row.body_blob,
    receivedAt: row.received_at,
  };
}

/** Objects handed to users carry a non-enumerable `json()` so they still print and compare as data. */
function withJson<T extends object>(value: T, body: Buffer): T & { json<U = unknown>(): U } {
  Object.defineProperty(value, "json", { value: jsonAccessor(body), enumerable: false });
  return value as T & { json<U = unknown>(): U };
}

export function toClaimedJob(row: JobRow): ClaimedJob {
  return { id: row.id, payload: row.payload, attempts: row.attempts, maxAttempts: row.max_attempts, workerId: row.worker_id };
}

export function toEvent(row: EventRow, deliveryId: number | null = null): Event {
  const event = withJson(
    {
      id: row.id,
      ...payloadFields(row),
      status: row.status,
      attemptCount: row.attempt_count,
      handledAt: row.handled_at,
      lastError: row.last_error,
      orderingKey: row.ordering_key,
      deliveryId,
    },
    row.body_blob,
  );
  if (row.trace_context != null) attachTraceParent(event, row.trace_context);
  return event;
}

export function toDelivery(row: DeliveryRow): Delivery {
  return withJson(
    {
      id: row.id,
      eventId: row.event_id,
      ...payloadFields(row),
      signatureValid: row.signature_valid === null ? null : row.signature_valid === 1,
      signatureError: row.signature_error,
      bodyLength: row.body_length ?? row.body_blob.length,
      bodySha256: row.body_sha256,
      bodyTruncated: row.body_length !== null && row.body_length > row.body_blob.length,
    },
    row.body_blob,
  );
}

export function toAttempt(row: AttemptRow): Attempt {
  return {
    id: row.id,
    eventId: row.event_id,
    attemptedAt: row.attempted_at,
    outcome: row.outcome,
    error: row.error,
    durationMs: row.duration_ms,
  };
}

export function toPruneAudit(row: PruneAuditRow): PruneAudit {
  return {
    id: row.id,
    kind: row.kind,
    queueName: row.queue_name,
    executedAt: row.executed_at,
    eventsPruned: row.events_pruned,
    deliveriesPruned: row.deliveries_pruned,
    attemptsPruned: row.attempts_pruned,
    liveJobsPruned: row.live_jobs_pruned,
    summaryJson: row.summary_json,
  };
}

/** A blocked key as both engines' queries give it. */
export interface BlockedKeyRow {
  endpoint: string;
  key: string;
  blocking_event_id: number;
  blocking_status: "received" | "failed";
  waiting: number;
}

export function toBlockedKey(row: BlockedKeyRow): BlockedKey {
  return { endpoint: row.endpoint, key: row.key, blockingEventId: Number(row.blocking_event_id), blockingStatus: row.blocking_status, waiting: Number(row.waiting) };
}
