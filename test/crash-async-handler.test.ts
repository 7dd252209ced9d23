// A process SIGKILLed inside an async handler (`{ transaction: false }`): its claim, renewed by
// the heartbeat while it lived, expires after visibilityTimeoutS; another process runs the
// handler again and its finalizer writes the business row exactly once. The external effect
// (outside the database) happened twice: async handlers are at-least-once, which is why they get
// one idempotency key for every attempt. Real child processes, a real file or a real Postgres
// server (the engine matrix).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { open } from "../src/index.js";
import { tempDir } from "./support.js";
import { engineMatrix, type TestEngine } from "./support/engines.js";
import { Child, fixture, sleep } from "./support/processes.js";

type Claim = { state: string; worker_id: string; attempts: number; claim_expires_at: number };

/** The app's business table and a look at the queue, through a connection of the test's own. */
async function appConnection(engine: TestEngine, path: string) {
  if (engine.name === "sqlite") {
    const db = new Database(path);
    db.exec("CREATE TABLE business (event_id INTEGER NOT NULL UNIQUE, worker TEXT NOT NULL)");
    return {
      claims: async () => db.prepare("SELECT state, worker_id, attempts, claim_expires_at FROM _honker_live").all() as Claim[],
      business: async () => db.prepare("SELECT event_id, worker FROM business").all(),
      healthy: async () => assert.equal(db.pragma("integrity_check", { simple: true }), "ok"),
      close: async () => void db.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: path, max: 2 });
  await pool.query("CREATE TABLE public.business (event_id bigint NOT NULL UNIQUE, worker text NOT NULL)");
  return {
    claims: async () => (await pool.query("SELECT state, worker_id, attempts, claim_expires_at::int FROM knocker._honker_live")).rows as Claim[],
    business: async () => (await pool.query("SELECT event_id::int, worker FROM public.business")).rows,
    healthy: async () => {},
    close: () => pool.end(),
  };
}

for (const engine of engineMatrix()) {
  describe(engine.name, () => {
    test("killed inside an async handler: after the visibility timeout another process runs it; its finalizer's row exists exactly once", async (t) => {
      const dir = tempDir();
      const path = engine.name === "sqlite" ? join(dir, "inbox.db") : (await engine.location()).db;
      const effects = join(dir, "effects.jsonl");
      const options = { visibilityTimeoutS: 2, maxAttempts: 3 };
      const app = await appConnection(engine, path);
      const webhooks = open(path, options);
      t.after(async () => {
        await webhooks.close();
        await app.close();
      });
      const acme = webhooks.endpoint("acme", { path: "/acme" });
      const { eventId } = await acme.ingest({ body: JSON.stringify({ order: 1 }), eventType: "order.paid", dedupeKey: "order-1" });
      const spawn = (mode: "victim" | "worker") => new Child(fixture("async-worker-child.ts"), [JSON.stringify({ path, options, mode, effects })]);
      const claimOf = () => app.claims();

      const victim = spawn("victim");
      t.after(() => victim.kill());
      await victim.next("in-handler", 30_000);
      // Alive and awaiting for longer than the visibility timeout: the heartbeat keeps its claim.
      const [first] = await claimOf();
      await sleep(3000);
      const [renewed] = await claimOf();
      assert.equal(renewed!.worker_id, first!.worker_id);
      assert.ok(renewed!.claim_expires_at > first!.claim_expires_at, "the heartbeat pushed the claim's expiry out");
      victim.kill("SIGKILL");
      assert.equal((await victim.closed).signal, "SIGKILL", victim.stderr);
      const killedAt = Math.floor(Date.now() / 1000);
      assert.deepEqual(await app.business(), [], "the victim never reached its finalizer");
      assert.equal((await webhooks.getEvent(eventId!))!.status, "received");

      const rescuer = spawn("worker");
      t.after(() => rescuer.kill());
      await rescuer.next("ready", 30_000);
      const deadline = Date.now() + 20_000;
      while ((await webhooks.getEvent(eventId!))!.status !== "handled") {
        assert.ok(Date.now() < deadline, "the rescuer handles the event");
        await sleep(50);
      }
      rescuer.send({ type: "stop" });
      const stopped = await rescuer.next("stopped", 15_000);
      assert.equal((await rescuer.closed).code, 0, rescuer.stderr);
      assert.equal(stopped.handlerCalls, 1);
      assert.deepEqual(stopped.errors, []);

      assert.deepEqual(await app.business(), [{ event_id: eventId, worker: `worker-${rescuer.pid}` }]);
      const lines = readFileSync(effects, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { worker: string; key: string; attempt: number });
      assert.deepEqual(lines.map((l) => [l.worker, l.attempt]), [[`victim-${victim.pid}`, 1], [`worker-${rescuer.pid}`, 2]], "the external effect ran twice (at-least-once)");
      assert.equal(lines[0]!.key, lines[1]!.key, "with the same idempotency key");
      const attempts = await webhooks.listAttempts(eventId!);
      assert.deepEqual(attempts.map((a) => a.outcome), ["handled", "failed"]);
      assert.match(attempts[1]!.error!, /^claim expired on attempt 1 of 3 before an outcome was recorded/);
      assert.ok(attempts[0]!.attemptedAt >= killedAt, "re-run only after the dead process's claim expired");
      assert.deepEqual(await claimOf(), [], "acked");
      await app.healthy();
    });
  });
}
