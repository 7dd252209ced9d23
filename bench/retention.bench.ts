// Retention under load: prune 100,000 handled events (each with one delivery and one attempt)
// through runRetention() in `eventLimit`-sized batches while receive() calls keep arriving, and
// compare the receive() latency during the prune with the latency of the same load without a
// prune, measured in the same run on the same machine.
//
// Latency is measured open-loop: receipts are due at a fixed rate and each one's latency counts
// from when it was due, so time the event loop spends inside a prune batch shows up in the
// numbers instead of silently delaying the next arrival.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { open, RetentionPolicy, type Knocker } from "knocker";

const EVENTS = Number(process.env.BENCH_RETENTION_EVENTS ?? 100_000);
const LIMITS = (process.env.BENCH_RETENTION_LIMITS ?? "100,1000").split(",").map(Number);
const RATE = Number(process.env.BENCH_RETENTION_RATE ?? 500); // receipts per second
const BASELINE_S = Number(process.env.BENCH_RETENTION_BASELINE_S ?? 5);
const DAY = 86_400;

const dir = mkdtempSync(join(tmpdir(), "knocker-bench-retention-"));
let fileNo = 0;

function body(i: number): string {
  return JSON.stringify({
    id: `evt_${i.toString().padStart(10, "0")}`,
    type: "checkout.session.completed",
    data: { object: { id: `cs_${i}`, amount_total: 4200, currency: "eur", customer: "cus_123", metadata: { order: String(i) } } },
  });
}

/** A file with `n` handled events 30 days old, each with one delivery and one attempt — direct SQL, one transaction. */
async function seededFile(n: number): Promise<string> {
  const path = join(dir, `retention-${fileNo++}.db`);
  const setup = open(path);
  setup.endpoint("shop", { path: "/webhooks/shop" });
  await setup.close();
  const db = new Database(path);
  const endpointId = db.prepare("SELECT id FROM knocker_endpoints WHERE name = 'shop'").pluck().get() as number;
  const old = Math.floor(Date.now() / 1000) - 30 * DAY;
  const event = db.prepare(`INSERT INTO knocker_events (endpoint_id, received_at, provider_event_id, event_type, method, headers_json,
      body_blob, query_json, dedupe_key, status, attempt_count, handled_at)
    VALUES (?, ?, ?, 'checkout.session.completed', 'POST', '{"content-type":"application/json"}', ?, '{}', ?, 'handled', 1, ?)`);
  const delivery = db.prepare(`INSERT INTO knocker_deliveries (endpoint_id, event_id, received_at, provider_event_id, event_type, method,
      headers_json, body_blob, query_json, signature_valid, dedupe_key)
    VALUES (?, ?, ?, ?, 'checkout.session.completed', 'POST', '{"content-type":"application/json"}', ?, '{}', 1, ?)`);
  const attempt = db.prepare("INSERT INTO knocker_attempts (event_id, attempted_at, outcome, duration_ms) VALUES (?, ?, 'handled', 1)");
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const receivedAt = old + Math.floor((i * 7 * DAY) / n); // spread over a week
      const key = `evt_${i}`;
      const blob = Buffer.from(body(i));
      const id = Number(event.run(endpointId, receivedAt, key, blob, key, receivedAt + 1).lastInsertRowid);
      delivery.run(endpointId, id, receivedAt, key, blob, key);
      attempt.run(id, receivedAt + 1);
    }
  })();
  db.close();
  return path;
}

/** Endpoints live in code (their secrets are never stored): register it on every open. */
function openInbox(path: string): Knocker {
  const webhooks = open(path);
  webhooks.endpoint("shop", { path: "/webhooks/shop" });
  return webhooks;
}

interface Load {
  /** Latencies of receipts that were due since the last call. */
  take(): number[];
  stop(): Promise<void>;
}

