import type { EventStatus } from "../../interfaces.js";
import { STATUSES } from "../../operator/operator.js";
import { engineOf } from "../../store/engine-of.js";
import type { Command } from "../command.js";
import { age, plural, table } from "../format.js";

type Counts = Record<EventStatus, number> & { total: number };

const zero = (): Counts => ({ received: 0, processing: 0, handled: 0, failed: 0, dead: 0, ignored: 0, total: 0 });

export const statsCommand: Command = {
  name: "stats",
  summary: "Counts per status and endpoint, queue depth, oldest pending job, dead letters.",
  usage: "[options]",
  options: {},
  positionals: [],
  async run(context) {
    const knocker = await context.knocker();
    const rows = await engineOf(knocker).cli.stats(knocker.queueName);
    const now = context.now();

    const all = zero();
    const endpoints = new Map<string, { endpoint: string; provider: string | null; counts: Counts }>();
    for (const row of rows.statusCounts) {
      const entry = endpoints.get(row.endpoint) ?? { endpoint: row.endpoint, provider: row.provider, counts: zero() };
      endpoints.set(row.endpoint, entry);
      if (row.status === null) continue;
      for (const counts of [entry.counts, all]) {
        counts[row.status] += row.n;
        counts.total += row.n;
      }
    }
    const { queue, deadJobs, deliveries } = rows;
    const oldestPendingAgeS = queue.oldestPendingAt === null ? null : Math.max(0, now - queue.oldestPendingAt);

    if (context.json) {
      context.printJson({
        events: all,
        endpoints: [...endpoints.values()].map(({ endpoint, provider, counts }) => ({ endpoint, provider, ...counts })),
        queue: { name: knocker.queueName, depth: queue.depth, pending: queue.pending, processing: queue.processing, oldestPendingAgeS },
        dead: { events: all.dead, jobs: deadJobs },
        deliveries,
      });
      return 0;
    }

    // `processing` is never committed by this binding; its column only shows when another writer did.
    const statuses = STATUSES.filter((status) => status !== "processing" || all.processing > 0);
    const headers = ["ENDPOINT", "PROVIDER", ...statuses.map((s) => s.toUpperCase()), "TOTAL"];
    const line = (name: string, provider: string, counts: Counts) => [name, provider, ...statuses.map((s) => String(counts[s])), String(counts.total)];
    const tableRows = [...endpoints.values()].map(({ endpoint, provider, counts }) => line(endpoint, provider ?? "-", counts));
    tableRows.push(line("(all)", "-", all));
    const numeric = headers.slice(2);
    const oldest = oldestPendingAgeS === null ? "none pending" : `oldest pending ${age(oldestPendingAgeS)}`;
    context.out(
      [
        `Events: ${all.total}`,
        table(headers, tableRows, numeric).trimEnd(),
        "",
        `Queue ${knocker.queueName}: ${plural(queue.depth, "job")} (${queue.pending} pending, ${queue.processing} processing), ${oldest}`,
        `Dead: ${plural(all.dead, "event")}, ${plural(deadJobs, "job")} in _honker_dead`,
        `Deliveries: ${deliveries.total} (${deliveries.invalid} invalid, ${deliveries.orphaned} without an event)` +
          (deliveries.dropped > 0 ? `; ${deliveries.dropped} more rejected and not stored (over invalidDeliveriesPerMinute)` : ""),
        "",
      ].join("\n"),
    );
    return 0;
  },
};
