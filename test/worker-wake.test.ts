// CONTRACT §5 / issue 2: an idle worker wakes within a few ms for a commit made by another
// process (it polls PRAGMA data_version), and idling costs next to no CPU. The worker runs in a
// child process; this process commits receipts to the same file.
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { test } from "node:test";
import Database from "better-sqlite3";
import { open } from "../src/index.js";
import { tempDbPath } from "./support.js";
import { Child, fixture, median, sleep } from "./support/processes.js";

const SAMPLES = 9;
const WAKE_LIMIT_MS = 50;
const IDLE_WINDOW_MS = 2000;
const IDLE_CPU_LIMIT = 0.02; // of one core

test("an idle worker in another process wakes within 50 ms of every commit and idles under 2% of a core", async (t) => {
  const path = tempDbPath();
  const db = new Database(path); // the app's connection, which also holds its business table
  const webhooks = open(db); // durability "full" on both sides, the default
  t.after(async () => {
    await webhooks.close();
    db.close();
  });
  db.exec("CREATE TABLE business (event_key TEXT NOT NULL UNIQUE, event_id INTEGER NOT NULL, worker TEXT NOT NULL)");
  const acme = webhooks.endpoint("acme", { path: "/acme" });
  // The moment this process's commit returned (same clock as the child's handler timestamps).
  let committedAt = 0;
  webhooks.on("ingest:commit", ({ ok }) => {
    if (ok) committedAt = performance.timeOrigin + performance.now();
  });

  const worker = new Child(fixture("worker-child.ts"), [JSON.stringify({ path, options: {}, mode: "worker", reportEach: true })]);
  t.after(() => worker.kill());
  await worker.next("ready", 30_000);
  await sleep(300); // let the worker settle into its idle wait

  const latencies: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    await sleep(randomInt(150, 400)); // idle again, at a random phase of its poll
    const { eventId } = await acme.receive({ body: JSON.stringify({ n: i }), dedupeKey: `wake-${i}` });
    const commitTime = committedAt;
    const handled = await worker.next("handler", 10_000, (m) => m.eventId === eventId);
    latencies.push((handled.t as number) - commitTime);
  }
  const wake = median(latencies);
  t.diagnostic(`commit → handler start (ms): ${latencies.map((ms) => ms.toFixed(1)).join(", ")}; median ${wake.toFixed(1)}`);
  const worst = Math.max(...latencies);
  assert.ok(worst < WAKE_LIMIT_MS, `slowest wake ${worst.toFixed(1)} ms (limit ${WAKE_LIMIT_MS} ms)`);
  assert.ok(latencies.every((ms) => ms > 0), "a handler cannot start before the commit it reacts to");

  // Idle CPU: nothing commits during the window; the worker measures its own process.
  const lastId = (await webhooks.listEvents({ limit: 1 }))[0]!.id;
  const deadline = Date.now() + 10_000;
  while ((await webhooks.getEvent(lastId))!.status !== "handled" && Date.now() < deadline) await sleep(20);
  await sleep(200);
  worker.send({ type: "cpu", ms: IDLE_WINDOW_MS });
  const cpu = await worker.next("cpu", IDLE_WINDOW_MS + 10_000);
  const cpuMs = ((cpu.userUs as number) + (cpu.systemUs as number)) / 1000;
  const share = cpuMs / (cpu.ms as number);
  t.diagnostic(`idle worker CPU: ${cpuMs.toFixed(1)} ms over ${(cpu.ms as number).toFixed(0)} ms = ${(share * 100).toFixed(2)}% of a core`);
  assert.ok(share < IDLE_CPU_LIMIT, `idle worker used ${(share * 100).toFixed(2)}% of a core (limit ${IDLE_CPU_LIMIT * 100}%)`);

  worker.send({ type: "stop" });
  const stopped = await worker.next("stopped", 10_000);
  assert.equal(stopped.handlerCalls, SAMPLES);
  assert.equal(stopped.errors, 0);
  assert.equal((await worker.closed).code, 0, worker.stderr);
});
