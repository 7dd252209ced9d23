// CONTRACT §7, scheduled retention: RetentionPolicy validation, runRetention() registering
// `knocker-retention:<queue>` on `<queue>.retention`, the tick (lock + enqueue + advance),
// re-registration, catch-up after downtime (real processes), runs in bounded batches that yield to
// ingestion and ack with their last prune, stop by signal and by close() — on every engine
// (test/support/engines.ts): the same assertions on SQLite and on Postgres, the raw rows read and
// written through the matrix's engine-neutral `sql`.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { KnockerError, RetentionPolicy, type KnockerEventMap, type OpenOptions, type RetentionPolicyOptions } from "../src/index.js";
import { engineMatrix, type TestEngine, type TestInbox } from "./support/engines.js";
import { Child, fixture, sleep } from "./support/processes.js";
import { seedPrunable } from "./support/retention.js";

const T0 = 1_700_000_000;
const DAY = 86_400;
const TASK = "knocker-retention:knocker.events";
const RETENTION_QUEUE = "knocker.events.retention";

const engines = engineMatrix();

// A failing test must not leave a retention loop running (the file would never finish).
const controllers: AbortController[] = [];
after(() => controllers.forEach((controller) => controller.abort()));

const isCode = (code: string) => (error: unknown) => error instanceof KnockerError && error.code === code;

/**
 * A fresh inbox of `engine` (or, with `same`, another Knocker on that one: a restart) with the
 * endpoint "acme", a pinned clock unless `options.now` says otherwise, and readers of its rows.
 */
async function setup(engine: TestEngine, options: OpenOptions = {}, same?: TestInbox) {
  const clock = { now: T0 };
  const opened = { now: () => clock.now, ...options };
  const inbox: TestInbox = same ? { ...same, webhooks: same.reopen(opened) } : await engine.inbox(opened);
  const { webhooks, sql } = inbox;
  webhooks.endpoint("acme", { path: "/acme" });
  await webhooks.listEvents({ limit: 1 }); // on Postgres the endpoint's row is written in the background
  const endpointId = (await sql.one<number>("SELECT id FROM knocker_endpoints WHERE name = 'acme'"))!;
  const one = (text: string, ...params: unknown[]) => sql.one(text, ...params);
  const all = (text: string, ...params: unknown[]) => sql.all(text, ...params);
  const task = async () => (await sql.all("SELECT * FROM _honker_scheduler_tasks WHERE name = ?", TASK))[0];
  const seed = (spec: Omit<Parameters<typeof seedPrunable>[2], "endpointId">) => seedPrunable(sql, engine.name, { endpointId, ...spec });
  const fires: Array<KnockerEventMap["retention:fire"]> = [];
  const runs: Array<KnockerEventMap["retention:run"]> = [];
  webhooks.on("retention:fire", (fire) => fires.push(fire));
  webhooks.on("retention:run", (run) => runs.push(run));
  /** Start runRetention(); stop() aborts it and resolves when it returned. */
  const start = (policy: RetentionPolicy | RetentionPolicyOptions) => {
    const controller = new AbortController();
    controllers.push(controller);
    const errors: unknown[] = [];
    const done = webhooks.runRetention(policy, { signal: controller.signal, onError: (e) => errors.push(e) });
    return {
      errors,
      done,
      async stop() {
        controller.abort();
        await done;
      },
    };
  };
  return { inbox, sql, webhooks, clock, endpointId, one, all, task, seed, fires, runs, start };
}

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A queued run of the task's fire at `fireAt`, due at `runAt`, as a tick would write it. */
function queuedFire(engine: TestEngine): string {
  const payload = engine.name === "sqlite"
    ? "json_set(payload, '$.fire_at', CAST(? AS BIGINT), '$.missed_fires', 0)"
    : "(payload::jsonb || jsonb_build_object('fire_at', CAST(? AS BIGINT), 'missed_fires', 0))::text";
  return `INSERT INTO _honker_live (queue, payload, state, run_at, created_at)
    SELECT queue, ${payload}, 'pending', CAST(? AS BIGINT), CAST(? AS BIGINT) FROM _honker_scheduler_tasks`;
}

