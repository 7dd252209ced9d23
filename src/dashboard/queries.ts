// What the dashboard reads beyond the operator API: the overview's aggregates, paged summaries
// without bodies, lookups by provider identity, and the selection of a bulk action. One narrow,
// engine-neutral interface; each storage engine implements it with index-backed queries (SQLite:
// src/store/sqlite/dashboard-queries.ts on reader connections that never take the write lock;
// Postgres: src/store/postgres/dashboard-queries.ts in read-only snapshots; each with its SQL in
// plans/dashboard.ts, the pages and selections from src/store/page-plans.ts).
import type { Attempt, Delivery, Event, EventStatus, PruneAudit } from "../interfaces.js";

/** An endpoint as the file records it (also one this process did not register, as in the CLI). */
export interface DashboardEndpoint {
  id: number;
  name: string;
  path: string;
  provider: string | null;
  enabled: boolean;
}

export interface StatusCount {
  endpointId: number;
  status: EventStatus;
  count: number;
}

/** Receipts of one endpoint per time slot of a window. */
export interface EndpointActivity {
  endpointId: number;
  /** Receipts whose signature was valid (or not checked: trusted ingress), per slot. */
  accepted: number[];
  /** Receipts refused (stored orphan deliveries with an invalid signature), per slot. */
  rejected: number[];
  /** Refused receipts over the per-minute budget in the window: counted, not stored. */
  dropped: number;
  /** received_at of the oldest event still waiting for a handler (received or failed), or null. */
  oldestUnhandledAt: number | null;
}

export interface ActivityWindow {
  /** Unix seconds: the start of the first slot. */
  from: number;
  slotS: number;
  slots: number;
}

export interface QueueDepth {
  /** Jobs ready to be claimed now. */
  due: number;
  /** Pending jobs waiting for their time (retries after backoff). */
  scheduled: number;
  /** Jobs a worker holds a claim on. */
  processing: number;
  /** run_at of the longest-waiting due job, or null. */
  oldestDueAt: number | null;
}

/** Filters of the events page and of bulk actions. */
export interface EventSelection {
  /** Any of these statuses; undefined: every status. */
  statuses?: readonly EventStatus[];
  endpointId?: number;
  eventType?: string;
  /** received_at >= since (unix seconds). */
  since?: number;
  /** received_at <= until (unix seconds). */
  until?: number;
}

/** Where a newest-first page ended: the next one starts strictly after this row. */
export interface PageCursor {
  receivedAt: number;
  id: number;
}

export interface EventSummary {
  id: number;
  endpoint: string;
  eventType: string | null;
  status: EventStatus;
  receivedAt: number;
  attemptCount: number;
  /** The start of the last error (at most SUMMARY_TEXT characters). */
  lastError: string | null;
  providerEventId: string | null;
}

export interface DeliverySelection {
  endpointId?: number;
  /** invalid: rejected signatures; orphaned: every delivery without an event (rejections and handshakes). */
  kind?: "invalid" | "orphaned";
  since?: number;
  until?: number;
}

export interface DeliverySummary {
  id: number;
  endpoint: string;
  eventId: number | null;
  eventType: string | null;
  receivedAt: number;
  signatureValid: boolean | null;
  /** The start of the signature error (at most SUMMARY_TEXT characters). */
  signatureError: string | null;
  providerEventId: string | null;
  providerDeliveryId: string | null;
}

export type LookupMatch = "event id" | "delivery id" | "dedupe key" | "provider event id" | "provider delivery id";

export interface LookupHit {
  eventId: number | null;
  deliveryId: number | null;
  endpoint: string;
  match: LookupMatch;
}

/** Characters of an error kept in a summary row. */
export const SUMMARY_TEXT = 300;

/** Deliveries a lookup by provider id searches, newest first (lookups by dedupe key and id are index lookups over all). */
export const LOOKUP_RECENT_DELIVERIES = 20_000;

export interface DashboardQueries {
  endpoints(): Promise<DashboardEndpoint[]>;
  /** Events per endpoint and status, for these statuses (index range counts). */
  statusCounts(statuses: readonly EventStatus[]): Promise<StatusCount[]>;
  /** Receipts per endpoint and slot of the window, rejected ones apart; the oldest unhandled event. */
  activity(window: ActivityWindow): Promise<EndpointActivity[]>;
  /** This inbox's queue, as of `now`. */
  queue(now: number): Promise<QueueDepth>;
  /** Newest first, without bodies. */
  eventPage(selection: EventSelection, limit: number, after?: PageCursor): Promise<EventSummary[]>;
  /** Newest first, without bodies. */
  deliveryPage(selection: DeliverySelection, limit: number, after?: PageCursor): Promise<DeliverySummary[]>;
  /** Events and deliveries by id, dedupe key (every event), or provider event / delivery id (recent deliveries). */
  lookup(text: string): Promise<LookupHit[]>;
  /**
   * The ids a bulk action would change, oldest first (received_at, then id), at most `limit`,
   * none above `throughId`; and how many match in all (counted up to `countCap`).
   */
  selectEvents(selection: EventSelection, options: { limit: number; throughId?: number; countCap: number }): Promise<{ ids: number[]; total: number }>;
  /** The newest event id (0 when there is none): a bulk selection's upper bound. */
  maxEventId(): Promise<number>;
}

/** The operator API the dashboard uses (Knocker's own methods). */
export interface DashboardOperator {
  getEvent(id: number): Promise<Event | null>;
  listEvents(options: { status?: EventStatus; limit?: number }): Promise<Event[]>;
  getDelivery(id: number): Promise<Delivery | null>;
  listDeliveries(options: { eventId?: number; limit?: number }): Promise<Delivery[]>;
  listAttempts(eventId: number): Promise<Attempt[]>;
  listPruneAudits(options?: { limit?: number }): Promise<PruneAudit[]>;
  replay(id: number): Promise<Event>;
  requeue(id: number): Promise<Event>;
  ignore(id: number): Promise<Event>;
  replayDelivery(deliveryId: number): Promise<Event>;
  readonly closed: boolean;
}
