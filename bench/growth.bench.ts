// Ingest and drain with a stored history: the same new work on files that already hold 0, 100,000
// and 1,000,000 handled events (BENCH_GROWTH_SIZES), side by side in the same run.
//
// Each history file is created by Knocker (open(), the endpoint registered, closed) and then
// filled with raw SQL: handled Stripe-like events (~300 B bodies, the headers Stripe sends),
// one valid delivery each plus a retried duplicate delivery for every 25th, and one `handled`
// attempt each, spread over the last 30 days. Event ids (the dedupe keys) are scattered like
// real provider ids, not in key order. On each file, in child processes of this build
// (bench/workload.ts, one per measurement): receive() x64 of BENCH_GROWTH_N new Stripe-signed
// receipts (durability "full"), then runWorker() with a no-op transactional handler over those
// new events. After each round the new rows are deleted again, so every round sees exactly the
// stated history. Rounds rotate the order of the files; the table shows medians.
// Target: both rates within ±20% of the 0 row.
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { open } from "knocker";
import { SECRET, STRIPE_HEADERS } from "./workload.js";

const SIZES = (process.env.BENCH_GROWTH_SIZES ?? "0,100000,1000000").split(",").map(Number);
const N = Number(process.env.BENCH_GROWTH_N ?? 10_000);
const ROUNDS = Number(process.env.BENCH_GROWTH_ROUNDS ?? 5);
const TOLERANCE = 0.2;
const DAY = 86_400;
const SEED_CHUNK = 100_000;
/** Diagnostic: create the files with another page size than SQLite's default (4096). */
const PAGE_SIZE = process.env.BENCH_GROWTH_PAGE_SIZE === undefined ? undefined : Number(process.env.BENCH_GROWTH_PAGE_SIZE);

const repo = fileURLToPath(new URL("..", import.meta.url));
const workloadScript = fileURLToPath(new URL("./workload.ts", import.meta.url));
const thisModule = join(repo, "dist", "index.js");
if (!existsSync(thisModule)) throw new Error(`${thisModule} is missing: run \`npm run --silent build\` first (npm run bench does)`);

