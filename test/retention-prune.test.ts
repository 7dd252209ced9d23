// CONTRACT §7, the prune primitives: pruneEvents, pruneOrphanDeliveries, listPruneAudits —
// validation, the strict cutoff, oldest first, counts in results and audit rows, queue scoping
// of live-job cleanup, malformed job payloads left alone, one transaction per call, and the
// worker acking a job of a pruned event quietly. On every engine (test/support/engines.ts): real
// SQLite files and real Postgres databases, the public API; raw SQL only to look at the rows or to
// put rows there that another binding or process could have written.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KnockerError, type Knocker, type OpenOptions } from "../src/index.js";
import { engineMatrix, type TestEngine } from "./support/engines.js";
import { drain, stripeSignature } from "./support.js";

const T0 = 1_700_000_000;
const SECRET = "whsec_retention_test";
const QUEUE = "knocker.events";

const engines = engineMatrix();

async function setup(engine: TestEngine, options: OpenOptions = {}) {
  const clock = { now: T0 };
  const inbox = await engine.inbox({ retryBackoff: false, now: () => clock.now, ...options });
  const { webhooks, sql } = inbox;
  const acme = webhooks.endpoint("acme", { path: "/acme" });
  const stripe = webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  const failedOnce = new Set<number>();
  const handled: number[] = [];
  // Events whose body says {"flaky": true} fail their first attempt, then succeed.
  acme.handle((event) => {
    if (event.json<{ flaky?: boolean }>().flaky && !failedOnce.has(event.id)) {
      failedOnce.add(event.id);
      throw new Error("flaky first attempt");
    }
    handled.push(event.id);
  });
  const one = (text: string, ...params: unknown[]) => sql.one(text, ...params);
  const all = (text: string, ...params: unknown[]) => sql.all(text, ...params);
  const col = async (text: string, ...params: unknown[]) => (await sql.all(text, ...params)).map((row) => Object.values(row)[0]);
  /** A new event received at `at` (the pinned clock), with `repeats` more deliveries of it. */
  const receive = async (at: number, key: string, { repeats = 0, flaky = false } = {}) => {
    clock.now = at;
    const body = JSON.stringify({ key, flaky });
    const first = await acme.receive({ body, dedupeKey: key });
    for (let i = 0; i < repeats; i++) assert.equal((await acme.receive({ body, dedupeKey: key })).duplicate, true);
    return first.eventId!;
  };
  /** An orphan delivery (rejected Stripe signature) received at `at`. */
  const orphan = async (at: number) => {
    clock.now = at;
    const body = JSON.stringify({ id: `evt_${at}`, type: "x" });
    const result = await stripe.receive({ body, headers: { "stripe-signature": stripeSignature(body, "whsec_wrong", at) } });
    assert.equal(result.eventId, null);
    return result.deliveryId;
  };
  /** Run the worker until every event is settled. */
  const settle = (now: number) => {
    clock.now = now;
    return drain(webhooks, async () => (await one("SELECT COUNT(*) FROM knocker_events WHERE status IN ('received', 'failed')")) === 0);
  };
  return { inbox, sql, webhooks, clock, one, all, col, receive, orphan, settle, handled };
}

/** A two-byte body `{}` as a literal of the engine's blob type. */
const emptyObjectBlob = (engine: TestEngine) => (engine.name === "sqlite" ? "x'7b7d'" : "'\\x7b7d'::bytea");

const isCode = (code: string) => (error: unknown) => error instanceof KnockerError && error.code === code;
const auditCount = async (w: Knocker) => (await w.listPruneAudits({ limit: 1000 })).length;

