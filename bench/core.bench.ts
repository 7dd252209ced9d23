// Core throughput: durable ingest and drain, each against a raw better-sqlite3 baseline that
// does the minimum durable work, measured in the same run on the same machine.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { open } from "knocker";
import { stripeSignature } from "../test/support.js";

const SYNCHRONOUS = process.env.BENCH_SYNCHRONOUS === "NORMAL" ? "NORMAL" : "FULL";
const durability = SYNCHRONOUS === "FULL" ? "full" : "normal";
const SERIAL_N = Number(process.env.BENCH_SERIAL_N ?? 1500);
const CONCURRENT_N = Number(process.env.BENCH_CONCURRENT_N ?? 12_800);
const DRAIN_N = Number(process.env.BENCH_DRAIN_N ?? 4000);
const CONCURRENCY = 64;
const SECRET = "whsec_bench";

const dir = mkdtempSync(join(tmpdir(), "knocker-bench-"));
let fileNo = 0;
const freshPath = () => join(dir, `bench-${fileNo++}.db`);

function sampleBody(i: number): string {
  return JSON.stringify({
    id: `evt_${i.toString().padStart(10, "0")}`,
    object: "event",
    type: "checkout.session.completed",
    data: { object: { id: `cs_${i}`, amount_total: 4200, currency: "eur", customer: "cus_123", metadata: { order: String(i) } } },
  });
}

function signedReceipts(n: number, offset = 0) {
  const t = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => {
    const body = sampleBody(offset + i);
    return { body, headers: { "stripe-signature": stripeSignature(body, SECRET, t) } };
  });
}

function rawDb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${SYNCHRONOUS}`);
  return db;
}

/** One INSERT of the same body per commit: what a hand-written durable webhook route does. */
function rawIngest(n: number): number {
  const db = rawDb(freshPath());
  db.exec("CREATE TABLE receipts (id INTEGER PRIMARY KEY, received_at INTEGER, headers TEXT, body BLOB)");
  const insert = db.prepare("INSERT INTO receipts (received_at, headers, body) VALUES (?, ?, ?)");
  const receipts = signedReceipts(n);
  const started = performance.now();
  for (const r of receipts) insert.run(Math.floor(Date.now() / 1000), JSON.stringify(r.headers), Buffer.from(r.body));
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return n / seconds;
}

async function knockerIngest(n: number, concurrency: number): Promise<number> {
  const webhooks = open(freshPath(), { durability });
  const stripe = webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  const receipts = signedReceipts(n);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < receipts.length) {
        const result = await stripe.receive(receipts[next++]!);
        if (result.statusCode !== 204) throw new Error(`unexpected status ${result.statusCode}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await webhooks.close();
  return n / seconds;
}

/** A file with `n` received events and their jobs, written through Knocker. */
async function seededInbox(n: number): Promise<string> {
  const path = freshPath();
  const webhooks = open(path, { durability: "normal" });
  const ep = webhooks.endpoint("stripe", { path: "/stripe" });
  const bodies = Array.from({ length: n }, (_, i) => sampleBody(i));
  for (let i = 0; i < n; i += 256) {
    await Promise.all(bodies.slice(i, i + 256).map((body, j) => ep.receive({ body, eventType: "checkout.session.completed", dedupeKey: `k${i + j}` })));
  }
  await webhooks.close();
  return path;
}

/** Per event, the minimum durable work: status update + attempt row + job delete in one transaction. */
function rawDrain(path: string, n: number): number {
  const db = rawDb(path);
  const jobs = db.prepare("SELECT id, json_extract(payload, '$.event_id') AS event_id FROM _honker_live ORDER BY id").all() as Array<{ id: number; event_id: number }>;
  const update = db.prepare("UPDATE knocker_events SET status = 'handled', attempt_count = attempt_count + 1, handled_at = ? WHERE id = ?");
  const attempt = db.prepare("INSERT INTO knocker_attempts (event_id, attempted_at, outcome, error, duration_ms) VALUES (?, ?, 'handled', NULL, 0)");
  const ack = db.prepare("DELETE FROM _honker_live WHERE id = ?");
  const one = db.transaction((job: { id: number; event_id: number }) => {
    const now = Math.floor(Date.now() / 1000);
    update.run(now, job.event_id);
    attempt.run(job.event_id, now);
    ack.run(job.id);
  });
  const started = performance.now();
  for (const job of jobs) one.immediate(job);
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return n / seconds;
}

async function knockerDrain(path: string, n: number): Promise<number> {
  const webhooks = open(path, { durability });
  webhooks.endpoint("stripe", { path: "/stripe" }).handle(() => {});
  let handled = 0;
  const controller = new AbortController();
  webhooks.on("worker:batch", (batch) => {
    handled += batch.handled;
    if (handled >= n) controller.abort();
  });
  const started = performance.now();
  await webhooks.runWorker({ signal: controller.signal });
  const seconds = (performance.now() - started) / 1000;
  await webhooks.close();
  return n / seconds;
}

const rows: Array<[string, number, number]> = [];
const rawIngestRate = rawIngest(SERIAL_N);
rows.push(["raw INSERT, one commit per receipt (baseline)", rawIngestRate, rawIngestRate]);
rows.push(["receive(), one at a time", await knockerIngest(SERIAL_N, 1), rawIngestRate]);
rows.push([`receive(), ${CONCURRENCY} concurrent callers`, await knockerIngest(CONCURRENT_N, CONCURRENCY), rawIngestRate]);
const rawDrainRate = rawDrain(await seededInbox(DRAIN_N), DRAIN_N);
rows.push(["raw drain, one transaction per event (baseline)", rawDrainRate, rawDrainRate]);
rows.push(["runWorker(), no-op handler, batch of 10", await knockerDrain(await seededInbox(DRAIN_N), DRAIN_N), rawDrainRate]);

console.log(`\nCore throughput — synchronous=${SYNCHRONOUS} (durability "${durability}"), WAL, Node ${process.version}, ` +
  `${SERIAL_N} serial / ${CONCURRENT_N} concurrent receipts (stripe-signed, ~300 B), ${DRAIN_N} events drained`);
console.log("| measurement | per second | vs baseline |");
console.log("|---|---:|---:|");
for (const [name, rate, baseline] of rows) console.log(`| ${name} | ${Math.round(rate).toLocaleString("en-US")} | ${(rate / baseline).toFixed(2)}x |`);
rmSync(dir, { recursive: true, force: true });
