// The file is a Honker queue in both directions (CONTRACT §3), checked with Honker's own native
// engine. Honker runs in child processes only: it links its own SQLite, and two SQLite copies
// must never open one file in one process (see sqlite-copies.test.ts).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "node:test";
import Database from "better-sqlite3";
import { open } from "../src/index.js";
import { drain, tempDbPath } from "./support.js";

const HONKER = "@russellthehippo/honker-node-linux-x64-gnu";
const child = fileURLToPath(new URL("./fixtures/honker-child.cjs", import.meta.url));

/** Why Honker's engine cannot run here, or undefined when it can (checked in a child, as always). */
async function honkerUnavailable(): Promise<string | undefined> {
  try {
    createRequire(import.meta.url).resolve(HONKER);
  } catch {
    return `${HONKER} is not installed (it is published for Linux x64 with glibc only)`;
  }
  try {
    await promisify(execFile)(process.execPath, ["-e", `require(${JSON.stringify(HONKER)})`], { cwd: process.cwd() });
  } catch (error) {
    return `Honker's engine does not load on this machine: ${(error as { stderr?: string }).stderr?.split("\n").find((l) => l.includes("Error")) ?? error}`;
  }
  return undefined;
}
const unavailable = await honkerUnavailable();
if (unavailable) console.log(`# honker-interop: skipped, ${unavailable}`);
const withHonker = { skip: unavailable ?? false };

type Step = [string, unknown[]?] | { schema: true };

/** Run steps in one Honker transaction in a child process; each step's rows. */
async function honker(path: string, steps: Step[]): Promise<unknown[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [child, path, JSON.stringify(steps)]).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`honker child failed: ${error.stdout ?? ""}${error.stderr ?? ""}`);
  });
  return (JSON.parse(stdout) as { results: unknown[] }).results;
}

const QUEUE_TABLES = ["_honker_live", "_honker_dead", "_honker_locks", "_honker_scheduler_tasks"];

