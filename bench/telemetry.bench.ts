// What telemetry costs ingest (CONTRACT §13, issue 19): receive() x64 (durability "full", signed
// Stripe receipts) and HTTP ingest through nodeHandler() (autocannon in its own process,
// bench/http-load.ts), each with telemetry off (`telemetry: false`) and on — the OpenTelemetry
// SDK's tracer provider with a BatchSpanProcessor and a meter provider with a reader, both
// exporting to an exporter that drops what it gets, so every span and data point is made and
// processed as in production, only not sent (the reader collects every 10 s — the gauges read the
// database then —, more often than a Prometheus scrape or the SDK's 60 s default). For information: the API installed but no SDK (the
// global no-op providers, Knocker's default then), and the drain of a worker with telemetry.
// Fresh SQLite files per run, each run in a process of its own; the variants take turns in every order for ROUNDS rounds; medians. The verdict is on
// the median of the rounds' ratios (each round's on / off, run one after the other): this disk's
// fsync time drifts by more than the difference measured, and a round's pair shares its moment.
// Target: ingest with telemetry on >= 0.9x ingest with it off.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { ExportResultCode } from "@opentelemetry/core";
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { open, type OpenOptions } from "knocker";
import { stripeSignature } from "../test/support.js";
import { STRIPE_HEADERS, stripeBody } from "./workload.js";

// 20,000 a run: at 6,000 (a third of a second) single runs varied by more than the difference measured.
const N = Number(process.env.BENCH_TELEMETRY_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_TELEMETRY_ROUNDS ?? 12);
const HTTP_SECONDS = Number(process.env.BENCH_TELEMETRY_HTTP_SECONDS ?? 3);
const CONCURRENCY = 64;
const WARM_UP = 3000;
const SECRET = "whsec_bench";
const TARGET = 0.9;

const dir = mkdtempSync(join(tmpdir(), "knocker-bench-telemetry-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true })); // each child its own folder
let fileNo = 0;
const freshFile = () => join(dir, `run-${fileNo++}.db`);
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rate = (n: number) => Math.round(n).toLocaleString("en-US");

const dropSpans: SpanExporter = { export: (_spans, done) => done({ code: ExportResultCode.SUCCESS }), shutdown: async () => {} };
const dropMetrics: PushMetricExporter = {
  export: (_metrics, done) => done({ code: ExportResultCode.SUCCESS }),
  forceFlush: async () => {},
  shutdown: async () => {},
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

interface Variant {
  name: string;
  options: () => { options: OpenOptions; shutdown: () => Promise<void> };
}

const VARIANTS: Variant[] = [
  { name: "off", options: () => ({ options: { telemetry: false }, shutdown: async () => {} }) },
  {
    name: "on (SDK, no-op exporter)",
    options: () => {
      const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans)] });
      const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 10_000 })] });
      return {
        options: { telemetry: { tracerProvider, meterProvider } },
        shutdown: async () => {
          await tracerProvider.shutdown();
          await meterProvider.shutdown();
        },
      };
    },
  },
  { name: "API only, no SDK (the default)", options: () => ({ options: {}, shutdown: async () => {} }) },
];

/** Signed receipts; with `traced`, each carries a traceparent of its own (providers send none; an app's own caller may). */
function receipts(n: number, traced = false) {
  const t = Math.floor(Date.now() / 1000);
  return Array.from({ length: n }, (_, i) => {
    const body = stripeBody(`evt_${randomBytes(12).toString("hex")}`, t, i);
    const headers: Record<string, string> = { ...STRIPE_HEADERS, "stripe-signature": stripeSignature(body, SECRET, t) };
    if (traced) headers.traceparent = `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
    return { body, headers };
  });
}

async function receiveRun(variant: Variant, traced = false): Promise<number> {
  const { options, shutdown } = variant.options();
  const webhooks = open(freshFile(), { durability: "full", ...options });
  const ep = webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  const receiveAll = async (all: ReturnType<typeof receipts>) => {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < all.length) {
        const result = await ep.receive(all[next++]!);
        if (result.statusCode !== 204) throw new Error(`unexpected status ${result.statusCode}`);
      }
    }));
  };
  await receiveAll(receipts(WARM_UP, traced)); // a fresh process: let the JIT warm up first
  const all = receipts(N, traced);
  const started = performance.now();
  await receiveAll(all);
  const perSecond = N / ((performance.now() - started) / 1000);
  await webhooks.close();
  await shutdown();
  return perSecond;
}

async function httpRun(variant: Variant): Promise<number> {
  const { options, shutdown } = variant.options();
  const webhooks = open(freshFile(), { durability: "full", ...options });
  webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  const handler = webhooks.nodeHandler();
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stripe`;
  const script = fileURLToPath(new URL("./http-load.ts", import.meta.url));
  const runLoad = (seconds: number, label: string) => new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, url, String(seconds), "32", SECRET, label], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    child.stdout.on("data", (data: Buffer) => (text += data.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`load generator exited with ${code}`))));
  });
  await runLoad(1, `warm${process.pid}`); // a fresh process: let the JIT warm up first
  const out = await runLoad(HTTP_SECONDS, `t${process.pid}`);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await webhooks.close();
  await shutdown();
  const load = JSON.parse(out) as { requestsPerSecond: number; non2xx: number; errors: number };
  if (load.non2xx > 0 || load.errors > 0) throw new Error(`HTTP run had ${load.non2xx} non-2xx answers and ${load.errors} errors`);
  return load.requestsPerSecond;
}