test("RetentionPolicy: defaults, immutability, and every validation rule (ERR_INVALID_OPTION)", () => {
  const policy = new RetentionPolicy({ intervalS: 3600, eventOlderThanS: 7 * DAY, orphanDeliveriesOlderThanS: DAY });
  assert.deepEqual({ ...policy }, {
    intervalS: 3600, eventStatuses: ["handled", "ignored"], eventOlderThanS: 7 * DAY, eventLimit: 100,
    orphanDeliveriesOlderThanS: DAY, orphanDeliveriesLimit: 100,
  });
  assert.ok(Object.isFrozen(policy) && Object.isFrozen(policy.eventStatuses));
  assert.throws(() => ((policy as { intervalS: number }).intervalS = 1), TypeError);
  // One age is enough; null means "not set"; statuses are de-duplicated; edges of every range.
  assert.equal(new RetentionPolicy({ intervalS: 1, eventOlderThanS: 0 }).orphanDeliveriesOlderThanS, null);
  assert.equal(new RetentionPolicy({ intervalS: 1, eventOlderThanS: null, orphanDeliveriesOlderThanS: 0 }).eventOlderThanS, null);
  assert.deepEqual(new RetentionPolicy({ intervalS: 1, eventOlderThanS: 1, eventStatuses: ["ignored", "ignored"] }).eventStatuses, ["ignored"]);
  const edges = new RetentionPolicy({ intervalS: 365 * DAY, eventOlderThanS: 100 * 365 * DAY, eventLimit: 1000, orphanDeliveriesLimit: 1 });
  assert.equal(edges.eventLimit, 1000);

  const bad: Array<[string, unknown, RegExp]> = [
    ["not an object", undefined, /options object/],
    ["null", null, /options object/],
    ["array", [], /options object/],
    ["unknown key", { intervalS: 60, eventOlderThanS: 1, eventOlderThan: 1 }, /"eventOlderThan" is not a RetentionPolicy option/],
    ["no age", { intervalS: 60 }, /needs eventOlderThanS or orphanDeliveriesOlderThanS/],
    ["both ages null", { intervalS: 60, eventOlderThanS: null, orphanDeliveriesOlderThanS: null }, /needs eventOlderThanS/],
    ["intervalS missing", { eventOlderThanS: 1 }, /"intervalS" must be an integer from 1 to 31536000, got undefined/],
    ["intervalS 0", { intervalS: 0, eventOlderThanS: 1 }, /"intervalS" must be an integer/],
    ["intervalS negative", { intervalS: -60, eventOlderThanS: 1 }, /"intervalS"/],
    ["intervalS fractional", { intervalS: 1.5, eventOlderThanS: 1 }, /"intervalS"/],
    ["intervalS a string", { intervalS: "60", eventOlderThanS: 1 }, /"intervalS"/],
    ["intervalS over a year", { intervalS: 365 * DAY + 1, eventOlderThanS: 1 }, /"intervalS"/],
    ["eventOlderThanS negative", { intervalS: 60, eventOlderThanS: -1 }, /"eventOlderThanS" must be an integer from 0/],
    ["eventOlderThanS fractional", { intervalS: 60, eventOlderThanS: 0.5 }, /"eventOlderThanS"/],
    ["eventOlderThanS a string", { intervalS: 60, eventOlderThanS: "7d" }, /"eventOlderThanS"/],
    ["eventOlderThanS NaN", { intervalS: 60, eventOlderThanS: Number.NaN }, /"eventOlderThanS"/],
    ["orphan age negative", { intervalS: 60, orphanDeliveriesOlderThanS: -1 }, /"orphanDeliveriesOlderThanS"/],
    ["orphan age infinite", { intervalS: 60, orphanDeliveriesOlderThanS: Infinity }, /"orphanDeliveriesOlderThanS"/],
    ["eventLimit 0", { intervalS: 60, eventOlderThanS: 1, eventLimit: 0 }, /"eventLimit" must be an integer from 1 to 1000, got 0/],
    ["eventLimit 1001", { intervalS: 60, eventOlderThanS: 1, eventLimit: 1001 }, /"eventLimit"/],
    ["eventLimit fractional", { intervalS: 60, eventOlderThanS: 1, eventLimit: 10.5 }, /"eventLimit"/],
    ["orphan limit 0", { intervalS: 60, orphanDeliveriesOlderThanS: 1, orphanDeliveriesLimit: 0 }, /"orphanDeliveriesLimit"/],
    ["orphan limit 1001", { intervalS: 60, orphanDeliveriesOlderThanS: 1, orphanDeliveriesLimit: 1001 }, /"orphanDeliveriesLimit"/],
    ["statuses not an array", { intervalS: 60, eventOlderThanS: 1, eventStatuses: "handled" }, /"eventStatuses" must be an array/],
    ["statuses empty", { intervalS: 60, eventOlderThanS: 1, eventStatuses: [] }, /"eventStatuses" must name at least one status/],
    ["status received", { intervalS: 60, eventOlderThanS: 1, eventStatuses: ["handled", "received"] }, /"eventStatuses" may only contain handled, ignored/],
    ["status dead", { intervalS: 60, eventOlderThanS: 1, eventStatuses: ["dead"] }, /"eventStatuses" may only contain/],
    ["status failed", { intervalS: 60, eventOlderThanS: 1, eventStatuses: ["failed"] }, /"eventStatuses" may only contain/],
  ];
  for (const [what, options, message] of bad) {
    assert.throws(() => new RetentionPolicy(options as never), (e: unknown) => isCode("ERR_INVALID_OPTION")(e) && message.test((e as Error).message), what);
  }
});

