// Issue 4, must show 2: three real processes run runRetention() on one inbox (a SQLite file; a
// Postgres database, the processes standing for nodes) with a 1 s interval for several intervals
// while prunable rows keep arriving; the scheduler's leader is SIGKILLed half-way and another
// process takes over. No fire may be executed twice (audit rows = fires, one run per fire), and
// nothing may be pruned twice (the audit counts add up to exactly what was written).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RetentionPolicyOptions } from "../src/index.js";
import { engineMatrix } from "./support/engines.js";
import { Child, fixture, sleep, type Message } from "./support/processes.js";
import { addSeeded, NOTHING_SEEDED, seedPrunable, type Seeded } from "./support/retention.js";

const PROCESSES = 3;
const POLICY: RetentionPolicyOptions = {
  intervalS: 1,
  eventOlderThanS: 5,
  orphanDeliveriesOlderThanS: 5,
  // Above what arrives between two fires, so each fire is one batch per kind: one audit row each.
  eventLimit: 1000,
  orphanDeliveriesLimit: 1000,
};
const SEED_EVERY_MS = 150;
const BEFORE_KILL_MS = 4000;
const AFTER_KILL_MS = 7000;
const unix = () => Math.floor(Date.now() / 1000);
const engines = engineMatrix();

async function waitFor(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

for (const engine of engines) {
  describe(engine.name, () => {
    test(`${PROCESSES} processes run retention every second on one inbox: every fire runs once, nothing is pruned twice, the leader can die`, async (t) => {
      // The parent's inbox registers the endpoint; the matrix's `sql` seeds and checks the rows.
      const { webhooks: parent, sql, target } = await engine.inbox();
      t.after(() => parent.close());
      parent.endpoint("acme", { path: "/acme" });
      await parent.listEvents({ limit: 1 }); // on Postgres the endpoint's row is written in the background
      const endpointId = (await sql.one<number>("SELECT id FROM knocker_endpoints WHERE name = 'acme'"))!;
      let seeded = NOTHING_SEEDED;
      let lastSeedAt = 0;
      const seed = async () => {
        // Already older than the policy's age when written: the next fire takes them.
        const chunk: Seeded = await seedPrunable(sql, engine.name, {
          endpointId, receivedAt: unix() - 10, handled: 6, ignored: 4, orphans: 3, deliveriesPerEvent: 2, attemptsPerEvent: 2,
        });
        seeded = addSeeded(seeded, chunk);
        lastSeedAt = unix();
      };
      await seed();

      const children = Array.from({ length: PROCESSES }, () => new Child(fixture("retention-child.ts"), [JSON.stringify({ path: target, policy: POLICY })]));
      t.after(() => children.forEach((child) => child.kill()));
      await Promise.all(children.map((child) => child.next("ready", 30_000)));
      const messages = (type: string) => children.flatMap((child) => child.of(type));

      let seeding = true;
      const seeder = (async () => {
        while (seeding) {
          await seed();
          await sleep(SEED_EVERY_MS);
        }
      })();

      await sleep(BEFORE_KILL_MS);
      // The leader is whoever holds the scheduler lock; kill it right after a run finished, when it
      // is idle until the next second (a kill inside a run would legitimately re-run that fire later).
      const owner = (await sql.one<string>("SELECT owner FROM _honker_locks WHERE name = 'knocker-retention:knocker.events'"))!;
      const leaderPid = Number(owner.split(":")[1]);
      const leader = children.find((child) => child.pid === leaderPid);
      assert.ok(leader, `the lock owner ${owner} is one of the children`);
      const runsSoFar = messages("run").length;
      await waitFor("a run to finish", () => messages("run").length > runsSoFar, 5000);
      leader.kill("SIGKILL");
      const killedAt = Date.now();
      const firesBeforeKill = messages("fire").length;
      await leader.closed;

      await sleep(AFTER_KILL_MS);
      seeding = false;
      await seeder;
      // Let a fire after the last write take everything, then stop the survivors.
      const survivors = children.filter((child) => child !== leader);
      await waitFor("a run after the last write", () => messages("run").some((m) => (m.fireAt as number) > lastSeedAt + 1), 10_000);
      survivors.forEach((child) => child.send({ type: "stop" }));
      const stopped = await Promise.all(survivors.map((child) => child.next("stopped", 10_000)));
      for (const child of survivors) assert.equal((await child.closed).code, 0, child.stderr);

      const fires = messages("fire");
      const runs = messages("run");
      t.diagnostic(
        `fires ${fires.length} (${firesBeforeKill} before the kill), runs per process ${children.map((c) => `${c.pid}:${c.of("run").length}`).join(" ")}, ` +
          `seeded ${JSON.stringify(seeded)}, stop took ${stopped.map((s) => `${Math.round(s.stopMs as number)} ms`).join(", ")}`,
      );
      assert.deepEqual(messages("error"), [], "no process reported an error");

      // Every fire is one job, fired once: distinct fire times, distinct jobs.
      assert.ok(fires.length >= 7, `several intervals fired (${fires.length})`);
      const distinct = (values: unknown[]) => new Set(values).size === values.length;
      assert.ok(distinct(fires.map((f) => f.fireAt)), "no fire time was fired twice");
      assert.ok(distinct(fires.map((f) => f.jobId)), "no job id repeats");
      // The lock: before the kill only the leader ticked; after it, one survivor took over.
      const leaderFires = leader.of("fire");
      assert.equal(leaderFires.length, firesBeforeKill, "before the kill, only the lock holder fired");
      const laterFires = survivors.flatMap((child) => child.of("fire"));
      assert.equal(new Set(laterFires.map((f) => f.pid)).size, 1, "one survivor ticks after the kill");
      assert.ok(laterFires.length >= 3, `fires went on after the leader died (${laterFires.length})`);
      const firstLater = Math.min(...laterFires.map((f) => f.fireAt as number));
      assert.ok(firstLater > Math.max(...leaderFires.map((f) => f.fireAt as number)));
      t.diagnostic(`first fire after the kill: ${((firstLater * 1000 - killedAt) / 1000).toFixed(1)} s after it (lease 3 s)`);

      // One run per fire, each complete, none twice.
      assert.ok(distinct(runs.map((r) => r.jobId)), "no fire was run twice");
      assert.deepEqual(runs.map((r) => r.jobId).sort(), fires.map((f) => f.jobId).sort(), "every fire ran exactly once");
      assert.ok(runs.every((r) => r.complete === true && r.batches === 2));

      // Audit rows = fires, per kind, with one row per (kind, fire).
      const audits = (await sql.all<Record<string, number | string>>(`SELECT kind, summary_json, events_pruned, deliveries_pruned,
          attempts_pruned, live_jobs_pruned FROM knocker_prune_audits`)).map((a) => {
        const summary = JSON.parse(a.summary_json as string) as { fire_at: number; source: string };
        return { ...a, fire_at: summary.fire_at, source: summary.source } as Record<string, number | string>;
      });
      assert.ok(audits.every((a) => a.source === "retention"));
      for (const kind of ["prune_events", "prune_orphan_deliveries"]) {
        const ofKind = audits.filter((a) => a.kind === kind);
        assert.equal(ofKind.length, fires.length, `${kind}: audit rows = fires`);
        assert.deepEqual(ofKind.map((a) => a.fire_at).sort(), fires.map((f) => f.fireAt).sort());
      }

      // Nothing pruned twice: the audit counts add up to exactly what was written, and it is all gone.
      const sum = (kind: string, column: string) => audits.filter((a) => a.kind === kind).reduce((n, a) => n + (a[column] as number), 0);
      const count = async (text: string) => (await sql.one<number>(text))!;
      assert.equal(await count("SELECT COUNT(*) FROM knocker_events"), 0);
      assert.equal(await count("SELECT COUNT(*) FROM knocker_deliveries"), 0);
      assert.equal(await count("SELECT COUNT(*) FROM knocker_attempts"), 0);
      assert.equal(await count("SELECT COUNT(*) FROM _honker_live WHERE queue = 'knocker.events'"), 0);
      assert.equal(sum("prune_events", "events_pruned"), seeded.events);
      assert.equal(sum("prune_events", "deliveries_pruned"), seeded.deliveries);
      assert.equal(sum("prune_events", "attempts_pruned"), seeded.attempts);
      assert.equal(sum("prune_events", "live_jobs_pruned"), seeded.liveJobs);
      assert.equal(sum("prune_orphan_deliveries", "deliveries_pruned"), seeded.orphans);
      assert.equal(runs.reduce((n, r: Message) => n + (r.eventsPruned as number), 0), seeded.events, "runs report what the audits say");
      // The retention queue is empty: every job was acked with its run, none dead.
      assert.equal(await count("SELECT COUNT(*) FROM _honker_live WHERE queue = 'knocker.events.retention'"), 0);
      assert.equal(await count("SELECT COUNT(*) FROM _honker_dead"), 0);
      assert.equal(await count("SELECT COUNT(*) FROM _honker_locks"), 0, "stopped processes released the lock");
      if (engine.name === "sqlite") assert.equal(await sql.one("PRAGMA integrity_check"), "ok");
    });
  });
}
