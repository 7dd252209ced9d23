// HTTP front door under load: requests/s and latency through webhooks.nodeHandler() on a
// node:http server (durable mode: every 204 after its group commit and the WAL sync that follows it)
// against the same server answering 204 without Knocker (it still reads the body), both driven
// by autocannon from a separate process (bench/http-load.ts), in the same run; plus, for
// reference, a minimal hand-written durable route and a trusted (unverified) Knocker endpoint.
//
// The servers take turns for ROUNDS rounds and each row shows its median run: on a shared
// machine one slow moment in a single baseline run would otherwise decide the verdict.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { open } from "knocker";
import { groupCommitted, handWrittenStripeRoute } from "./hand-written-route.js";

const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 3);
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

// Reference: the least a durable route can do — one INSERT per request, group-committed with
// synchronous=FULL, no verification — to show what durability itself costs here.
const raw = new Database(join(dir, "bench-raw.db"));
raw.pragma("journal_mode = WAL");
raw.pragma("synchronous = FULL");
raw.exec("CREATE TABLE receipts (id INTEGER PRIMARY KEY, headers TEXT, body BLOB)");
const insert = raw.prepare("INSERT INTO receipts (headers, body) VALUES (?, ?)");
const commit = raw.transaction((batch: Array<{ headers: string; body: Buffer }>) => {
  for (const receipt of batch) insert.run(receipt.headers, receipt.body);
});
const submit = groupCommitted<{ headers: string; body: Buffer; answer: () => void }>((batch) => commit.immediate(batch));
const minimal = await serve((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    submit({ headers: JSON.stringify(req.headers), body: Buffer.concat(chunks), answer: () => { res.statusCode = 204; res.end(); } });
  });
});

// Reference: the same work as Knocker's contract — Stripe check, dedupe lookup, event + delivery +
// job rows in Knocker's tables, group commit with synchronous=FULL — written by hand.
const handWritten = await handWrittenStripeRoute(join(dir, "bench-hand-written.db"), SECRET);
const handWrittenServer = await serve(handWritten.route);

// Knocker: verify, store (delivery + event + job), fsync, then 204.
const webhooks = open(join(dir, "bench-http.db"), { durability: "full" });
webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRET] });
const knocker = await serve(webhooks.nodeHandler());

// For the analysis: the same path with a trusted endpoint (no provider), i.e. without the
// signature check and the body's JSON parse — what storing and answering alone cost.
const trustedInbox = open(join(dir, "bench-http-trusted.db"), { durability: "full" });
trustedInbox.endpoint("stripe", { path: "/webhooks/stripe" });
const trustedServer = await serve(trustedInbox.nodeHandler());

const servers = { bare, minimal, handWritten: handWrittenServer, knocker, trusted: trustedServer };
type Name = keyof typeof servers;
const runs: Record<Name, Load[]> = { bare: [], minimal: [], handWritten: [], knocker: [], trusted: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const name of Object.keys(servers) as Name[]) runs[name].push(await load(servers[name].url, `${name}${round}`));
}
for (const { server } of Object.values(servers)) await stop(server);
const stored = (await webhooks.listEvents({ limit: 1 }))[0]?.id ?? 0;
const completed = runs.knocker.reduce((sum, r) => sum + r.total, 0);
const knockerFailed = runs.knocker.some((r) => r.non2xx > 0 || r.errors > 0);
// The reference must really have done the work it stands for.
const handWrittenShort = handWritten.storedEvents() < runs.handWritten.reduce((sum, r) => sum + r.total, 0) ||
  runs.handWritten.some((r) => r.non2xx > 0 || r.errors > 0);
await webhooks.close();
await trustedInbox.close();
handWritten.close();
raw.close();
rmSync(dir, { recursive: true, force: true });

const median = (list: Load[]): Load => [...list].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(list.length / 2)]!;
const baseline = median(runs.bare);
const measured = median(runs.knocker);
const ratio = measured.requestsPerSecond / baseline.requestsPerSecond;
// Each round's own ratio too: the baseline and Knocker measured back to back.
const roundRatios = runs.knocker.map((r, i) => r.requestsPerSecond / runs.bare[i]!.requestsPerSecond).sort((a, b) => a - b);

console.log(`\nHTTP front door — node:http, autocannon in a separate process, ${CONNECTIONS} connections, ` +
  `${ROUNDS} rounds of ${SECONDS} s per server taking turns (each row: its median run), ` +
  `one fresh Stripe-signed event per request (~300 B), Knocker durability "full" (WAL synced before every answer), no worker running, ` +
  `Node ${process.version}, ${cpus().length} CPUs`);
console.log("| server | requests/s | p50 ms | p99 ms | non-2xx | errors | server CPU µs/req | load generator CPU µs/req | vs bare |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
const perRequest = (ms: number, r: Load) => ((ms * 1000) / Math.max(1, r.total)).toFixed(0);
const row = (name: string, r: Load) =>
  console.log(`| ${name} | ${Math.round(r.requestsPerSecond).toLocaleString("en-US")} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors + r.timeouts} | ` +
    `${perRequest(r.serverCpuMs, r)} | ${perRequest(r.generatorCpuMs, r)} | ${(r.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}x |`);
row("bare node:http, reads the body, answers 204 (baseline)", baseline);
row("minimal durable route: 1 INSERT, group commit + fsync, then 204 (reference)", median(runs.minimal));
row("hand-written Stripe route doing the contract's work: verify + dedupe lookup + 3 rows, group commit + fsync (reference)", median(runs.handWritten));
row("webhooks.nodeHandler(): verify + store + fsync, then 204", measured);
row("same, trusted endpoint (no signature check), for reference", median(runs.trusted));
console.log(`Knocker stored ${stored.toLocaleString("en-US")} events for ${completed.toLocaleString("en-US")} completed requests; ` +
  `throughput ratio ${(ratio * 100).toFixed(0)}% of bare (target >= ${TARGET * 100}%: ${ratio >= TARGET ? "met" : "NOT met"}); ` +
  `per round ${roundRatios.map((r) => `${r.toFixed(2)}x`).join(", ")}`);
// The server answers on one event-loop thread, so its CPU per request bounds its throughput.
const neededUs = 1e6 / (TARGET * baseline.requestsPerSecond);
console.log(`One event-loop thread: ${TARGET * 100}% of bare (${Math.round(TARGET * baseline.requestsPerSecond).toLocaleString("en-US")} requests/s) ` +
  `leaves ${neededUs.toFixed(0)} µs per request for everything, fsync waits included; nodeHandler() used ` +
  `${perRequest(measured.serverCpuMs, measured)} µs of CPU per request, the bare server ${perRequest(baseline.serverCpuMs, baseline)} µs`);
const handWrittenRun = median(runs.handWritten);
console.log(`nodeHandler() against the hand-written route doing the same work: ` +
  `${(measured.requestsPerSecond / handWrittenRun.requestsPerSecond).toFixed(2)}x the throughput, ` +
  `${perRequest(measured.serverCpuMs, measured)} µs of CPU per request against ${perRequest(handWrittenRun.serverCpuMs, handWrittenRun)} µs`);
// Requests still in flight when autocannon stops are stored but not counted by it: stored >= total.
if (handWrittenShort) console.log("the hand-written route answered a request it did not store: its line is not a valid reference");
if (knockerFailed || stored < completed || handWrittenShort) process.exitCode = 1;