function knockerLayout(path: string) {
  const db = new Database(path, { readonly: true });
  const tables: Record<string, unknown[]> = {};
  for (const table of QUEUE_TABLES) {
    tables[table] = db.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid`).all(table);
  }
  const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '_honker_live' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[];
  db.close();
  return { tables, indexes };
}

test("a Knocker file's queue tables are column for column, defaults included, the ones Honker's bootstrap creates", withHonker, async () => {
  const honkerPath = tempDbPath("honker.db");
  const [honkerLayout] = (await honker(honkerPath, [{ schema: true }])) as Array<{ tables: Record<string, unknown[]>; indexes: string[] }>;
  const knockerPath = tempDbPath();
  await open(knockerPath).close();
  const knocker = knockerLayout(knockerPath);
  for (const table of QUEUE_TABLES) assert.deepEqual(knocker.tables[table], honkerLayout!.tables[table], table);
  // Every index Honker keeps on the live table exists in a Knocker file under the same name, so
  // Honker opening the file adds none (Knocker's one extra finds jobs by event id).
  assert.deepEqual(knocker.indexes.filter((name) => !honkerLayout!.indexes.includes(name)), ["_honker_live_event_v2"]);
  await honker(knockerPath, []);
  assert.deepEqual(knockerLayout(knockerPath).indexes, knocker.indexes, "Honker's bootstrap on a Knocker file adds no index");
});

test("Honker claims and acks a job Knocker enqueued, and Honker's enqueues run as Knocker events", withHonker, async () => {
  const path = tempDbPath();
  const webhooks = open(path);
  const file = new Database(path, { readonly: true }); // a connection of the test's own, to look at the queue
  const handled: Array<{ id: number; body: string }> = [];
  webhooks.endpoint("orders", { path: "/orders" }).handle((event) => void handled.push({ id: event.id, body: event.body.toString() }));
  const first = await webhooks.receive({ endpoint: "orders", body: '{"order":1}', headers: {}, dedupeKey: "order-1" });
  const second = await webhooks.receive({ endpoint: "orders", body: '{"order":2}', headers: {}, dedupeKey: "order-2" });

  // Honker takes both of Knocker's jobs and acks them, then puts the work back its own two
  // ways: honker_enqueue(), and a plain INSERT that leaves everything else to the defaults.
  const [claimed, ack1, ack2, enqueued, inserted] = await honker(path, [
    ["SELECT honker_claim_batch(?1, ?2, ?3, ?4) AS jobs", [webhooks.queueName, "honker-worker", 10, 30]],
    ["SELECT honker_ack(?1, ?2) AS acked", [1, "honker-worker"]],
    ["SELECT honker_ack(?1, ?2) AS acked", [2, "honker-worker"]],
    ["SELECT honker_enqueue(?1, ?2, NULL, NULL, 0, 3, NULL) AS id", [webhooks.queueName, JSON.stringify({ event_id: first.eventId })]],
    ["INSERT INTO _honker_live (queue, payload) VALUES (?1, ?2) RETURNING id, state, run_at, created_at, max_attempts", [webhooks.queueName, JSON.stringify({ event_id: second.eventId })]],
  ]) as Array<Array<Record<string, unknown>>>;
  const jobs = JSON.parse(claimed![0]!.jobs as string) as Array<{ id: number; queue: string; payload: string; worker_id: string; attempts: number }>;
  assert.deepEqual(jobs.map((job) => ({ id: job.id, payload: JSON.parse(job.payload), attempts: job.attempts })), [
    { id: 1, payload: { event_id: first.eventId }, attempts: 1 },
    { id: 2, payload: { event_id: second.eventId }, attempts: 1 },
  ]);
  assert.deepEqual([ack1![0]!.acked, ack2![0]!.acked], [1, 1]);
  assert.equal(enqueued![0]!.id, 3);
  const row = inserted![0]!;
  assert.equal(row.id, 4);
  assert.equal(row.state, "pending");
  assert.equal(row.max_attempts, 3);
  assert.ok(Math.abs((row.run_at as number) - Date.now() / 1000) < 5 && row.created_at === row.run_at, JSON.stringify(row));
  assert.equal(handled.length, 0, "nothing ran while Honker held the jobs");

  // Knocker's worker (in this process, woken by another process's commit) runs Honker's jobs.
  await drain(webhooks, () => handled.length === 2);
  assert.deepEqual(handled, [{ id: first.eventId, body: '{"order":1}' }, { id: second.eventId, body: '{"order":2}' }]);
  assert.equal((await webhooks.getEvent(first.eventId!))!.status, "handled");
  assert.equal((await webhooks.getEvent(second.eventId!))!.status, "handled");
  assert.equal(file.prepare("SELECT COUNT(*) FROM _honker_live").pluck().get(), 0);
  file.close();
  await webhooks.close();
});

test("Knocker opens a file Honker created and ingests into it, leaving Honker's own jobs to Honker", withHonker, async () => {
  const path = tempDbPath("honker.db");
  const [made] = (await honker(path, [["SELECT honker_enqueue('emails', '{\"to\":\"alice\"}', NULL, NULL, 0, 3, NULL) AS id"]])) as Array<Array<{ id: number }>>;
  assert.equal(made![0]!.id, 1);

  const webhooks = open(path);
  const file = new Database(path, { readonly: true }); // a connection of the test's own, to look at the file
  assert.equal(file.pragma("user_version", { simple: true }), 7);
  const handled: number[] = [];
  webhooks.endpoint("orders", { path: "/orders" }).handle((event) => void handled.push(event.id));
  const result = await webhooks.receive({ endpoint: "orders", body: "{}", headers: {} });
  assert.equal(result.statusCode, 204);
  await drain(webhooks, () => handled.length === 1);
  assert.deepEqual(handled, [result.eventId]);
  assert.equal(file.pragma("integrity_check", { simple: true }), "ok");

  // Honker still finds and finishes its own job; Knocker's job id came after it.
  const [claimed, acked] = (await honker(path, [
    ["SELECT honker_claim_batch('emails', 'honker-worker', 10, 30) AS jobs"],
    ["SELECT honker_ack(1, 'honker-worker') AS acked"],
  ])) as Array<Array<Record<string, unknown>>>;
  assert.deepEqual((JSON.parse(claimed![0]!.jobs as string) as Array<{ id: number; payload: string }>).map((j) => [j.id, j.payload]), [[1, '{"to":"alice"}']]);
  assert.equal(acked![0]!.acked, 1);
  assert.equal(file.prepare("SELECT seq FROM sqlite_sequence WHERE name = '_honker_live'").pluck().get(), 2);
  file.close();
  await webhooks.close();
});
