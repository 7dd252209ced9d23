// Ordered processing per key (CONTRACT §11): what ordering costs a drain, and what the claim
// check costs an inbox that orders nothing. Three tables, each run in this process on fresh
// SQLite files (and the first on Postgres too):
//
// 1. Ordered against unordered: the same N events (50 keys, received interleaved: k0, k1, …, k49,
//    k0, …), drained once with an orderingKey on their endpoint and once without, rounds
//    alternating which goes first; medians. Two handlers: a no-op transactional one (the worker's
//    own cost is all there is, so the claim check shows most) and an async one that awaits 2 ms
//    (an API call), at concurrency 8. Target: ordered >= 0.8x unordered.
// 2. A/B, the claim change on unkeyed work: the previous build (BENCH_ORDERING_BASE, default the
//    merge base with main, compiled from git like bench/release.bench.ts does) against this build,
//    each drain of N unkeyed events in a child process of its own (bench/workload.ts), builds
//    alternating; medians of the rate and of the CPU per event. For information, the same for
//    receive() x64 (durability "full"), whose path the key's evaluation joined.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { open, type Knocker, type OpenOptions } from "knocker";
import { startPostgres, type TestPostgres } from "../test/support/postgres.js";

const N = Number(process.env.BENCH_ORDERING_N ?? 5000);
const KEYS = Number(process.env.BENCH_ORDERING_KEYS ?? 50);
const ROUNDS = Number(process.env.BENCH_ORDERING_ROUNDS ?? 5);
const AB_ROUNDS = Number(process.env.BENCH_ORDERING_AB_ROUNDS ?? 6);
const AB_N = Number(process.env.BENCH_ORDERING_AB_N ?? 8000);
const AB_INGEST_N = Number(process.env.BENCH_ORDERING_AB_INGEST_N ?? 10_000);
const PG_N = Number(process.env.BENCH_ORDERING_PG_N ?? 3000);
const ASYNC_MS = 2;
const TARGET = 0.8;

const repo = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "knocker-bench-ordering-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));
let fileNo = 0;
const freshFile = () => join(dir, `run-${fileNo++}.db`);

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const format = (rate: number) => Math.round(rate).toLocaleString("en-US");

type Handler = "transactional" | "async";
type Target = () => Promise<string>;

/** N events of KEYS keys, interleaved, stored first (not timed); keyed only when `ordered`. */
async function seed(target: string, n: number, ordered: boolean): Promise<void> {
  const webhooks = open<"sqlite" | "postgres">(target, { durability: "normal" });
  const ep = webhooks.endpoint("orders", { path: "/orders", ...(ordered ? { orderingKey: (r) => r.json<{ key: string }>().key } : {}) });
  const bodies = Array.from({ length: n }, (_, i) => JSON.stringify({ key: `customer-${i % KEYS}`, n: Math.floor(i / KEYS) }));
  for (let at = 0; at < n; at += 256) await Promise.all(bodies.slice(at, at + 256).map((body) => ep.receive({ body })));
  await webhooks.close();
}

/** Events handled per second by one runWorker() until all `n` are handled. */
async function drain(target: string, n: number, handler: Handler): Promise<number> {
  const options: OpenOptions = { durability: "full" };
  const webhooks: Knocker<"sqlite" | "postgres"> = open(target, options);
  const ep = webhooks.endpoint("orders", { path: "/orders" });
  if (handler === "transactional") ep.handle(() => {});
  else ep.handle(() => new Promise<void>((resolve) => setTimeout(resolve, ASYNC_MS)), { transaction: false });
  let handled = 0;
  let unhandled = 0;
  const controller = new AbortController();
  webhooks.on("worker:batch", (batch) => {
    handled += batch.handled;
    unhandled += batch.failed + batch.dead;
    if (handled + unhandled >= n) controller.abort();
  });
  const started = performance.now();
  await webhooks.runWorker({ signal: controller.signal, concurrency: 8 });
  const seconds = (performance.now() - started) / 1000;
  await webhooks.close();
  if (unhandled > 0) throw new Error(`${unhandled} events failed`);
  return n / seconds;
}

async function orderedAgainstUnordered(engine: string, target: Target, n: number, handler: Handler) {
  const rates = { ordered: [] as number[], unordered: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (["unordered", "ordered"] as const) : (["ordered", "unordered"] as const);
    for (const kind of order) {
      const where = await target();
      await seed(where, n, kind === "ordered");
      rates[kind].push(await drain(where, n, handler));
    }
  }
  const ordered = median(rates.ordered);
  const unordered = median(rates.unordered);
  const paired = median(rates.ordered.map((rate, i) => rate / rates.unordered[i]!));
  const ratio = ordered / unordered;
  return {
    line: `| ${engine} | ${handler === "async" ? `async, awaits ${ASYNC_MS} ms, concurrency 8` : "transactional, no-op"} | ${n} | ` +
      `${format(unordered)} | ${format(ordered)} | ${ratio.toFixed(2)}x | ${ratio >= TARGET ? "met" : "NOT met"} | ${paired.toFixed(2)}x |`,
    detail: `- ${engine}, ${handler}: unordered ${rates.unordered.map(format).join(", ")}; ordered ${rates.ordered.map(format).join(", ")}`,
  };
}

