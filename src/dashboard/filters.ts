// The events filter as the pages and the bulk form carry it: query parameters in, an
// EventSelection out, with the problems to show (a bad time, an unknown endpoint) instead of
// an error page.
import type { EventStatus } from "../interfaces.js";
import { STATUSES } from "../operator/operator.js";
import { parseTime, utc } from "./format.js";
import { html, type Html } from "./html.js";
import type { DashboardEndpoint, EventSelection, PageCursor } from "./queries.js";

export interface EventFilter {
  status: EventStatus | null;
  endpoint: DashboardEndpoint | null;
  eventType: string | null;
  since: number | null;
  until: number | null;
  /** The form's values as typed, to show them again. */
  raw: { status: string; endpoint: string; type: string; since: string; until: string };
  problems: string[];
  /** A filter names something that cannot match (an unknown endpoint): nothing matches. */
  matchesNothing: boolean;
}

const MAX_FIELD = 500;

function field(params: URLSearchParams, name: string): string {
  return (params.get(name) ?? "").slice(0, MAX_FIELD);
}

export function parseEventFilter(params: URLSearchParams, endpoints: readonly DashboardEndpoint[], now: number): EventFilter {
  const raw = { status: field(params, "status"), endpoint: field(params, "endpoint"), type: field(params, "type"), since: field(params, "since"), until: field(params, "until") };
  const problems: string[] = [];
  let matchesNothing = false;
  let status: EventStatus | null = null;
  if (raw.status !== "") {
    if ((STATUSES as readonly string[]).includes(raw.status)) status = raw.status as EventStatus;
    else problems.push(`status must be one of ${STATUSES.join(", ")}`);
  }
  let endpoint: DashboardEndpoint | null = null;
  if (raw.endpoint !== "") {
    endpoint = endpoints.find((e) => e.name === raw.endpoint) ?? null;
    if (endpoint === null) {
      problems.push("no endpoint with that name is recorded in this file");
      matchesNothing = true;
    }
  }
  const time = (text: string, name: string): number | null => {
    try {
      return parseTime(text, name, now);
    } catch (error) {
      problems.push((error as Error).message);
      return null;
    }
  };
  return {
    status,
    endpoint,
    eventType: raw.type === "" ? null : raw.type,
    since: time(raw.since, "since"),
    until: time(raw.until, "until"),
    raw,
    problems,
    matchesNothing,
  };
}

export function toSelection(filter: EventFilter, statuses?: readonly EventStatus[]): EventSelection {
  return {
    statuses: statuses ?? (filter.status === null ? undefined : [filter.status]),
    endpointId: filter.endpoint?.id,
    eventType: filter.eventType ?? undefined,
    since: filter.since ?? undefined,
    until: filter.until ?? undefined,
  };
}

/** The filter as query parameters with absolute times (a bulk confirmation must not move with the clock). */
export function filterParams(filter: EventFilter): Record<string, string | number | null> {
  return {
    status: filter.status,
    endpoint: filter.endpoint?.name ?? (filter.raw.endpoint || null),
    type: filter.eventType,
    since: filter.since,
    until: filter.until,
  };
}

export function hasSelection(filter: EventFilter): boolean {
  return filter.status !== null || filter.endpoint !== null || filter.eventType !== null || filter.since !== null || filter.until !== null;
}

/** `status dead, endpoint stripe, received since …` */
export function describeFilter(filter: EventFilter): Html {
  const parts: Html[] = [];
  if (filter.status !== null) parts.push(html`status <b>${filter.status}</b>`);
  if (filter.endpoint !== null) parts.push(html`endpoint <b>${filter.endpoint.name}</b>`);
  if (filter.eventType !== null) parts.push(html`type <b>${filter.eventType}</b>`);
  if (filter.since !== null) parts.push(html`received since <b>${utc(filter.since)}</b>`);
  if (filter.until !== null) parts.push(html`received until <b>${utc(filter.until)}</b>`);
  if (parts.length === 0) return html`every event`;
  return html`${parts.map((part, i) => html`${i > 0 ? ", " : ""}${part}`)}`;
}

/** `before=1700000000.42`: the cursor of the next older page. */
export function parseCursor(text: string | null): PageCursor | undefined {
  const match = /^(\d{1,12})\.(\d{1,15})$/.exec(text ?? "");
  return match ? { receivedAt: Number(match[1]), id: Number(match[2]) } : undefined;
}

export function cursorParam(row: { receivedAt: number; id: number }): string {
  return `${row.receivedAt}.${row.id}`;
}