const dir = mkdtempSync(join(tmpdir(), "knocker-bench-growth-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

const EVENT_TYPES = ["checkout.session.completed", "invoice.paid", "customer.subscription.updated", "payment_intent.succeeded"];

/**
 * Events i in [@from, @to]: received at @start + i * @span / @size (the history spread over 30 days).
 * better-sqlite3 binds numbers as REAL: the casts keep i and the times integers, as receive() writes them.
 * The event id starts with a bijection of i (Knuth's multiplicative hash mod 2^32; two more such
 * hashes fill it to 24 hex digits), so ids are unique and scattered like real ones; the dedupe
 * key is the event id, as Stripe's provider sets it. Every column receive() writes is filled;
 * body_identity stays NULL as it does for Stripe (which signs the event id).
 */
const SEED_EVENTS = `
  WITH RECURSIVE seq(i) AS (SELECT CAST(@from AS INTEGER) UNION ALL SELECT i + 1 FROM seq WHERE i < @to),
  rows AS (
    SELECT i, CAST(@start AS INTEGER) + (i * CAST(@span AS INTEGER)) / CAST(@size AS INTEGER) AS t,
      printf('evt_%08x%08x%08x', (i * 2654435761) % 4294967296, (i * 2246822519) % 4294967296, (i * 3266489917) % 4294967296) AS eid,
      CASE i % 4 ${EVENT_TYPES.map((type, k) => `WHEN ${k} THEN '${type}'`).join(" ")} END AS type
    FROM seq)
  INSERT INTO knocker_events (endpoint_id, received_at, provider_event_id, provider_delivery_id, event_type, method,
    headers_json, body_blob, query_json, dedupe_key, status, attempt_count, handled_at, last_error, body_identity)
  SELECT @endpoint, t, eid, NULL, type, 'POST',
    json_object('content-type', '${STRIPE_HEADERS["content-type"]}', 'user-agent', '${STRIPE_HEADERS["user-agent"]}',
      'stripe-signature', printf('t=%d,v1=%s', t, lower(hex(randomblob(32))))),
    CAST(json_object('id', eid, 'object', 'event', 'api_version', '2024-06-20', 'created', t, 'type', type,
      'livemode', json('false'), 'data', json_object('object', json_object('id', 'cs_' || substr(eid, 5), 'amount_total', 4200,
        'currency', 'eur', 'customer', 'cus_Q2xYk3', 'metadata', json_object('order', CAST(i AS TEXT))))) AS BLOB),
    '{}', eid, 'handled', 1, t + 1, NULL, NULL
  FROM rows`;

/** The delivery of each event in an id range, as receive() copies it (copyDeliveriesOfEvents). */
const SEED_DELIVERIES = `
  INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id, event_type,
    method, headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key, body_length, body_sha256)
  SELECT endpoint_id, id, received_at, provider_event_id, provider_delivery_id, event_type,
    method, headers_json, body_blob, query_json, 1, NULL, dedupe_key, NULL, NULL
  FROM knocker_events WHERE id BETWEEN @first AND @last ORDER BY id`;

/** Stripe retried every 25th event an hour later: a second, duplicate delivery of the same body. */
const SEED_RETRIES = `
  INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, provider_delivery_id, event_type,
    method, headers_json, body_blob, query_json, signature_valid, signature_error, dedupe_key, body_length, body_sha256)
  SELECT endpoint_id, id, received_at + 3600, provider_event_id, provider_delivery_id, event_type,
    method, json_set(headers_json, '$.stripe-signature', printf('t=%d,v1=%s', received_at + 3600, lower(hex(randomblob(32))))),
    body_blob, query_json, 1, NULL, dedupe_key, NULL, NULL
  FROM knocker_events WHERE id BETWEEN @first AND @last AND id % 25 = 0 ORDER BY id`;

const SEED_ATTEMPTS = `
  INSERT INTO knocker_attempts (event_id, attempted_at, outcome, error, duration_ms)
  SELECT id, handled_at, 'handled', NULL, abs(random()) % 40 FROM knocker_events WHERE id BETWEEN @first AND @last ORDER BY id`;

interface HistoryFile {
  size: number;
  path: string;
  seedSeconds: number;
  /** Largest ids of the history: rows above them are a round's new work. */
  last: { event: number; delivery: number; attempt: number };
}

async function historyFile(size: number): Promise<HistoryFile> {
  const path = join(dir, `history-${size}.db`);
  if (PAGE_SIZE !== undefined) {
    const empty = new Database(path);
    empty.pragma(`page_size = ${PAGE_SIZE}`);
    empty.exec("VACUUM"); // an empty file takes the page size now
    empty.close();
  }
  const setup = open(path, { durability: "normal" });
  setup.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  await setup.close();

  const started = performance.now();
  const db = new Database(path);
  // A bulk load of a throwaway file: no journal, no syncs, the indexes' pages kept in memory.
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -1000000");
  const endpointId = db.prepare("SELECT id FROM knocker_endpoints WHERE name = 'stripe'").pluck().get() as number;
  const events = db.prepare(SEED_EVENTS);
  const deliveries = db.prepare(SEED_DELIVERIES);
  const retries = db.prepare(SEED_RETRIES);
  const attempts = db.prepare(SEED_ATTEMPTS);
  const start = Math.floor(Date.now() / 1000) - 30 * DAY;
  // The indexes on time-ordered columns are dropped for the load and rebuilt afterwards from
  // their own CREATE statements: rows arrive in their order, so the rebuilt index is the one the
  // inserts would have grown, only sooner. The dedupe index stays: its scattered keys give it
  // half-full leaves when grown one insert at a time, where a rebuild would pack every leaf full
  // (as after a VACUUM), and the first new receipts would then split a leaf each, writing ~1.7x
  // the bytes of later rounds (measured).
  const indexes = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
    AND tbl_name IN ('knocker_events', 'knocker_deliveries', 'knocker_attempts') AND name <> 'knocker_events_dedupe'`)
    .all() as Array<{ name: string; sql: string }>;
  db.transaction(() => {
    if (size > 0) for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
    for (let from = 0; from < size; from += SEED_CHUNK) {
      const to = Math.min(size, from + SEED_CHUNK) - 1;
      const firstId = Number(db.prepare("SELECT COALESCE(MAX(id), 0) + 1 FROM knocker_events").pluck().get());
      const lastId = Number(events.run({ from, to, start, span: 30 * DAY, size, endpoint: endpointId }).lastInsertRowid);
      deliveries.run({ first: firstId, last: lastId });
      retries.run({ first: firstId, last: lastId });
      attempts.run({ first: firstId, last: lastId });
    }
    if (size > 0) for (const index of indexes) db.exec(index.sql);
  })();
  db.pragma("journal_mode = WAL");
  const max = (table: string) => Number(db.prepare(`SELECT COALESCE(MAX(id), 0) FROM ${table}`).pluck().get());
  const last = { event: max("knocker_events"), delivery: max("knocker_deliveries"), attempt: max("knocker_attempts") };
  db.close();
  // On disk before anything is measured: no writeback of the load competing with the runs' syncs.
  const fd = openSync(path, "r+");
  fsyncSync(fd);
  closeSync(fd);
  return { size, path, seedSeconds: (performance.now() - started) / 1000, last };
}

/** Delete a round's new rows (Knocker is closed: its child process has exited). */
function reset(file: HistoryFile): void {
  const db = new Database(file.path);
  db.transaction(() => {
    db.prepare("DELETE FROM knocker_attempts WHERE id > ?").run(file.last.attempt);
    db.prepare("DELETE FROM knocker_deliveries WHERE id > ?").run(file.last.delivery);
    db.prepare("DELETE FROM knocker_events WHERE id > ?").run(file.last.event);
    db.prepare("DELETE FROM _honker_live").run();
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

interface Run {
  perSecond: number;
  cpuSeconds: number;
  wchar: number;
  rchar: number;
  syscw: number;
  syscr: number;
}

function child(workload: "ingest" | "drain", file: string, n: number): Run {
  const out = execFileSync(process.execPath, ["--import", "tsx", workloadScript, thisModule, workload, file, String(n)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 10 * 60_000,
  });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Run;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const files: HistoryFile[] = [];
for (const size of SIZES) files.push(await historyFile(size));
const runs = files.map(() => ({ ingest: [] as Run[], drain: [] as Run[] }));
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < files.length; k++) {
    const f = (k + round) % files.length;
    const file = files[f]!;
    runs[f]!.ingest.push(child("ingest", file.path, N));
    runs[f]!.drain.push(child("drain", file.path, N));
    reset(file);
  }
}

const format = (rate: number) => Math.round(rate).toLocaleString("en-US");
const mib = (path: string) => `${Math.round(statSync(path).size / 2 ** 20).toLocaleString("en-US")} MiB`;
console.log(`\nGrowth — the same new work on files with a stored history; this build, Node ${process.version}, WAL, ` +
  `durability "full"${PAGE_SIZE === undefined ? "" : `, page_size ${PAGE_SIZE}`}; ${N} new stripe-signed receipts (~300 B) via receive() x64, then drained by runWorker() ` +
  `(no-op transactional handler), event ids ${process.env.BENCH_EVENT_IDS === "ordered" ? "in increasing order (BENCH_EVENT_IDS=ordered)" : "random"}; ` +
  `${ROUNDS} rounds, file order rotating, one child process per measurement; medians`);
const reference = files.findIndex((file) => file.size === 0);
const base = reference >= 0 ? reference : 0;
const rate = (list: Run[]) => median(list.map((run) => run.perSecond));
const baseIngest = rate(runs[base]!.ingest);
const baseDrain = rate(runs[base]!.drain);
console.log(`| stored history | receive() x64 per s | vs ${files[base]!.size.toLocaleString("en-US")} | drain per s | vs ${files[base]!.size.toLocaleString("en-US")} | within ±${TOLERANCE * 100}% of the ${files[base]!.size.toLocaleString("en-US")} row |`);
console.log("|---|---:|---:|---:|---:|---|");
files.forEach((file, f) => {
  const ingest = rate(runs[f]!.ingest);
  const drain = rate(runs[f]!.drain);
  const within = (ratio: number) => Math.abs(ratio - 1) <= TOLERANCE;
  const misses = [within(ingest / baseIngest) ? null : "receive", within(drain / baseDrain) ? null : "drain"].filter(Boolean);
  const verdict = f === base ? "(reference)" : misses.length === 0 ? "met" : `NOT met (${misses.join(", ")})`;
  console.log(`| ${file.size.toLocaleString("en-US")} handled events | ${format(ingest)} | ${(ingest / baseIngest).toFixed(2)}x | ` +
    `${format(drain)} | ${(drain / baseDrain).toFixed(2)}x | ${verdict} |`);
});
console.log("\nHistory files (seeded with raw SQL; file size after the last round) and every run, per second:");
files.forEach((file, f) => {
  const rates = (list: Run[]) => list.map((run) => format(run.perSecond)).join(", ");
  const ratios = (list: Run[], reference: Run[]) => list.map((run, i) => `${(run.perSecond / reference[i]!.perSecond).toFixed(2)}x`).join(", ");
  console.log(`- ${file.size.toLocaleString("en-US")}: ${mib(file.path)}, seeded in ${file.seedSeconds.toFixed(1)} s; ` +
    `receive() x64 ${rates(runs[f]!.ingest)}; drain ${rates(runs[f]!.drain)}` +
    (f === base ? "" : `; each round against the ${files[base]!.size.toLocaleString("en-US")} file's run of the same round: ` +
      `receive() ${ratios(runs[f]!.ingest, runs[base]!.ingest)}, drain ${ratios(runs[f]!.drain, runs[base]!.drain)}`));
});
// Where the time goes, per new event (medians over the rounds): the process's CPU, and what it
// passed to write() and read() syscalls (WAL frames, checkpoints, pages read from the OS cache).
console.log("\nPer new event (medians): CPU of the measuring process, bytes written and read through syscalls, write and read calls");
console.log("| stored history | receive(): CPU | written | read | writes / reads | drain: CPU | written | read | writes / reads |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
const perEvent = (list: Run[], pick: (run: Run) => number) => median(list.map(pick)) / N;
const costs = (list: Run[]) => [
  `${(perEvent(list, (r) => r.cpuSeconds) * 1e6).toFixed(0)} µs`,
  `${(perEvent(list, (r) => r.wchar) / 1024).toFixed(1)} KiB`,
  `${(perEvent(list, (r) => r.rchar) / 1024).toFixed(1)} KiB`,
  `${perEvent(list, (r) => r.syscw).toFixed(2)} / ${perEvent(list, (r) => r.syscr).toFixed(2)}`,
].join(" | ");
files.forEach((file, f) => console.log(`| ${file.size.toLocaleString("en-US")} | ${costs(runs[f]!.ingest)} | ${costs(runs[f]!.drain)} |`));

/**
 * The query plans of every statement receive() and the worker prepare (this build's own SQL
 * modules, compiled into dist/), on the largest file: a scan of a history table would show here.
 */
async function queryPlans(file: HistoryFile): Promise<void> {
  const modules = [["store/sqlite/plans/receipts.js", "prepareReceiptStatements"], ["store/sqlite/plans/queue.js", "prepareQueueStatements"],
    ["store/sqlite/plans/events.js", "prepareEventStatements"]] as const;
  const db = new Database(file.path);
  const plans: Array<[string, string]> = [];
  try {
    for (const [module, name] of modules) {
      const prepare = ((await import(new URL(`../dist/${module}`, import.meta.url).href)) as Record<string, (db: Database.Database) => object>)[name]!;
      for (const [key, statement] of Object.entries(prepare(db))) {
        if (typeof statement === "function") continue;
        const explain = db.prepare(`EXPLAIN QUERY PLAN ${(statement as { source: string }).source}`);
        for (let params = 0; ; params++) {
          try {
            plans.push([key, (explain.all(...Array(params).fill(1)) as Array<{ detail: string }>).map((row) => row.detail).join("; ")]);
            break;
          } catch (error) {
            if (params > 64 || !String(error).includes("parameter")) throw error;
          }
        }
      }
    }
  } catch (error) {
    console.log(`\n(query plans not shown: ${String(error)})`);
    return;
  } finally {
    db.close();
  }
  console.log(`\nQuery plans of the ingest, queue and event statements on the ${file.size.toLocaleString("en-US")} file:`);
  for (const [key, plan] of plans) console.log(`- ${key}: ${plan || "(plain INSERT)"}`);
}
await queryPlans(files.reduce((largest, file) => (file.size > largest.size ? file : largest)));