for (const engine of engines) {
  describe(engine.name, () => {
    test("pruneEvents validation: every rule, ERR_INVALID_ARGUMENT, and no audit row for a refused call", async () => {
      const { webhooks } = await setup(engine);
      const bad: Array<[string, unknown]> = [
        ["no options", undefined],
        ["null options", null],
        ["array options", []],
        ["missing olderThan", {}],
        ["olderThan not an integer", { olderThan: 1.5 }],
        ["olderThan a string", { olderThan: "1700000000" }],
        ["olderThan negative", { olderThan: -1 }],
        ["olderThan NaN", { olderThan: Number.NaN }],
        ["olderThan a Date", { olderThan: new Date() }],
        ["olderThan in milliseconds beyond a safe integer", { olderThan: 2 ** 53 }],
        ["statuses not an array", { olderThan: T0, statuses: "handled" }],
        ["statuses empty", { olderThan: T0, statuses: [] }],
        ["status received", { olderThan: T0, statuses: ["received"] }],
        ["status processing", { olderThan: T0, statuses: ["handled", "processing"] }],
        ["status failed", { olderThan: T0, statuses: ["failed"] }],
        ["status dead", { olderThan: T0, statuses: ["dead"] }],
        ["status unknown", { olderThan: T0, statuses: ["HANDLED"] }],
        ["status not a string", { olderThan: T0, statuses: [1] }],
        ["limit 0", { olderThan: T0, limit: 0 }],
        ["limit 1001", { olderThan: T0, limit: 1001 }],
        ["limit negative", { olderThan: T0, limit: -5 }],
        ["limit fractional", { olderThan: T0, limit: 2.5 }],
        ["limit a string", { olderThan: T0, limit: "10" }],
        ["unknown option", { olderThan: T0, olderthan: T0 }],
        ["unknown option (status)", { olderThan: T0, status: "handled" }],
      ];
      for (const [what, options] of bad) {
        await assert.rejects(webhooks.pruneEvents(options as never), isCode("ERR_INVALID_ARGUMENT"), what);
      }
      await assert.rejects(webhooks.pruneEvents({ olderThan: T0, statuses: ["dead"] } as never), /statuses may only contain handled, ignored.*"dead"/);
      await assert.rejects(webhooks.pruneEvents({ olderThan: T0, limit: 0 }), /limit must be an integer from 1 to 1000, got 0/);
      await assert.rejects(webhooks.pruneEvents({ olderThan: 1.5 }), /olderThan must be an integer unix timestamp in seconds, got 1.5/);
      assert.equal(await auditCount(webhooks), 0, "refused calls write no audit row");

      // Accepted edges: limit 1 and 1000, olderThan 0, each status alone.
      for (const options of [{ olderThan: 0 }, { olderThan: T0, limit: 1 }, { olderThan: T0, limit: 1000 },
        { olderThan: T0, statuses: ["handled"] }, { olderThan: T0, statuses: ["ignored"] }] as const) {
        assert.deepEqual(await webhooks.pruneEvents(options), { eventsPruned: 0, deliveriesPruned: 0, attemptsPruned: 0, liveJobsPruned: 0 });
      }
      assert.equal(await auditCount(webhooks), 5, "one audit row per successful call, also when nothing matched");
      await webhooks.close();
      await assert.rejects(webhooks.pruneEvents({ olderThan: T0 }), isCode("ERR_CLOSED"));
    });

    test("pruneEvents: statuses are de-duplicated, default to handled + ignored, and the audit records what ran", async () => {
      const { webhooks, all } = await setup(engine);
      await webhooks.pruneEvents({ olderThan: T0, statuses: ["ignored", "handled", "ignored", "handled"] });
      await webhooks.pruneEvents({ olderThan: T0 });
      await webhooks.pruneEvents({ olderThan: T0, statuses: ["handled", "handled"], limit: 7 });
      const summaries = (await all("SELECT summary_json FROM knocker_prune_audits ORDER BY id")).map((r) => JSON.parse(r.summary_json as string));
      assert.deepEqual(summaries.map((s) => [s.statuses, s.older_than, s.limit, s.source]), [
        [["ignored", "handled"], T0, 100, "manual"],
        [["handled", "ignored"], T0, 100, "manual"],
        [["handled"], T0, 7, "manual"],
      ]);
      await webhooks.close();
    });

    test("pruneEvents: strict received_at < olderThan, only handled/ignored, oldest first up to limit (ties by id)", async () => {
      const { sql, webhooks, receive, settle, col, one } = await setup(engine, { maxAttempts: 2, retryBackoff: { initialS: 3600, maxS: 3600 } });
      // Received out of order so that id order and age order differ.
      const e50 = await receive(T0 + 50, "e50");
      const e10a = await receive(T0 + 10, "e10a");
      const e30 = await receive(T0 + 30, "e30");
      const e10b = await receive(T0 + 10, "e10b");
      const e40 = await receive(T0 + 40, "e40");
      const atCutoff = await receive(T0 + 60, "at-cutoff");
      const after = await receive(T0 + 61, "after-cutoff");
      await settle(T0 + 100);
      // Older events that are not settled-for-good must survive any prune.
      webhooks.endpoint("nohandler", { path: "/nohandler" });
      const dead = (await webhooks.receive({ endpoint: "nohandler", body: "{}", dedupeKey: "dead" })).eventId!; // received at T0+100
      await settle(T0 + 100);
      assert.equal((await webhooks.getEvent(dead))!.status, "dead");
      await sql.run("UPDATE knocker_events SET received_at = ? WHERE id = ?", T0, dead); // as old as anything
      const stillReceived = await receive(T0, "still-received"); // never run: no worker after this

      const ids = async () => (await col("SELECT id FROM knocker_events ORDER BY id")) as number[];
      const cutoff = T0 + 60;
      assert.equal((await webhooks.pruneEvents({ olderThan: cutoff, limit: 2 })).eventsPruned, 2);
      assert.ok(!(await ids()).includes(e10a) && !(await ids()).includes(e10b), "the two oldest (same second: both) go first");
      assert.equal((await webhooks.pruneEvents({ olderThan: cutoff, limit: 2 })).eventsPruned, 2);
      assert.ok(!(await ids()).includes(e30) && !(await ids()).includes(e40), "then the next oldest");
      assert.equal((await webhooks.pruneEvents({ olderThan: cutoff, limit: 2 })).eventsPruned, 1);
      assert.ok(!(await ids()).includes(e50));
      assert.equal((await webhooks.pruneEvents({ olderThan: cutoff, limit: 2 })).eventsPruned, 0, "received_at == olderThan is not older");
      assert.deepEqual(await ids(), [atCutoff, after, dead, stillReceived].sort((a, b) => a - b));
      assert.equal(await one("SELECT status FROM knocker_events WHERE id = ?", stillReceived), "received");
      assert.equal((await webhooks.pruneEvents({ olderThan: cutoff + 1 })).eventsPruned, 1, "one second later the cutoff event goes");
      assert.deepEqual(await ids(), [after, dead, stillReceived].sort((a, b) => a - b));
      // A prune far in the future still never touches received / dead events.
      assert.equal((await webhooks.pruneEvents({ olderThan: T0 + 10_000, limit: 1000 })).eventsPruned, 1);
      assert.deepEqual(await ids(), [dead, stillReceived].sort((a, b) => a - b));

      // The default limit is 100: 100 new events plus the received one, handled now, make 101.
      for (let i = 0; i < 100; i++) await receive(T0 + 200, `bulk-${i}`);
      await settle(T0 + 300);
      assert.equal((await webhooks.getEvent(stillReceived))!.status, "handled");
      assert.equal((await webhooks.pruneEvents({ olderThan: T0 + 300 })).eventsPruned, 100);
      const lastBulk = Math.max(...(await ids()));
      assert.deepEqual(await ids(), [dead, lastBulk].sort((a, b) => a - b), "the oldest (stillReceived) and the 99 lowest ids of the same second went");
      assert.ok(lastBulk > stillReceived);
      assert.equal((await webhooks.pruneEvents({ olderThan: T0 + 300 })).eventsPruned, 1);
      assert.deepEqual(await ids(), [dead]);
      await webhooks.close();
    });

    test("pruneEvents counts: several deliveries and attempts per event, live jobs — in the result and the audit row", async () => {
      const { sql, webhooks, receive, settle, one, col, all } = await setup(engine);
      const a = await receive(T0 + 1, "a", { repeats: 2, flaky: true }); // 3 deliveries, attempts: failed + handled
      const b = await receive(T0 + 2, "b", { repeats: 1 }); // 2 deliveries, 1 attempt
      const c = await receive(T0 + 3, "c"); // ignored before it ran: 1 delivery, attempt "ignored", its job still queued
      const keep = await receive(T0 + 50, "keep", { repeats: 1 });
      await webhooks.ignore(c);
      // Run everything but c's job (the worker would ack it quietly): settle a, b and keep only.
      const cJob = (await one("SELECT id FROM _honker_live WHERE payload = ?", JSON.stringify({ event_id: c }))) as number;
      await sql.run("UPDATE _honker_live SET run_at = ? WHERE id = ?", T0 + 1_000_000, cJob);
      await settle(T0 + 60);
      assert.deepEqual((await webhooks.listAttempts(a)).map((x) => x.outcome), ["handled", "failed"]);
      assert.deepEqual((await Promise.all([a, b, keep].map((id) => webhooks.getEvent(id)))).map((event) => event!.status), ["handled", "handled", "handled"]);
      assert.equal((await webhooks.getEvent(c))!.status, "ignored");
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live WHERE id = ?", cJob), 1);

      {
        const result = await webhooks.pruneEvents({ olderThan: T0 + 10 });
        const expected = { eventsPruned: 3, deliveriesPruned: 3 + 2 + 1, attemptsPruned: 2 + 1 + 1, liveJobsPruned: 1 };
        assert.deepEqual(result, expected);
        const [audit] = await webhooks.listPruneAudits();
        assert.deepEqual(
          { kind: audit!.kind, queueName: audit!.queueName, executedAt: audit!.executedAt, eventsPruned: audit!.eventsPruned,
            deliveriesPruned: audit!.deliveriesPruned, attemptsPruned: audit!.attemptsPruned, liveJobsPruned: audit!.liveJobsPruned },
          { kind: "prune_events", queueName: QUEUE, executedAt: T0 + 60, ...expected },
        );
        assert.deepEqual(JSON.parse(audit!.summaryJson).received_at, { min: T0 + 1, max: T0 + 3 });
      }
      // What the counts say is what is gone — and nothing of the kept event.
      for (const id of [a, b, c]) {
        assert.equal(await webhooks.getEvent(id), null);
        assert.equal(await one("SELECT COUNT(*) FROM knocker_deliveries WHERE event_id = ?", id), 0);
        assert.equal(await one("SELECT COUNT(*) FROM knocker_attempts WHERE event_id = ?", id), 0);
      }
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live"), 0);
      assert.deepEqual(await col("SELECT event_id FROM knocker_deliveries"), [keep, keep]);
      assert.deepEqual(await col("SELECT event_id FROM knocker_attempts"), [keep]);
      assert.deepEqual(await all("SELECT id, status FROM knocker_events"), [{ id: keep, status: "handled" }]);
      // Postgres checks every foreign key on every write; SQLite is asked.
      if (engine.name === "sqlite") assert.deepEqual(await all("PRAGMA foreign_key_check"), []);
      await webhooks.close();
    });

    test("pruneEvents removes live jobs of this queue only, leaves malformed payloads and in-flight claims alone", async () => {
      const { inbox, sql, webhooks, receive, one, col, clock } = await setup(engine);
      const ignored = await receive(T0, "ignored");
      await webhooks.ignore(ignored); // its job stays queued: the worker would ack it quietly
      const other = await receive(T0, "other");
      await webhooks.ignore(other);
      const insertJob = async (queue: string, payload: string, state = "pending", claimExpiresAt: number | null = null) =>
        (await sql.all<{ id: number }>(`INSERT INTO _honker_live (queue, payload, state, run_at, worker_id, claim_expires_at, attempts, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, queue, payload, state, T0, state === "processing" ? "w" : null, claimExpiresAt,
          state === "processing" ? 1 : 0, T0))[0]!.id;
      const id = ignored;
      const foreign = [
        await insertJob("other.events", `{"event_id":${id}}`), // another Knocker's queue on the same file
        await insertJob(`${QUEUE}.retention`, `{"event_id":${id}}`), // the retention queue
        await insertJob("knocker", `{"event_id":${id}}`), // a prefix of this queue's name
      ];
      const malformed = [
        await insertJob(QUEUE, `{"event_id":"${id}"}`), // a string, not the integer
        await insertJob(QUEUE, `{"eventId":${id}}`),
        await insertJob(QUEUE, `[${id}]`),
        await insertJob(QUEUE, `${id}`),
        await insertJob(QUEUE, `{"event_id":{"id":${id}}}`),
        await insertJob(QUEUE, `{"event_id":null}`),
        await insertJob(QUEUE, `{"event_id":${id}.5}`),
        await insertJob(QUEUE, `{"nested":{"event_id":${id}}}`),
        await insertJob(QUEUE, `not json ${id}`), // text another tool put on the queue: the job index skips it
      ];
      const delivery = await insertJob(QUEUE, `{"event_id":${id},"delivery_id":1}`); // a replayDelivery job: also this event's
      const expiredClaim = await insertJob(QUEUE, `{"event_id":${id}}`, "processing", T0 - 1); // a crashed worker's claim
      const liveClaim = await insertJob(QUEUE, `{"event_id":${other}}`, "processing", T0 + 30); // a worker holds it right now

      const result = await webhooks.pruneEvents({ olderThan: T0 + 1 });
      assert.deepEqual(result, { eventsPruned: 2, deliveriesPruned: 2, attemptsPruned: 2, liveJobsPruned: 4 });
      const left = (await col("SELECT id FROM _honker_live ORDER BY id")) as number[];
      assert.deepEqual(left, [...foreign, ...malformed, liveClaim].sort((a, b) => a - b));
      assert.ok(!left.includes(delivery) && !left.includes(expiredClaim));
      assert.equal(JSON.parse((await webhooks.listPruneAudits())[0]!.summaryJson).claimed_jobs_left, 1);

      // The worker holding the live claim finds the event gone and acks quietly once it gets to it;
      // here the claim expires (that worker died) and this worker picks the job up.
      clock.now = T0 + 31;
      const errors: unknown[] = [];
      await sql.run("DELETE FROM _honker_live WHERE queue = ? AND id <> ?", QUEUE, liveClaim); // the malformed ones would be dead-lettered
      await drain(webhooks, async () => (await one("SELECT COUNT(*) FROM _honker_live WHERE queue = ?", QUEUE)) === 0, { onError: (e) => errors.push(e) });
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live WHERE queue = ?", QUEUE), 0);
      assert.equal(await one("SELECT COUNT(*) FROM _honker_dead"), 0);
      assert.deepEqual(errors, []);
      await webhooks.close();

      // A Knocker on another queue prunes with its own queue's jobs: the "other.events" job goes.
      const otherQueue = inbox.reopen({ queueName: "other.events", now: () => T0 + 40 });
      const [{ id: third }] = await sql.all<{ id: number }>(`INSERT INTO knocker_events (endpoint_id, received_at, method, headers_json, body_blob, query_json, status)
        SELECT id, CAST(? AS BIGINT), 'POST', '{}', ${emptyObjectBlob(engine)}, '{}', 'handled' FROM knocker_endpoints WHERE name = 'acme' RETURNING id`, T0) as [{ id: number }];
      await sql.run("UPDATE _honker_live SET payload = ? WHERE id = ?", `{"event_id":${third}}`, foreign[0]);
      await sql.run("UPDATE _honker_live SET payload = ? WHERE id = ?", `{"event_id":${third}}`, foreign[1]);
      assert.equal((await otherQueue.pruneEvents({ olderThan: T0 + 1 })).liveJobsPruned, 1);
      assert.equal((await otherQueue.listPruneAudits())[0]!.queueName, "other.events");
      assert.equal(await sql.one("SELECT COUNT(*) FROM _honker_live WHERE id = ?", foreign[1]), 1);
      await otherQueue.close();
    });

    test("a job of a pruned event that turns up later is acked quietly: no handler, no error, no dead letter", async () => {
      const { sql, webhooks, receive, settle, one, handled } = await setup(engine);
      const id = await receive(T0, "gone");
      await settle(T0 + 10);
      assert.deepEqual(handled, [id]);
      assert.equal((await webhooks.pruneEvents({ olderThan: T0 + 1 })).eventsPruned, 1);
      // A job for it written afterwards (another binding, a replay racing the prune on another process…).
      await sql.run("INSERT INTO _honker_live (queue, payload, state, run_at, created_at) VALUES (?, ?, 'pending', ?, ?)", QUEUE, JSON.stringify({ event_id: id }), T0, T0);
      const errors: unknown[] = [];
      await drain(webhooks, async () => (await one("SELECT COUNT(*) FROM _honker_live")) === 0, { onError: (e) => errors.push(e) });
      assert.equal(await one("SELECT COUNT(*) FROM _honker_live"), 0, "acked");
      assert.equal(await one("SELECT COUNT(*) FROM _honker_dead"), 0, "not dead-lettered");
      assert.deepEqual(handled, [id], "no handler ran");
      assert.deepEqual(errors, []);
      assert.equal(webhooks.workerStates()[0]!.lastError, null);
      assert.equal(await one("SELECT COUNT(*) FROM knocker_events"), 0, "and no event row was recreated");
      await webhooks.close();
    });

    test("pruneEvents is one transaction: a failure part-way leaves every row, and no audit row", async () => {
      const { inbox, webhooks, receive, settle, one } = await setup(engine);
      for (let i = 0; i < 5; i++) await receive(T0 + i, `k${i}`, { repeats: 1 });
      await settle(T0 + 10);
      const before = () => Promise.all(["knocker_events", "knocker_deliveries", "knocker_attempts", "knocker_prune_audits"].map((t) => one(`SELECT COUNT(*) FROM ${t}`)));
      const snapshot = await before();
      // The fourth oldest event refuses to go (as a disk-full or a constraint would part-way through).
      const victim = (await one("SELECT id FROM knocker_events ORDER BY received_at LIMIT 1 OFFSET 3")) as number;
      const allow = await inbox.refuse({ name: "refuse", on: "DELETE", table: "knocker_events", when: `old.id = ${victim}`, message: "refused" });
      await assert.rejects(webhooks.pruneEvents({ olderThan: T0 + 100 }), /refused/);
      assert.deepEqual(await before(), snapshot);
      await allow();
      assert.equal((await webhooks.pruneEvents({ olderThan: T0 + 100 })).eventsPruned, 5);
      assert.equal((await webhooks.listPruneAudits()).length, 1);
      await webhooks.close();
    });

    test("pruneOrphanDeliveries: validation, strict cutoff, oldest first, linked deliveries untouched, audit row", async () => {
      const { inbox, webhooks, receive, orphan, col, one } = await setup(engine);
      for (const options of [undefined, {}, { olderThan: -1 }, { olderThan: 1.5 }, { olderThan: "x" }, { olderThan: T0, limit: 0 },
        { olderThan: T0, limit: 1001 }, { olderThan: T0, limit: 1.5 }, { olderThan: T0, statuses: ["handled"] }]) {
        await assert.rejects(webhooks.pruneOrphanDeliveries(options as never), isCode("ERR_INVALID_ARGUMENT"), JSON.stringify(options));
      }
      assert.equal(await auditCount(webhooks), 0);
      const o30 = await orphan(T0 + 30);
      const o10 = await orphan(T0 + 10);
      const o20 = await orphan(T0 + 20);
      const atCutoff = await orphan(T0 + 40);
      const linkedEvent = await receive(T0 + 5, "linked"); // a linked delivery, older than all of them
      const orphans = async () => (await col("SELECT id FROM knocker_deliveries WHERE event_id IS NULL ORDER BY id")) as number[];

      assert.deepEqual(await webhooks.pruneOrphanDeliveries({ olderThan: T0 + 40, limit: 2 }), { deliveriesPruned: 2 });
      assert.deepEqual(await orphans(), [o30, atCutoff], "the two oldest went first");
      assert.deepEqual(await webhooks.pruneOrphanDeliveries({ olderThan: T0 + 40 }), { deliveriesPruned: 1 });
      assert.deepEqual(await webhooks.pruneOrphanDeliveries({ olderThan: T0 + 40 }), { deliveriesPruned: 0 }, "strictly older only");
      assert.deepEqual(await orphans(), [atCutoff]);
      assert.equal(await one("SELECT COUNT(*) FROM knocker_deliveries WHERE event_id = ?", linkedEvent), 1, "linked deliveries are not orphans");
      assert.ok(o10 && o20);

      const audits = await webhooks.listPruneAudits({ kind: "prune_orphan_deliveries" });
      assert.deepEqual(audits.map((a) => [a.kind, a.eventsPruned, a.deliveriesPruned, a.attemptsPruned, a.liveJobsPruned]), [
        ["prune_orphan_deliveries", 0, 0, 0, 0],
        ["prune_orphan_deliveries", 0, 1, 0, 0],
        ["prune_orphan_deliveries", 0, 2, 0, 0],
      ]);
      assert.deepEqual(JSON.parse(audits[2]!.summaryJson), { source: "manual", older_than: T0 + 40, limit: 2, received_at: { min: T0 + 10, max: T0 + 20 } });

      // One transaction: when the audit row cannot be written, the deliveries stay.
      const allowAudits = await inbox.refuse({ name: "no_audit", on: "INSERT", table: "knocker_prune_audits", message: "audit refused" });
      await assert.rejects(webhooks.pruneOrphanDeliveries({ olderThan: T0 + 100 }), /audit refused/);
      assert.deepEqual(await orphans(), [atCutoff]);
      await allowAudits();
      assert.deepEqual(await webhooks.pruneOrphanDeliveries({ olderThan: T0 + 100 }), { deliveriesPruned: 1 });
      await webhooks.close();
    });

    test("listPruneAudits: validation, kind and since filters, newest first, limit", async () => {
      const { webhooks, clock } = await setup(engine);
      for (const options of [null, [], { kind: "prune" }, { kind: 1 }, { since: 1.5 }, { since: "x" }, { since: -1 }, { limit: 0 },
        { limit: 1001 }, { limit: 2.5 }, { sinse: T0 }]) {
        await assert.rejects(webhooks.listPruneAudits(options as never), isCode("ERR_INVALID_ARGUMENT"), JSON.stringify(options));
      }
      for (let i = 0; i < 4; i++) {
        clock.now = T0 + i * 10;
        await webhooks.pruneEvents({ olderThan: T0 });
        await webhooks.pruneOrphanDeliveries({ olderThan: T0 });
      }
      const all = await webhooks.listPruneAudits();
      assert.equal(all.length, 8);
      assert.deepEqual(all.map((a) => a.id), [8, 7, 6, 5, 4, 3, 2, 1], "newest first");
      assert.deepEqual((await webhooks.listPruneAudits({ kind: "prune_events" })).map((a) => a.executedAt), [T0 + 30, T0 + 20, T0 + 10, T0]);
      assert.deepEqual((await webhooks.listPruneAudits({ since: T0 + 20 })).map((a) => a.executedAt), [T0 + 30, T0 + 30, T0 + 20, T0 + 20]);
      assert.deepEqual((await webhooks.listPruneAudits({ kind: "prune_orphan_deliveries", since: T0 + 30 })).map((a) => a.id), [8]);
      assert.deepEqual((await webhooks.listPruneAudits({ limit: 3 })).map((a) => a.id), [8, 7, 6]);
      assert.deepEqual(Object.keys(all[0]!).sort(), [
        "attemptsPruned", "deliveriesPruned", "eventsPruned", "executedAt", "id", "kind", "liveJobsPruned", "queueName", "summaryJson",
      ]);
      await webhooks.close();
    });
  });
}