/** Receipts due every 1000/RATE ms; each latency is measured from its due time. */
function startLoad(webhooks: Knocker): Load {
  const period = 1000 / RATE;
  let latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const t0 = performance.now();
  let sent = 0;
  let stopped = false;
  let failure: unknown;
  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    while (t0 + sent * period <= now) {
      const due = t0 + sent * period;
      const i = sent++;
      const p = webhooks
        .receive({ endpoint: "shop", body: body(i), eventType: "checkout.session.completed", dedupeKey: `live_${i}` })
        .then((result) => {
          if (result.statusCode !== 204) throw new Error(`unexpected status ${result.statusCode}`);
          latencies.push(performance.now() - due);
        })
        .catch((error: unknown) => {
          failure = error;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    setTimeout(tick, Math.max(0, t0 + sent * period - performance.now()));
  };
  tick();
  return {
    take() {
      if (failure) throw failure;
      const taken = latencies;
      latencies = [];
      return taken;
    },
    async stop() {
      stopped = true;
      await Promise.all(inFlight);
      if (failure) throw failure;
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  limit: number;
  batches: number;
  pruneS: number;
  without: number[];
  during: number[];
}

/**
 * One file, one process, one steady receive() load throughout: BASELINE_S without a prune,
 * then the prune, then BASELINE_S without again. The two quiet windows are the baseline.
 */
async function pruneUnderLoad(limit: number): Promise<Row> {
  const path = await seededFile(EVENTS);
  const webhooks = openInbox(path);
  const stop = new AbortController();
  const runs: Array<{ eventsPruned: number; batches: number }> = [];
  webhooks.on("retention:run", (run) => {
    runs.push(run);
    stop.abort();
  });
  const load = startLoad(webhooks);
  await sleep(300); // warm-up, not measured
  load.take();
  await sleep(BASELINE_S * 1000);
  const before = load.take();
  const started = performance.now();
  let failure: unknown;
  await webhooks.runRetention(new RetentionPolicy({ intervalS: 3600, eventOlderThanS: 7 * DAY, eventLimit: limit }), {
    signal: stop.signal,
    onError: (error) => {
      failure = error;
      stop.abort();
    },
  });
  const pruneS = (performance.now() - started) / 1000;
  const during = load.take();
  await sleep(BASELINE_S * 1000);
  const after = load.take();
  await load.stop();
  if (failure) throw failure;
  const pruned = runs.reduce((n, run) => n + run.eventsPruned, 0);
  const file = new Database(path, { readonly: true }); // the bench's own look at the file
  const left = file.prepare("SELECT COUNT(*) FROM knocker_events WHERE received_at < ?").pluck().get(Math.floor(Date.now() / 1000) - 7 * DAY) as number;
  const audited = file.prepare("SELECT COALESCE(SUM(events_pruned), 0) FROM knocker_prune_audits").pluck().get() as number;
  file.close();
  if (pruned !== EVENTS || audited !== EVENTS || left !== 0) {
    throw new Error(`expected ${EVENTS} events pruned, got ${pruned} (audited ${audited}, ${left} old events left)`);
  }
  await webhooks.close();
  return { limit, batches: runs[0]!.batches, pruneS, without: [...before, ...after], during };
}

const rows: Row[] = [];
for (const limit of LIMITS) rows.push(await pruneUnderLoad(limit));

console.log(
  `\nRetention under load — runRetention() prunes ${EVENTS.toLocaleString("en-US")} handled events (1 delivery + 1 attempt each, ` +
    `seeded 30 days old) in eventLimit-sized transactions, in the process that also serves ${RATE} receive()/s ` +
    `(open loop, latency counted from each receipt's due time). Baseline: the same load on the same file, ` +
    `${BASELINE_S} s before and ${BASELINE_S} s after the prune. durability "full", WAL, Node ${process.version}`,
);
console.log("| eventLimit | batches | prune time | events pruned/s | receive p50 / p99 without prune (baseline) | receive p50 / p99 during prune | p99 vs baseline |");
console.log("|---:|---:|---:|---:|---:|---:|---:|");
const ms = (v: number) => `${v.toFixed(1)} ms`;
for (const row of rows) {
  const base = percentile(row.without, 99);
  const during = percentile(row.during, 99);
  console.log(
    `| ${row.limit} | ${row.batches} | ${row.pruneS.toFixed(2)} s | ${Math.round(EVENTS / row.pruneS).toLocaleString("en-US")} | ` +
      `${ms(percentile(row.without, 50))} / ${ms(base)} (n=${row.without.length}) | ${ms(percentile(row.during, 50))} / ${ms(during)} (n=${row.during.length}) | ` +
      `${(during / base).toFixed(2)}x |`,
  );
}
rmSync(dir, { recursive: true, force: true });
