// Issue 17, must show 1: ordered processing across real processes. Three worker processes drain
// 50 keys × 20 events, received interleaved (k0 #0, k1 #0, …, k49 #0, k0 #1, …), and 200 events
// without a key received after all of them; the handlers fail at random (retried at once, the
// second failure dead). Every invocation is written to a business table with a start and an end
// row numbered by the table's sequence, across processes. For every key the invocations must be in
// receipt order and never overlap; the unordered events must not wait for the keyed ones. On
// SQLite (one file) and on Postgres (one database, the processes standing in for nodes).
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { open, type EngineName, type OpenOptions } from "../src/index.js";
import { engineMatrix } from "./support/engines.js";
import { Child, fixture, sleep } from "./support/processes.js";

const KEYS = 50;
const PER_KEY = 20;
const UNORDERED = 200;
const WORKERS = 3;
const FAIL_RATE = 0.25;
const OPTIONS: OpenOptions = { durability: "normal", retryBackoff: false, maxAttempts: 2 };

interface LogRow {
  seq: number;
  event_id: number;
  ordering_key: string | null;
  n: number;
  phase: "start" | "end";
  attempt: number;
  worker: string;
}

const LOG_COLUMNS = "event_id INTEGER NOT NULL, ordering_key TEXT, n INTEGER NOT NULL, phase TEXT NOT NULL, attempt INTEGER NOT NULL, worker TEXT NOT NULL";

