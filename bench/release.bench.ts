// This build against the previous release, in the same run on the same machine: the release at
// BENCH_BASE_REF (default v0.1.0) is compiled from git into a temporary folder with this repo's
// tsc and node_modules, then both builds take turns at the same two workloads, each measurement
// in a child process of its own (bench/workload.ts), so the builds never share a process:
//
// - receive() with 64 concurrent callers of Stripe-signed receipts, durability "full";
// - drain: runWorker() with a no-op transactional handler over events first received through
//   the same build's receive() (durability "normal", not timed, in its own child process).
//
// Each round runs both builds, the order alternating from round to round (A B, B A, A B, …) so
// neither build always goes first; the table shows each build's median run and the ratio of the
// medians (the target: this build >= 0.95x the previous release on both lines), and, for
// information, the median of the rounds' own ratios (each round's two runs are seconds apart, so
// drift of the machine between rounds cancels out of it) and the ratio of the median CPU time per
// event of the measuring processes (less disturbed by other load on the machine than wall time).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BASE_REF = process.env.BENCH_BASE_REF ?? "v0.1.0";
const ROUNDS = Number(process.env.BENCH_RELEASE_ROUNDS ?? 8);
const INGEST_N = Number(process.env.BENCH_RELEASE_INGEST_N ?? 20_000);
const DRAIN_N = Number(process.env.BENCH_RELEASE_DRAIN_N ?? 8000);
const TARGET = 0.95;

const repo = fileURLToPath(new URL("..", import.meta.url));
const workloadScript = fileURLToPath(new URL("./workload.ts", import.meta.url));
const thisModule = join(repo, "dist", "index.js");
if (!existsSync(thisModule)) throw new Error(`${thisModule} is missing: run \`npm run --silent build\` first (npm run bench does)`);

const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();
const baseCommit = git("rev-parse", "--verify", `${BASE_REF}^{commit}`);
const headCommit = git("rev-parse", "HEAD");
const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";

const dir = mkdtempSync(join(tmpdir(), "knocker-bench-release-"));
const cleanUp = () => rmSync(dir, { recursive: true, force: true });
process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

/** The release's sources from git, compiled with this repo's tsc against this repo's node_modules. */
function buildRelease(): string {
  const base = join(dir, "base");
  mkdirSync(base);
  execFileSync("sh", ["-c", 'git archive --format=tar "$1" | tar -x -C "$2"', "sh", baseCommit, base], { cwd: repo, stdio: "inherit" });
  symlinkSync(realpathSync(join(repo, "node_modules")), join(base, "node_modules"), "dir");
  execFileSync(join(repo, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], { cwd: base, stdio: "inherit" });
  return join(base, "dist", "index.js");
}

let fileNo = 0;
const freshFile = () => join(dir, `run-${fileNo++}.db`);

interface Run {
  perSecond: number;
  cpuSeconds: number;
}

function child(module: string, workload: "ingest" | "seed" | "drain", file: string, n: number): Run {
  const out = execFileSync(process.execPath, ["--import", "tsx", workloadScript, module, workload, file, String(n)], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 10 * 60_000,
  });
  const last = out.trim().split("\n").at(-1)!;
  return JSON.parse(last) as Run;
}

function removeDb(file: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
}

function ingestRun(module: string): Run {
  const file = freshFile();
  const rate = child(module, "ingest", file, INGEST_N);
  removeDb(file);
  return rate;
}

function drainRun(module: string): Run {
  const file = freshFile();
  child(module, "seed", file, DRAIN_N);
  const rate = child(module, "drain", file, DRAIN_N);
  removeDb(file);
  return rate;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const builds = { previous: buildRelease(), current: thisModule };
const workloads = [
  { name: 'receive(), 64 concurrent callers, durability "full"', run: ingestRun },
  { name: "runWorker(), no-op transactional handler", run: drainRun },
];
const runs = workloads.map(() => ({ previous: [] as Run[], current: [] as Run[] }));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? (["previous", "current"] as const) : (["current", "previous"] as const);
  workloads.forEach((workload, w) => {
    for (const build of order) runs[w]![build].push(workload.run(builds[build]));
  });
}

const format = (rate: number) => Math.round(rate).toLocaleString("en-US");
const short = (commit: string) => commit.slice(0, 12);
console.log(`\nThis build against the previous release — previous: ${BASE_REF} (commit ${baseCommit}); ` +
  `this build: ${short(headCommit)}${dirty ? " + uncommitted changes" : ""}; Node ${process.version}, WAL; ` +
  `${ROUNDS} rounds, builds alternating (each run a child process); ${INGEST_N} receipts (stripe-signed, ~300 B) / ` +
  `${DRAIN_N} events drained per run; medians`);
console.log(`| workload | ${BASE_REF} per s | this build per s | this / previous | target >= ${TARGET.toFixed(2)}x | median of the rounds' ratios | CPU per event, this / previous |`);
console.log("|---|---:|---:|---:|---|---:|---:|");
workloads.forEach((workload, w) => {
  const previous = median(runs[w]!.previous.map((run) => run.perSecond));
  const current = median(runs[w]!.current.map((run) => run.perSecond));
  const ratio = current / previous;
  const paired = median(runs[w]!.current.map((run, i) => run.perSecond / runs[w]!.previous[i]!.perSecond));
  const cpu = (list: Run[]) => median(list.map((run) => run.cpuSeconds));
  const cpuRatio = cpu(runs[w]!.current) / cpu(runs[w]!.previous);
  console.log(`| ${workload.name} | ${format(previous)} | ${format(current)} | ${ratio.toFixed(2)}x | ${ratio >= TARGET ? "met" : "NOT met"} | ` +
    `${paired.toFixed(2)}x | ${cpuRatio.toFixed(2)}x |`);
});
console.log("\nEvery run, per second (rounds in order), and the median CPU time of the measuring process per event:");
workloads.forEach((workload, w) => {
  const { previous, current } = runs[w]!;
  const n = w === 0 ? INGEST_N : DRAIN_N;
  const rates = (list: Run[]) => list.map((run) => format(run.perSecond)).join(", ");
  const cpu = (list: Run[]) => `${((median(list.map((run) => run.cpuSeconds)) / n) * 1e6).toFixed(0)} µs`;
  const ratios = current.map((run, i) => `${(run.perSecond / previous[i]!.perSecond).toFixed(2)}x`);
  console.log(`- ${workload.name}: ${BASE_REF} ${rates(previous)}; this build ${rates(current)}; ` +
    `per-round ratio ${ratios.join(", ")}; CPU per event ${BASE_REF} ${cpu(previous)}, this build ${cpu(current)}`);
});
