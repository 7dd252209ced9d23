import type { PrunableStatus } from "../../interfaces.js";
import type { CliQueries, DeliveryCountRow, EventSelection, QueueRow, StatsRows, StatusCountRow } from "../store.js";
import { cliPlans, eventIdsPlan, prunableCountPlan } from "./plans/cli.js";
import { positional } from "./queries.js";
import type { PgSession } from "./session.js";

/**
 * The command line's reads on Postgres, with SQLite's answers: the counts of `knocker stats` from
 * one snapshot (a REPEATABLE READ, READ ONLY transaction), the id snapshot of a bulk action and
 * the count a prune asks to confirm.
 */
export class PgCliQueries implements CliQueries {
  readonly #session: PgSession;
  readonly #s: string;
  readonly #sql: ReturnType<typeof cliPlans>;

  constructor(session: PgSession, quotedSchema: string) {
    this.#session = session;
    this.#s = quotedSchema;
    this.#sql = cliPlans(quotedSchema);
  }

  stats(queueName: string): Promise<StatsRows> {
    return this.#session.transaction("reading the inbox's counts", async (client, q) => {
      await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const statusCounts = (await q<StatusCountRow & Record<string, unknown>>(client, this.#sql.statusCounts)).rows;
      const queue = (await q<QueueRow & Record<string, unknown>>(client, this.#sql.queue, [queueName])).rows[0]!;
      const deadJobs = (await q<{ n: number }>(client, this.#sql.deadJobs, [queueName])).rows[0]!.n;
      const deliveries = (await q<DeliveryCountRow & Record<string, unknown>>(client, this.#sql.deliveries)).rows[0]!;
      return { statusCounts, queue: { ...queue }, deadJobs, deliveries: { ...deliveries } };
    });
  }

  eventIds(selection: EventSelection): Promise<number[]> {
    return this.#session.read("selecting events", async (client, q) => {
      let endpointId: number | undefined;
      if (selection.endpoint !== undefined) {
        endpointId = (await q<{ id: number }>(client, this.#sql.endpointId, [selection.endpoint])).rows[0]?.id;
        if (endpointId === undefined) return [];
      }
      const every = (await q<{ id: number }>(client, this.#sql.endpointIds)).rows.map((row) => row.id);
      const plan = eventIdsPlan(this.#s, selection, endpointId, every);
      const { text, values } = positional(plan.sql, plan.params);
      return (await q<{ id: number }>(client, text, values)).rows.map((row) => row.id);
    });
  }

  countPrunable(what: { statuses: readonly PrunableStatus[]; olderThan: number; limit: number } | { olderThan: number; limit: number }): Promise<number> {
    return this.#session.read("counting what a prune would remove", async (client, q) => {
      if (!("statuses" in what)) return (await q<{ n: number }>(client, this.#sql.countOrphans, [what.olderThan, what.limit])).rows[0]!.n;
      const every = (await q<{ id: number }>(client, this.#sql.endpointIds)).rows.map((row) => row.id);
      const plan = prunableCountPlan(this.#s, what.statuses, every, what.olderThan, what.limit);
      const { text, values } = positional(plan.sql, plan.params);
      return (await q<{ n: number }>(client, text, values)).rows[0]!.n;
    });
  }
}
