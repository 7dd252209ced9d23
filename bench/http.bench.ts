// HTTP front door under load: requests/s and latency through webhooks.nodeHandler() on a
// node:http server (durable mode: synchronous=FULL, every 204 after its fsync'd group commit)
// against the same server answering 204 without Knocker (it still reads the body), both driven
// by autocannon from a separate process (bench/http-load.ts), in the same run; plus, for
// reference, a minimal hand-written durable route.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { open } from "../src/index.js";

const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_HTTP_CONNECTIONS ?? 64);
const SECRET = "whsec_bench_http";
const TARGET = 0.6;

interface Load {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** CPU the load generator used for this run (its own process). */
  generatorCpuMs: number;
  /** CPU this (server) process used while the load ran. */
  serverCpuMs: number;
}

async function serve(listener: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`, server };
}

function load(url: string, label: string): Promise<Load> {
  const script = fileURLToPath(new URL("./http-load.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script, url, String(SECONDS), String(CONNECTIONS), SECRET, label], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (data: Buffer) => (out += data.toString()));
  const cpuBefore = process.cpuUsage();
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}`));
      const used = process.cpuUsage(cpuBefore);
      resolve({ ...(JSON.parse(out) as Omit<Load, "serverCpuMs">), serverCpuMs: (used.user + used.system) / 1000 });
    });
  });
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

const dir = mkdtempSync(join(tmpdir(), "knocker-bench-http-"));

// Baseline: read the body, answer 204.
const bare = await serve((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    res.statusCode = 204;
    res.end();
  });
});
const baseline = await load(bare.url, "bare");
await stop(bare.server);

// Reference: the least a durable route can do — one INSERT per request, group-committed with
// synchronous=FULL like Knocker, no verification — to show what durability itself costs here.
const raw = new Database(join(dir, "bench-raw.db"));
raw.pragma("journal_mode = WAL");
raw.pragma("synchronous = FULL");
raw.exec("CREATE TABLE receipts (id INTEGER PRIMARY KEY, headers TEXT, body BLOB)");
const insert = raw.prepare("INSERT INTO receipts (headers, body) VALUES (?, ?)");
const commit = raw.transaction((batch: Array<{ headers: string; body: Buffer }>) => {
  for (const receipt of batch) insert.run(receipt.headers, receipt.body);
});
let waiting: Array<{ headers: string; body: Buffer; answer: () => void }> = [];
const minimal = await serve((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    waiting.push({ headers: JSON.stringify(req.headers), body: Buffer.concat(chunks), answer: () => { res.statusCode = 204; res.end(); } });
    if (waiting.length > 1) return;
    setImmediate(() => {
      const batch = waiting;
      waiting = [];
      commit.immediate(batch);
      for (const receipt of batch) receipt.answer();
    });
  });
});
const reference = await load(minimal.url, "minimal");
await stop(minimal.server);
raw.close();

// Knocker: verify, store (delivery + event + job), fsync, then 204.
const webhooks = open(join(dir, "bench-http.db"), { durability: "full" });
webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
const knocker = await serve(webhooks.nodeHandler());
const measured = await load(knocker.url, "knocker");
await stop(knocker.server);
const stored = webhooks.listEvents({ limit: 1 })[0]?.id ?? 0;
webhooks.close();
rmSync(dir, { recursive: true, force: true });

const ratio = measured.requestsPerSecond / baseline.requestsPerSecond;
console.log(`\nHTTP front door — node:http, autocannon in a separate process, ${CONNECTIONS} connections, ${SECONDS} s each, ` +
  `one fresh Stripe-signed event per request (~300 B), Knocker durability "full" (synchronous=FULL, WAL), no worker running, ` +
  `Node ${process.version}, ${cpus().length} CPUs`);
console.log("| server | requests/s | p50 ms | p99 ms | non-2xx | errors | server CPU µs/req | load generator CPU µs/req | vs bare |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
const perRequest = (ms: number, r: Load) => ((ms * 1000) / Math.max(1, r.total)).toFixed(0);
const row = (name: string, r: Load) =>
  console.log(`| ${name} | ${Math.round(r.requestsPerSecond).toLocaleString("en-US")} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors + r.timeouts} | ` +
    `${perRequest(r.serverCpuMs, r)} | ${perRequest(r.generatorCpuMs, r)} | ${(r.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}x |`);
row("bare node:http, reads the body, answers 204 (baseline)", baseline);
row("minimal durable route: 1 INSERT, group commit + fsync, then 204 (reference)", reference);
row("webhooks.nodeHandler(): verify + store + fsync, then 204", measured);
console.log(`Knocker stored ${stored.toLocaleString("en-US")} events for ${measured.total.toLocaleString("en-US")} completed requests; ` +
  `throughput ratio ${(ratio * 100).toFixed(0)}% of bare (target >= ${TARGET * 100}%: ${ratio >= TARGET ? "met" : "NOT met"}), ` +
  `${((measured.requestsPerSecond / reference.requestsPerSecond) * 100).toFixed(0)}% of the minimal durable route`);
// Requests still in flight when autocannon stops are stored but not counted by it: stored >= total.
if (measured.non2xx > 0 || measured.errors > 0 || stored < measured.total) process.exitCode = 1;
