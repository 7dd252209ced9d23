import type { DashboardEndpoint, DashboardQueries, EndpointActivity, QueueDepth, StatusCount } from "../dashboard/queries.js";

/**
 * What the inbox's gauges report, read from the database (every process's work, not only this
 * one's): the metrics' `knocker.queue.depth`, `knocker.queue.oldest_age` and
 * `knocker.events.dead`, and the dashboard's metrics card, computed one way (`inboxHealth`).
 */
export interface InboxHealth {
  queue: { due: number; scheduled: number; processing: number };
  endpoints: Array<{
    name: string;
    /** Seconds since the oldest event still waiting for a handler was received; 0 when none waits. */
    oldestUnhandledAgeS: number;
    dead: number;
  }>;
}

export async function readInboxHealth(queries: DashboardQueries, now: number): Promise<InboxHealth> {
  const [endpoints, dead, activity, queue] = await Promise.all([
    queries.endpoints(),
    queries.statusCounts(["dead"]),
    queries.activity({ from: now - 60, slotS: 60, slots: 1 }),
    queries.queue(now),
  ]);
  return inboxHealth({ endpoints, counts: dead, activity, queue }, now);
}

/**
 * The health from reads already made (the overview has them): `counts` must include the dead
 * ones; any activity window gives the oldest unhandled event.
 */
export function inboxHealth(
  { endpoints, counts, activity, queue }: { endpoints: readonly DashboardEndpoint[]; counts: readonly StatusCount[]; activity: readonly EndpointActivity[]; queue: QueueDepth },
  now: number,
): InboxHealth {
  const deadBy = new Map(counts.filter((row) => row.status === "dead").map((row) => [row.endpointId, row.count]));
  const oldestBy = new Map(activity.map((row) => [row.endpointId, row.oldestUnhandledAt]));
  return {
    queue: { due: queue.due, scheduled: queue.scheduled, processing: queue.processing },
    endpoints: endpoints.map((endpoint) => {
      const oldest = oldestBy.get(endpoint.id) ?? null;
      return { name: endpoint.name, oldestUnhandledAgeS: oldest === null ? 0 : Math.max(0, now - oldest), dead: deadBy.get(endpoint.id) ?? 0 };
    }),
  };
}