for (const engine of engines) {
  describe(engine.name, () => {
    test("runRetention(): argument checks; one run per Knocker; refused after close()", async () => {
      const { webhooks, one, start } = await setup(engine);
      const policy = new RetentionPolicy({ intervalS: 60, eventOlderThanS: DAY });
      await assert.rejects(webhooks.runRetention({ intervalS: 60 } as never), isCode("ERR_INVALID_OPTION"), "a plain object is validated like the class");
      await assert.rejects(webhooks.runRetention(null as never), isCode("ERR_INVALID_OPTION"));
      await assert.rejects(webhooks.runRetention(policy, { signal: "stop" } as never), TypeError);
      await assert.rejects(webhooks.runRetention(policy, { onError: "log" } as never), TypeError);
      assert.equal(await one("SELECT COUNT(*) FROM _honker_scheduler_tasks"), 0, "nothing registered by refused calls");
      const running = start({ intervalS: 60, eventOlderThanS: DAY }); // a plain options object works too
      await assert.rejects(webhooks.runRetention(policy), isCode("ERR_INVALID_STATE"));
      await running.stop();
      assert.deepEqual(running.errors, []);
      await webhooks.close();
      await assert.rejects(webhooks.runRetention(policy), isCode("ERR_CLOSED"));
    });

    test("registration: task and queue names, first fire at once, unchanged schedule keeps next_fire_at, a new one resets it", async () => {
      const first = await setup(engine);
      const run1 = first.start({ intervalS: 60, eventOlderThanS: DAY });
      await until("the first fire", () => first.runs.length === 1);
      const row = (await first.task())!;
      assert.deepEqual(
        { name: row.name, queue: row.queue, cron_expr: row.cron_expr, enabled: row.enabled, next_fire_at: row.next_fire_at },
        { name: TASK, queue: RETENTION_QUEUE, cron_expr: "@every 60s", enabled: 1, next_fire_at: T0 + 60 },
      );
      assert.deepEqual(JSON.parse(row.payload as string).policy, new RetentionPolicy({ intervalS: 60, eventOlderThanS: DAY }).toStored());
      assert.deepEqual(first.fires.map((f) => [f.fireAt, f.missedFires]), [[T0, 0]], "a new schedule is due at once");
      await run1.stop();
      await first.webhooks.close();

      // Restart 30 s later with the same interval (and a different age): next_fire_at is kept, nothing fires.
      const second = await setup(engine, {}, first.inbox);
      second.clock.now = T0 + 30;
      const run2 = second.start({ intervalS: 60, eventOlderThanS: 2 * DAY });
      await sleep(300);
      assert.equal((await second.task())!.next_fire_at, T0 + 60);
      assert.equal(JSON.parse((await second.task())!.payload as string).policy.event_older_than_s, 2 * DAY, "the payload is the latest policy");
      assert.equal(second.fires.length, 0);
      second.clock.now = T0 + 61;
      await until("the kept fire", () => second.runs.length === 1, 3000);
      assert.deepEqual(second.fires.map((f) => [f.fireAt, f.missedFires]), [[T0 + 60, 0]]);
      assert.equal((await second.task())!.next_fire_at, T0 + 120);
      await run2.stop();
      await second.webhooks.close();

      // A changed interval is a new schedule: due at once.
      const third = await setup(engine, {}, first.inbox);
      third.clock.now = T0 + 90;
      const run3 = third.start({ intervalS: 600, eventOlderThanS: DAY });
      await until("the new schedule's first fire", () => third.runs.length === 1);
      assert.deepEqual(third.fires.map((f) => f.fireAt), [T0 + 90]);
      assert.equal((await third.task())!.cron_expr, "@every 600s");
      assert.equal((await third.task())!.next_fire_at, T0 + 690);
      await run3.stop();
      assert.equal(await third.one("SELECT COUNT(*) FROM _honker_scheduler_tasks"), 1);
      await third.webhooks.close();
    });

    test("pause: `enabled = 0` survives re-registration, a paused task never fires while runRetention keeps ticking, `enabled = 1` resumes it", async () => {
      const first = await setup(engine);
      const run1 = first.start({ intervalS: 10, eventOlderThanS: DAY });
      await until("the first fire", () => first.runs.length === 1);
      assert.equal((await first.task())!.enabled, 1, "a new task is enabled");

      // The operator pauses retention for every process, from their own connection.
      const setEnabled = (enabled: number) => first.sql.run("UPDATE _honker_scheduler_tasks SET enabled = ? WHERE name = ?", enabled, TASK);
      await setEnabled(0);
      // Another process starting retention re-registers the unchanged schedule (with a new age): the pause is kept.
      const second = await setup(engine, {}, first.inbox);
      const run2 = second.start({ intervalS: 10, eventOlderThanS: 2 * DAY });
      await until("the re-registration", async () => JSON.parse((await second.task())!.payload as string).policy.event_older_than_s === 2 * DAY);
      const registered = (await second.task())!;
      assert.deepEqual({ enabled: registered.enabled, next_fire_at: registered.next_fire_at }, { enabled: 0, next_fire_at: T0 + 10 });
      let returned = false;
      void Promise.race([run1.done, run2.done]).then(() => (returned = true));
      const lockExpiresAt = () => first.one("SELECT expires_at FROM _honker_locks WHERE name = ?", TASK) as Promise<number | undefined>;

      // Three intervals pass: the loops keep ticking (the leader renews its lease at each step), nothing fires.
      for (let step = 1; step <= 3; step++) {
        first.clock.now = second.clock.now = T0 + 10 * step;
        await until(`the lease renewed at step ${step}`, async () => (await lockExpiresAt()) === T0 + 10 * step + 30, 3000);
      }
      await sleep(300);
      assert.equal(returned, false, "runRetention() keeps running while paused");
      assert.deepEqual([first.fires.length, second.fires.length, second.runs.length], [1, 0, 0], "no fire while paused");
      assert.equal(await first.one("SELECT COUNT(*) FROM knocker_prune_audits"), 1, "no audit row while paused (one from the first fire)");
      assert.equal(await first.one("SELECT COUNT(*) FROM _honker_live WHERE queue = ?", RETENTION_QUEUE), 0, "no job enqueued");
      const paused = (await first.task())!;
      assert.deepEqual({ enabled: paused.enabled, next_fire_at: paused.next_fire_at }, { enabled: 0, next_fire_at: T0 + 10 });

      // Re-enabled: the running loops notice without a restart; the missed fires collapse into one.
      await setEnabled(1);
      await until("the resumed fire", () => first.runs.length + second.runs.length === 2, 3000);
      const resumed = [...first.fires, ...second.fires].slice(1);
      assert.deepEqual(resumed.map((f) => [f.fireAt, f.missedFires]), [[T0 + 30, 2]]);
      assert.equal((await first.task())!.next_fire_at, T0 + 40);
      assert.equal(await first.one("SELECT COUNT(*) FROM knocker_prune_audits"), 2);
      await Promise.all([run1.stop(), run2.stop()]);
      assert.deepEqual([...run1.errors, ...run2.errors], []);
      await first.webhooks.close();
      await second.webhooks.close();
    });

    test("pause mid-run: the run ends at its next batch (acked, complete: false); a queued run waits until re-enabled", async () => {
      const { sql, webhooks, one, seed, start, runs, fires } = await setup(engine, { now: () => Math.floor(Date.now() / 1000) });
      await seed({ receivedAt: Math.floor(Date.now() / 1000) - 10 * DAY, handled: 300 });
      const running = start({ intervalS: 3600, eventOlderThanS: DAY, eventLimit: 1 });
      await until("the run to be under way", async () => ((await one("SELECT COUNT(*) FROM knocker_prune_audits")) as number) > 20, 10_000);
      await sql.run("UPDATE _honker_scheduler_tasks SET enabled = 0");
      await until("the run to end", () => runs.length === 1, 1000);
      assert.equal(runs[0]!.complete, false);
      assert.ok(runs[0]!.eventsPruned < 300);
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live WHERE queue = ?", RETENTION_QUEUE), 0, "the cut-short run is acked");
      const audits = await one("SELECT COUNT(*) FROM knocker_prune_audits");

      // A run already queued (say, backing off after a failure) is not claimed while paused.
      const now = Math.floor(Date.now() / 1000);
      await sql.run(queuedFire(engine), now, now, now);
      await sleep(1200);
      assert.equal(await one("SELECT attempts FROM _honker_live WHERE queue = ?", RETENTION_QUEUE), 0, "not claimed while paused");
      assert.equal(await one("SELECT COUNT(*) FROM knocker_prune_audits"), audits);
      await sql.run("UPDATE _honker_scheduler_tasks SET enabled = 1");
      await until("the queued run", () => runs.length === 2, 20_000);
      assert.equal(runs[0]!.eventsPruned + runs[1]!.eventsPruned, 300);
      assert.equal(fires.length, 1, "the queued run stands for the fire that was due");
      assert.equal(await one("SELECT COUNT(*) FROM knocker_events"), 0, "the rest of the backlog is gone");
      await running.stop();
      assert.deepEqual(running.errors, []);
      await webhooks.close();
    });

    test("a run: the same prune primitives in limit-sized batches, audit rows per batch, acked with the last one", async () => {
      const { webhooks, clock, one, all, seed, start, fires, runs } = await setup(engine);
      const old = T0 - 10 * DAY;
      await seed({ receivedAt: old, handled: 3, ignored: 2, deliveriesPerEvent: 2, attemptsPerEvent: 2, orphans: 3 });
      await seed({ receivedAt: T0 - 60, handled: 2, orphans: 1 }); // younger than the ages: kept
      const running = start({ intervalS: 3600, eventOlderThanS: DAY, eventLimit: 2, orphanDeliveriesOlderThanS: DAY, orphanDeliveriesLimit: 2 });
      await until("the run", () => runs.length === 1);
      assert.equal(fires.length, 1);
      const { jobId, fireAt } = fires[0]!;
      assert.deepEqual(runs[0], {
        queueName: "knocker.events", jobId, fireAt, batches: 5, eventsPruned: 5, deliveriesPruned: 10, attemptsPruned: 10, liveJobsPruned: 2,
        orphanDeliveriesPruned: 3, complete: true, durationMs: runs[0]!.durationMs,
      });
      // Events: batches of 2, 2, 1 (the short one ends the phase); orphans: 2, 1.
      const audits = (await webhooks.listPruneAudits()).reverse();
      assert.deepEqual(audits.map((a) => [a.kind, a.eventsPruned, a.deliveriesPruned, a.attemptsPruned, a.liveJobsPruned]), [
        ["prune_events", 2, 4, 4, 0], // the 3 handled events come first (same second: by id)…
        ["prune_events", 2, 4, 4, 1], // …then the 2 ignored ones, each with its queued job
        ["prune_events", 1, 2, 2, 1],
        ["prune_orphan_deliveries", 0, 2, 0, 0],
        ["prune_orphan_deliveries", 0, 1, 0, 0],
      ]);
      const summaries = audits.map((a) => JSON.parse(a.summaryJson));
      assert.deepEqual(summaries.map((s) => [s.source, s.fire_at, s.job_id, s.batch, s.older_than, s.limit]), [
        ["retention", T0, jobId, 1, T0 - DAY, 2],
        ["retention", T0, jobId, 2, T0 - DAY, 2],
        ["retention", T0, jobId, 3, T0 - DAY, 2],
        ["retention", T0, jobId, 4, T0 - DAY, 2],
        ["retention", T0, jobId, 5, T0 - DAY, 2],
      ]);
      assert.deepEqual(summaries[0].statuses, ["handled", "ignored"]);
      assert.ok(audits.every((a) => a.queueName === "knocker.events" && a.executedAt === T0));
      // Acked: nothing left on the retention queue, nothing dead; the young rows are still there.
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live WHERE queue = ?", RETENTION_QUEUE), 0);
      assert.equal(await one("SELECT COUNT(*) FROM _honker_dead"), 0);
      assert.deepEqual(await all("SELECT received_at, CASE WHEN event_id IS NULL THEN 1 ELSE 0 END AS orphan FROM knocker_deliveries ORDER BY id"), [
        { received_at: T0 - 60, orphan: 0 }, { received_at: T0 - 60, orphan: 0 }, { received_at: T0 - 60, orphan: 1 },
      ]);
      assert.equal(await one("SELECT COUNT(*) FROM knocker_events"), 2);
      // Only the fire makes it run: an hour later the next one.
      clock.now = T0 + 3600;
      await until("the next fire", () => runs.length === 2, 3000);
      assert.equal(runs[1]!.fireAt, T0 + 3600);
      assert.equal(runs[1]!.eventsPruned, 0, "the young events are still younger than a day");
      await running.stop();
      assert.deepEqual(running.errors, []);
      await webhooks.close();
    });

    test("the ack commits with the last prune: when the ack fails, that batch's prune rolls back too", async () => {
      const { inbox, webhooks, one, seed, start } = await setup(engine);
      await seed({ receivedAt: T0 - 10 * DAY, handled: 3 });
      const allowAck = await inbox.refuse({ name: "no_ack", on: "DELETE", table: "_honker_live", when: `old.queue = '${RETENTION_QUEUE}'`, message: "ack refused" });
      const running = start({ intervalS: 3600, eventOlderThanS: DAY }); // one batch: the prune and the ack share it
      await until("the failed run", () => running.errors.length > 0);
      await running.stop();
      assert.match(String(running.errors[0]), /ack refused/);
      assert.equal(await one("SELECT COUNT(*) FROM knocker_events"), 3, "the prune rolled back with the ack");
      assert.equal(await one("SELECT COUNT(*) FROM knocker_prune_audits"), 0, "and so did its audit row");
      await allowAck();
      await webhooks.close();
    });

    test("a failed run is retried after the backoff, then dead-lettered after maxAttempts; the next fire runs as usual", async () => {
      const { inbox, webhooks, clock, one, all, seed, start, fires, runs } = await setup(engine, { maxAttempts: 2, retryBackoff: { initialS: 5, maxS: 5 } });
      await seed({ receivedAt: T0 - 10 * DAY, handled: 3 });
      const allowAudits = await inbox.refuse({ name: "no_audit", on: "INSERT", table: "knocker_prune_audits", message: "audit refused" });
      const running = start({ intervalS: 3600, eventOlderThanS: DAY });
      await until("the first failure", () => running.errors.length === 1);
      await until("the retry", async () => (await all("SELECT state, run_at, attempts FROM _honker_live WHERE queue = ?", RETENTION_QUEUE)).length === 1);
      const [retry] = await all("SELECT state, run_at, attempts FROM _honker_live WHERE queue = ?", RETENTION_QUEUE);
      assert.deepEqual({ ...retry, run_at: undefined }, { state: "pending", run_at: undefined, attempts: 1 });
      const runAt = retry!.run_at as number;
      assert.ok(runAt >= T0 + 3 && runAt <= T0 + 5, `backoff 5 s with equal jitter: run_at ${runAt - T0} s after the failure`);
      await sleep(300);
      assert.equal(running.errors.length, 1, "not before the backoff");
      clock.now = runAt;
      await until("the second failure", () => running.errors.length === 2, 3000);
      await until("the dead letter", async () => (await one("SELECT COUNT(*) FROM _honker_dead")) === 1);
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live WHERE queue = ?", RETENTION_QUEUE), 0);
      const [dead] = await all("SELECT id, queue, attempts, last_error FROM _honker_dead");
      assert.deepEqual({ ...dead, last_error: undefined }, { id: fires[0]!.jobId, queue: RETENTION_QUEUE, attempts: 2, last_error: undefined });
      assert.match(dead!.last_error as string, /audit refused/);
      assert.ok(running.errors.every((e) => /audit refused/.test(String(e))));
      assert.equal(await one("SELECT COUNT(*) FROM knocker_events"), 3, "every failed batch rolled back");
      assert.equal(runs.length, 0);

      await allowAudits();
      clock.now = T0 + 3600;
      await until("the next fire's run", () => runs.length === 1, 3000);
      assert.deepEqual([runs[0]!.fireAt, runs[0]!.eventsPruned, runs[0]!.complete], [T0 + 3600, 3, true]);
      await running.stop();
      await webhooks.close();
    });

    test("must show 3: a process restarted after missing many intervals runs one catch-up pass, not one per missed interval", async (t) => {
      const { inbox, webhooks: setupKnocker, endpointId } = await setup(engine, { now: () => Math.floor(Date.now() / 1000) });
      await setupKnocker.close();
      const policy: RetentionPolicyOptions = { intervalS: 60, eventOlderThanS: 3600, orphanDeliveriesOlderThanS: 3600 };

      // The first process registers the schedule, runs its first fire, and stops.
      const first = new Child(fixture("retention-child.ts"), [JSON.stringify({ path: inbox.target, policy })]);
      t.after(() => first.kill());
      const firstRun = await first.next("run", 30_000);
      first.send({ type: "stop" });
      await first.next("stopped", 10_000);
      assert.equal((await first.closed).code, 0, first.stderr);

      // While no process runs: rows that the next pass must take.
      const seeded = await seedPrunable(inbox.sql, engine.name, {
        endpointId, receivedAt: Math.floor(Date.now() / 1000) - 7200, handled: 40, ignored: 10, orphans: 7, deliveriesPerEvent: 2,
      });
      const nextFireAt = (await inbox.sql.one("SELECT next_fire_at FROM _honker_scheduler_tasks")) as number;
      assert.equal(nextFireAt, (firstRun.fireAt as number) + 60);

      // The restart, 100 intervals later (its clock runs 6,000 s ahead): one fire, one run.
      const missed = 100;
      const second = new Child(fixture("retention-child.ts"), [JSON.stringify({ path: inbox.target, policy, clockOffsetS: missed * 60 })]);
      t.after(() => second.kill());
      const run = await second.next("run", 30_000);
      await sleep(2500); // a burst of catch-up fires would show up here
      second.send({ type: "stop" });
      await second.next("stopped", 10_000);
      assert.equal((await second.closed).code, 0, second.stderr);

      assert.equal(second.of("fire").length, 1, "one fire for all the missed intervals");
      assert.equal(second.of("run").length, 1, "one run");
      const fire = second.of("fire")[0]!;
      assert.ok((fire.missedFires as number) >= missed - 1, `missedFires ${String(fire.missedFires)}`);
      assert.equal(((fire.fireAt as number) - nextFireAt) % 60, 0, "the fire is on the schedule's grid");
      assert.equal(run.eventsPruned, seeded.events);
      assert.equal(run.orphanDeliveriesPruned, seeded.orphans);
      assert.deepEqual(second.of("error"), []);
      const reader = inbox.reopen();
      const audits = (await reader.listPruneAudits()).filter((a) => JSON.parse(a.summaryJson).fire_at === fire.fireAt);
      assert.deepEqual(audits.map((a) => a.kind).sort(), ["prune_events", "prune_orphan_deliveries"], "one audit row per kind for the catch-up pass");
      assert.equal((await reader.listPruneAudits()).length, 4, "two passes in all: the first process's and the catch-up");
      assert.equal(await inbox.sql.one("SELECT next_fire_at FROM _honker_scheduler_tasks"), (fire.fireAt as number) + 60);
      await reader.close();
    });

    test("the scheduler lock: while another live process holds it nothing fires here; once its lease runs out this process takes over", async () => {
      const { sql, webhooks, clock, one, start, fires, runs } = await setup(engine);
      await sql.run("INSERT INTO _honker_locks (name, owner, expires_at) VALUES (?, 'other-host:1:retention:x', ?)", TASK, T0 + 30);
      const running = start({ intervalS: 10, eventOlderThanS: DAY });
      await sleep(1200);
      assert.equal(fires.length, 0, "a due fire is left to the lock holder");
      assert.equal(await one("SELECT next_fire_at FROM _honker_scheduler_tasks"), T0);
      clock.now = T0 + 30; // the other process stopped renewing: its lease is over
      await until("the takeover fire", () => runs.length === 1, 3000);
      assert.deepEqual(fires.map((f) => [f.fireAt, f.missedFires]), [[T0 + 30, 3]], "missed fires collapse into one");
      assert.match((await one("SELECT owner FROM _honker_locks")) as string, /:retention:/);
      assert.notEqual(await one("SELECT owner FROM _honker_locks"), "other-host:1:retention:x");
      await running.stop();
      assert.equal(await one("SELECT COUNT(*) FROM _honker_locks"), 0, "released on stop");
      assert.deepEqual(running.errors, []);
      await webhooks.close();
    });

    test("a fire that comes due while the previous run is still queued is folded into it (no pile-up)", async () => {
      const { sql, webhooks, clock, one, start, fires, runs } = await setup(engine);
      const running = start({ intervalS: 10, eventOlderThanS: DAY });
      await until("the first run", () => runs.length === 1);
      await running.stop();
      // A run that is queued but not yet claimable (say, backing off after a failure).
      await sql.run("INSERT INTO _honker_live (queue, payload, state, run_at, created_at) VALUES (?, '{}', 'pending', ?, ?)", RETENTION_QUEUE, T0 + 1000, T0);
      clock.now = T0 + 10;
      const again = start({ intervalS: 10, eventOlderThanS: DAY });
      await until("the tick", async () => (await one("SELECT next_fire_at FROM _honker_scheduler_tasks")) === T0 + 20);
      await again.stop();
      assert.equal(fires.length, 1, "no second job");
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live WHERE queue = ?", RETENTION_QUEUE), 1);
      await webhooks.close();
    });

    test("runs yield between batches: receive() completes while a long run is in progress", async () => {
      const { webhooks, one, seed, start, runs } = await setup(engine, { now: () => Math.floor(Date.now() / 1000) });
      await seed({ receivedAt: Math.floor(Date.now() / 1000) - 10 * DAY, handled: 3000 });
      let finishedAt = 0;
      webhooks.on("retention:run", () => (finishedAt = performance.now()));
      const running = start({ intervalS: 3600, eventOlderThanS: DAY, eventLimit: 10 }); // 300 batches
      await until("the run to start", async () => ((await one("SELECT COUNT(*) FROM knocker_prune_audits")) as number) > 0);
      const receivedAt: number[] = [];
      for (let i = 0; i < 20; i++) {
        await webhooks.receive({ endpoint: "acme", body: "{}", dedupeKey: `during-${i}` });
        receivedAt.push(performance.now());
      }
      await until("the run to finish", () => runs.length === 1, 30_000);
      assert.equal(runs[0]!.eventsPruned, 3000);
      assert.ok(runs[0]!.batches >= 300);
      assert.ok(receivedAt.every((at) => at < finishedAt), "every receipt committed while the run was still going");
      await running.stop();
      await webhooks.close();
    });

    test("signal stops runRetention promptly, idle or mid-run; the stopped run is acked and the lock released", async () => {
      const { sql, webhooks, one, seed, start, runs } = await setup(engine, { now: () => Math.floor(Date.now() / 1000) });
      // Idle: sleeping until the next fire.
      const idle = start({ intervalS: 3600, eventOlderThanS: DAY });
      await until("the first run", () => runs.length === 1);
      await sleep(50);
      let asked = performance.now();
      await idle.stop();
      assert.ok(performance.now() - asked < 250, `stopped in ${performance.now() - asked} ms (the idle sleep alone is up to 1000 ms)`);
      assert.equal(await one("SELECT COUNT(*) FROM _honker_locks"), 0);

      // Mid-run: a backlog of many small batches.
      await sql.run("UPDATE _honker_scheduler_tasks SET next_fire_at = 0");
      await seed({ receivedAt: Math.floor(Date.now() / 1000) - 10 * DAY, handled: 5000 });
      const busy = start({ intervalS: 3600, eventOlderThanS: DAY, eventLimit: 1 });
      await until("the run to be under way", async () => ((await one("SELECT COUNT(*) FROM knocker_prune_audits")) as number) > 50, 10_000);
      asked = performance.now();
      await busy.stop();
      assert.ok(performance.now() - asked < 250, `stopped in ${performance.now() - asked} ms (the idle sleep alone is up to 1000 ms)`);
      assert.equal(runs.length, 2);
      assert.equal(runs[1]!.complete, false);
      assert.ok(runs[1]!.eventsPruned > 0 && runs[1]!.eventsPruned < 5000);
      assert.equal(await one("SELECT COUNT(*) FROM knocker_events"), 5000 - runs[1]!.eventsPruned, "what was pruned stays pruned");
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live WHERE queue = ?", RETENTION_QUEUE), 0, "the stopped run is acked");
      assert.equal(await one("SELECT COUNT(*) FROM _honker_locks"), 0);
      assert.deepEqual(busy.errors, []);
      await webhooks.close();
    });

    test("close() stops runRetention: the promise resolves, the run in hand is acked, the lock released", async () => {
      const { webhooks, one, seed, start, runs } = await setup(engine, { now: () => Math.floor(Date.now() / 1000) });
      await seed({ receivedAt: Math.floor(Date.now() / 1000) - 10 * DAY, handled: 3000 });
      const running = start({ intervalS: 3600, eventOlderThanS: DAY, eventLimit: 1 });
      await until("the run to be under way", async () => ((await one("SELECT COUNT(*) FROM knocker_prune_audits")) as number) > 20, 10_000);
      const asked = performance.now();
      await webhooks.close();
      await running.done;
      assert.ok(performance.now() - asked < 250, `stopped in ${performance.now() - asked} ms`);
      assert.deepEqual(running.errors, []);
      assert.deepEqual(runs.map((r) => r.complete), [false], "the run was cut short");
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live"), 0, "acked at close");
      assert.equal(await one("SELECT COUNT(*) FROM _honker_locks"), 0, "lock released at close");
    });
  });
}