async function drainRun(variant: Variant): Promise<number> {
  const file = freshFile();
  const seeder = open(file, { durability: "normal", telemetry: false });
  const seedEp = seeder.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  const all = receipts(N);
  for (let at = 0; at < all.length; at += 256) await Promise.all(all.slice(at, at + 256).map((r) => seedEp.receive(r)));
  await seeder.close();
  const { options, shutdown } = variant.options();
  const webhooks = open(file, { durability: "full", ...options });
  let handled = 0;
  webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] }).handle(() => void handled++);
  const stop = new AbortController();
  const started = performance.now();
  const worker = webhooks.runWorker({ signal: stop.signal });
  while (handled < N) await new Promise((resolve) => setTimeout(resolve, 2));
  const perSecond = N / ((performance.now() - started) / 1000);
  stop.abort();
  await worker;
  await webhooks.close();
  await shutdown();
  return perSecond;
}

const workloads: Array<{ name: string; run: (variant: Variant) => Promise<number>; target: boolean }> = [
  { name: `receive() x${CONCURRENCY}, ${N} signed receipts`, run: (v: Variant) => receiveRun(v), target: true },
  { name: `receive() x${CONCURRENCY}, ${N} signed receipts, each with a traceparent`, run: (v: Variant) => receiveRun(v, true), target: true },
  { name: `HTTP nodeHandler(), autocannon 32 connections, ${HTTP_SECONDS} s`, run: httpRun, target: true },
  { name: `runWorker() drain, ${N} events, no-op handler`, run: drainRun, target: false },
];

// Each measurement runs in a child process of its own (this file with --child), so no run inherits
// another's heap, timers or module state, and the variants are compared on equal terms.
const [flag, workloadIndex, variantIndex] = process.argv.slice(2);
if (flag === "--child") {
  const perSecond = await workloads[Number(workloadIndex)]!.run(VARIANTS[Number(variantIndex)]!);
  process.stdout.write(`${JSON.stringify({ perSecond })}\n`);
  process.exit(0);
}

function measure(workload: number, variant: number): number {
  const child = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", String(workload), String(variant)], {
    encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: process.env,
  });
  if (child.status !== 0) throw new Error(`measurement ${workload}/${variant} exited with ${child.status}`);
  return (JSON.parse(child.stdout.trim().split("\n").pop()!) as { perSecond: number }).perSecond;
}

const ORDERS = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1], [2, 1, 0], [1, 0, 2]];

const rows: string[] = [];
let unmet = false;
const only = process.env.BENCH_TELEMETRY_ONLY;
for (const [index, workload] of workloads.entries()) {
  if (only !== undefined && !workload.name.includes(only)) continue;
  const runs = VARIANTS.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    // Every order of the three variants in turn (12 rounds: each order twice), so that no variant
    // always runs in the same place: a run's speed depends on what ran just before it (an A/B with
    // the order reversed each round gave the variant at the ends 3-6% more than the same build in
    // the middle).
    const order = ORDERS[round % ORDERS.length]!;
    for (const variant of order) runs[variant]!.push(measure(index, variant));
  }
  const [offRuns, onRuns, apiRuns] = runs as [number[], number[], number[]];
  const paired = median(onRuns.map((value, round) => value / offRuns[round]!));
  const pairedApi = median(apiRuns.map((value, round) => value / offRuns[round]!));
  const verdict = workload.target ? (paired >= TARGET ? "met" : "NOT met") : "(information)";
  if (workload.target && paired < TARGET) unmet = true;
  rows.push(`| ${workload.name} | ${rate(median(offRuns))} | ${rate(median(onRuns))} | ${(median(onRuns) / median(offRuns)).toFixed(2)}x | ${paired.toFixed(2)}x | ${verdict} | ${rate(median(apiRuns))} | ${pairedApi.toFixed(2)}x |`);
  rows.push(`|   every run | ${offRuns.map(rate).join(", ")} | ${onRuns.map(rate).join(", ")} | | | | ${apiRuns.map(rate).join(", ")} | |`);
}

console.log(`\nTelemetry's cost — SQLite, durability "full", Node ${process.version}; ${ROUNDS} rounds, every order of the variants in turn, each run a process of its own; per second`);
console.log("| workload | telemetry off | on (SDK, no-op exporter) | on / off, medians | on / off, median of the rounds' | target >= 0.9x | API only, no SDK | API only / off, rounds' |");
console.log("|---|---:|---:|---:|---:|---|---:|---:|");
for (const row of rows) console.log(row);
if (unmet) process.exitCode = 1;