// ---- the A/B of the claim change, on unkeyed events ------------------------------------------

const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();

function buildBase(commit: string): string {
  const base = join(dir, "base");
  mkdirSync(base);
  execFileSync("sh", ["-c", 'git archive --format=tar "$1" | tar -x -C "$2"', "sh", commit, base], { cwd: repo, stdio: "inherit" });
  symlinkSync(realpathSync(join(repo, "node_modules")), join(base, "node_modules"), "dir");
  execFileSync(join(repo, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: base, stdio: "inherit" });
  return join(base, "dist", "index.js");
}

interface Run {
  perSecond: number;
  cpuSeconds: number;
}

function workload(module: string, kind: "seed" | "drain" | "ingest", file: string, n: number): Run {
  const script = fileURLToPath(new URL("./workload.ts", import.meta.url));
  const out = execFileSync(process.execPath, ["--import", "tsx", script, module, kind, file, String(n)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Run;
}

function abLines() {
  const baseRef = process.env.BENCH_ORDERING_BASE ?? git("merge-base", "HEAD", "main");
  const baseCommit = git("rev-parse", "--verify", `${baseRef}^{commit}`);
  const current = join(repo, "dist", "index.js");
  if (!existsSync(current)) throw new Error(`${current} is missing: run \`npm run --silent build\` first (npm run bench does)`);
  const builds = { previous: buildBase(baseCommit), current };
  const measure = (kind: "drain" | "ingest", n: number) => {
    const runs = { previous: [] as Run[], current: [] as Run[] };
    for (let round = 0; round < AB_ROUNDS; round++) {
      const order = round % 2 === 0 ? (["previous", "current"] as const) : (["current", "previous"] as const);
      for (const build of order) {
        const file = freshFile();
        if (kind === "drain") workload(builds[build], "seed", file, n);
        runs[build].push(workload(builds[build], kind, file, n));
        for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
      }
    }
    const rate = (list: Run[]) => median(list.map((run) => run.perSecond));
    const cpu = (list: Run[]) => median(list.map((run) => run.cpuSeconds)) / n;
    const paired = median(runs.current.map((run, i) => run.perSecond / runs.previous[i]!.perSecond));
    const name = kind === "drain" ? `runWorker(), no-op transactional handler, ${n} unkeyed events` : `receive() x64, durability "full", ${n} unkeyed receipts`;
    return {
      line: `| ${name} | ${format(rate(runs.previous))} | ${format(rate(runs.current))} | ${(rate(runs.current) / rate(runs.previous)).toFixed(2)}x | ` +
        `${paired.toFixed(2)}x | ${(cpu(runs.previous) * 1e6).toFixed(1)} µs | ${(cpu(runs.current) * 1e6).toFixed(1)} µs |`,
      detail: `- ${name}: previous ${runs.previous.map((r) => format(r.perSecond)).join(", ")}; this build ${runs.current.map((r) => format(r.perSecond)).join(", ")}`,
    };
  };
  const measured = [measure("drain", AB_N), measure("ingest", AB_INGEST_N)];
  return {
    header: `A/B of the claim change on unkeyed events — previous: ${baseRef.slice(0, 12)} (before ordering), this build: ${git("rev-parse", "--short=12", "HEAD")}` +
      `${git("status", "--porcelain", "--untracked-files=no") === "" ? "" : " + uncommitted changes"}; SQLite, bench/workload.ts, ` +
      `${AB_ROUNDS} rounds, builds alternating, each run a child process; medians`,
    lines: measured.map((m) => m.line),
    details: measured.map((m) => m.detail),
  };
}

const sqlite: Target = async () => freshFile();
const lines = [
  await orderedAgainstUnordered("SQLite", sqlite, N, "transactional"),
  await orderedAgainstUnordered("SQLite", sqlite, N, "async"),
];
let server: TestPostgres | undefined;
if (process.env.BENCH_ORDERING_POSTGRES !== "0") {
  server = await startPostgres();
  const postgres: Target = () => server!.createDatabase();
  lines.push(await orderedAgainstUnordered("Postgres", postgres, PG_N, "transactional"));
  lines.push(await orderedAgainstUnordered("Postgres", postgres, PG_N, "async"));
  await server.stop();
}

console.log(`\nOrdered against unordered drain — ${KEYS} keys, events received interleaved; one runWorker() (batchSize 10), durability "full"; ` +
  `Node ${process.version}; ${ROUNDS} rounds, the two alternating; medians (SQLite: a fresh file per run; Postgres: embedded PG 18, a fresh database per run)`);
console.log(`| engine | handler | events | unordered per s | ordered per s | ordered / unordered | target >= ${TARGET.toFixed(1)}x | median of the rounds' ratios |`);
console.log("|---|---|---:|---:|---:|---:|---|---:|");
for (const { line } of lines) console.log(line);
console.log("\nEvery run, per second:");
for (const { detail } of lines) console.log(detail);

if (process.env.BENCH_ORDERING_AB !== "0") {
  const ab = abLines();
  console.log(`\n${ab.header}`);
  console.log("| workload | previous per s | this build per s | this / previous | median of the rounds' ratios | CPU per event, previous | CPU per event, this build |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const line of ab.lines) console.log(line);
  for (const detail of ab.details) console.log(detail);
}