for (const engine of engineMatrix()) {
  describe(engine.name, () => {
    test(`${WORKERS} worker processes, ${KEYS} keys × ${PER_KEY} events and ${UNORDERED} unordered, handlers failing at random: each key in receipt order, never two at once; unordered events do not wait`, async (t) => {
      const { db: target, sql } = await engine.location();
      const seed = randomInt(1, 2 ** 31);
      t.diagnostic(`seed=${seed}`);

      // The inbox and the business table, then every receipt, before any worker starts.
      const inbox = open<EngineName>(target, OPTIONS);
      const orders = inbox.endpoint("orders", { path: "/orders", orderingKey: (receipt) => receipt.json<{ key?: string }>().key ?? null });
      await inbox.listEvents({ limit: 1 });
      if (target.startsWith("postgres://")) {
        const client = new pg.Client({ connectionString: target });
        await client.connect();
        await client.query(`CREATE TABLE public.ordering_log (seq bigserial PRIMARY KEY, ${LOG_COLUMNS})`);
        await client.end();
      } else {
        const db = new Database(target);
        db.exec(`CREATE TABLE ordering_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, ${LOG_COLUMNS})`);
        db.close();
      }
      const bodies: string[] = [];
      for (let n = 0; n < PER_KEY; n++) for (let k = 0; k < KEYS; k++) bodies.push(JSON.stringify({ key: `k${k}`, n }));
      for (let n = 0; n < UNORDERED; n++) bodies.push(JSON.stringify({ n }));
      const received = await Promise.all(bodies.map((body) => orders.receive({ body })));
      assert.ok(received.every((r) => r.statusCode === 204 && !r.duplicate));
      await inbox.close();

      const workers = Array.from({ length: WORKERS }, () =>
        new Child(fixture("ordering-worker-child.ts"), [JSON.stringify({ path: target, options: OPTIONS, concurrency: 32, failRate: FAIL_RATE, seed })]));
      t.after(() => workers.forEach((child) => child.kill()));
      await Promise.all(workers.map((child) => child.next("ready", 30_000)));
      const started = Date.now();
      workers.forEach((child) => child.send({ type: "go" }));
      const deadline = Date.now() + 100_000;
      const unsettled = async () => Number(await sql.one("SELECT COUNT(*) FROM knocker_events WHERE status IN ('received', 'failed')"));
      for (let left = await unsettled(); left > 0; left = await unsettled()) {
        if (Date.now() > deadline) throw new Error(`the workers did not drain: ${left} events unsettled`);
        await sleep(50);
      }
      const drainMs = Date.now() - started;
      workers.forEach((child) => child.send({ type: "stop" }));
      const stopped = await Promise.all(workers.map((child) => child.next("stopped", 30_000)));
      for (const child of workers) assert.equal((await child.closed).code, 0, child.stderr);
      for (const report of stopped) assert.deepEqual(report.errors, [], "no error other than the planned failures");

      const log = (await sql.all<LogRow>("SELECT seq, event_id, ordering_key, n, phase, attempt, worker FROM ordering_log ORDER BY seq"))
        .map((row) => ({ ...row, seq: Number(row.seq), event_id: Number(row.event_id), n: Number(row.n), attempt: Number(row.attempt) }));
      const events = await sql.all<{ id: number; ordering_key: string | null; status: string; attempt_count: number }>(
        "SELECT id, ordering_key, status, attempt_count FROM knocker_events ORDER BY id");
      const statuses = events.map((e) => e.status);
      const dead = statuses.filter((s) => s === "dead").length;
      t.diagnostic(`drained in ${drainMs} ms; ${log.length / 2} invocations (${stopped.map((s) => String(s.handlerCalls)).join(" + ")}); ` +
        `${dead} dead, ${events.filter((e) => Number(e.attempt_count) > 1).length} retried`);
      assert.ok(statuses.every((s) => s === "handled" || s === "dead"));
      assert.ok(dead > 0, "some events went dead");
      assert.ok(stopped.every((s) => (s.handlerCalls as number) > 0), "every worker process ran handlers");

      // Each event's invocations are its recorded attempts, each a start and an end.
      const byEvent = new Map<number, LogRow[]>();
      for (const row of log) byEvent.set(row.event_id, [...(byEvent.get(row.event_id) ?? []), row]);
      for (const event of events) {
        const rows = byEvent.get(Number(event.id)) ?? [];
        assert.equal(rows.length, 2 * Number(event.attempt_count), `event ${event.id}: two rows per attempt`);
      }

      // Per key: start, end, start, end… of one invocation after another (never two at once), in
      // receipt order (n never goes back), every event of the key there, in several processes.
      let crossProcessKeys = 0;
      for (let k = 0; k < KEYS; k++) {
        const rows = log.filter((row) => row.ordering_key === `k${k}`);
        const runs: number[] = [];
        for (let i = 0; i < rows.length; i += 2) {
          const [start, end] = [rows[i]!, rows[i + 1]];
          assert.equal(start.phase, "start", `key k${k}: row ${start.seq} starts a run while another is open`);
          assert.ok(end && end.phase === "end" && end.event_id === start.event_id && end.attempt === start.attempt,
            `key k${k}: the run of event ${start.event_id} started at ${start.seq} overlaps the next (${end?.seq})`);
          if (runs.length > 0) assert.ok(start.n >= runs.at(-1)!, `key k${k}: event #${start.n} ran after #${runs.at(-1)}`);
          runs.push(start.n);
        }
        assert.deepEqual([...new Set(runs)], Array.from({ length: PER_KEY }, (_, n) => n), `key k${k}: every event, in receipt order`);
        if (new Set(rows.map((row) => row.worker)).size > 1) crossProcessKeys++;
      }
      assert.ok(crossProcessKeys > KEYS / 2, `keys handled by more than one process: ${crossProcessKeys}`);

      // Keys run in parallel: many invocations of different keys were open at once.
      let open_ = 0;
      let mostOpen = 0;
      for (const row of log) {
        open_ += row.phase === "start" ? 1 : -1;
        mostOpen = Math.max(mostOpen, open_);
      }
      assert.ok(mostOpen >= 10, `at most ${mostOpen} invocations at once`);

      // The unordered events, received after every keyed one, were done early: free workers took
      // them while keyed events waited for their keys (behind the keyed ones in a plain FIFO, they
      // would all end after every keyed event). Half of them had ended before half of the keyed
      // events had, 90% before 85% (each event counted at the end of its last run; an unordered
      // event that failed is retried behind the key heads received before it, so the tail varies
      // from run to run: half after 70-250 keyed events, 90% after 130-330, once 641).
      const lastEnd = new Map<number, LogRow>();
      for (const row of log) if (row.phase === "end") lastEnd.set(row.event_id, row);
      const ends = [...lastEnd.values()];
      const keyedEnds = ends.filter((row) => row.ordering_key !== null).map((row) => row.seq).sort((a, b) => a - b);
      const unorderedEnds = ends.filter((row) => row.ordering_key === null).map((row) => row.seq).sort((a, b) => a - b);
      assert.equal(unorderedEnds.length, UNORDERED);
      const keyedDoneBefore = (seq: number) => keyedEnds.filter((end) => end < seq).length;
      const p90 = unorderedEnds[Math.floor(UNORDERED * 0.9) - 1]!;
      t.diagnostic(`unordered events done: half after ${keyedDoneBefore(unorderedEnds[UNORDERED / 2 - 1]!)}, 90% after ${keyedDoneBefore(p90)}, ` +
        `all after ${keyedDoneBefore(unorderedEnds.at(-1)!)} of ${keyedEnds.length} keyed events`);
      const p50 = unorderedEnds[UNORDERED / 2 - 1]!;
      assert.ok(keyedDoneBefore(p50) < keyedEnds.length * 0.5, `half of the unordered events were done only after ${keyedDoneBefore(p50)} keyed events`);
      assert.ok(keyedDoneBefore(p90) < keyedEnds.length * 0.85, `90% of the unordered events were done only after ${keyedDoneBefore(p90)} keyed events`);
    });
  });
}
