// Valid Stripe webhooks while two clients flood the endpoint with unsigned 3 MB JSON bodies
// (a signature header of the right shape with a fresh timestamp, so a provider that cannot
// refuse on headers has to read and check every body), against the same requests with no flood,
// in one run. Target: p99 under the flood below 3x the p99 without it.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { request } from "node:http";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SECRET = "whsec_abuse_bench";
const REQUESTS = Number(process.env.ABUSE_BENCH_REQUESTS ?? 300);

const server = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./abuse-server.ts", import.meta.url)), SECRET], { stdio: ["pipe", "pipe", "inherit"] });
const port = await new Promise<number>((resolve) => createInterface({ input: server.stdout! }).once("line", (line) => resolve(Number(line))));

function post(headers: Record<string, string>, body: Buffer | string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/stripe", headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    req.end(body);
  });
}

let sequence = 0;
async function validLatencies(count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify({ id: `evt_${sequence++}`, type: "invoice.paid", object: "event" });
    const t = Math.floor(Date.now() / 1000);
    const signature = createHmac("sha256", SECRET).update(`${t}.${body}`).digest("hex");
    const started = performance.now();
    const status = await post({ "content-type": "application/json", "stripe-signature": `t=${t},v1=${signature}` }, body);
    latencies.push(performance.now() - started);
    if (status !== 204) throw new Error(`a valid webhook got ${status}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  return latencies;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

await validLatencies(50); // warm up
const quiet = await validLatencies(REQUESTS);

const flooder = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./abuse-flood.ts", import.meta.url)), String(port), "2"], { stdio: ["pipe", "pipe", "inherit"] });
const floodLines = createInterface({ input: flooder.stdout! })[Symbol.asyncIterator]();
const floodBytes = Number((await floodLines.next()).value);
await new Promise((r) => setTimeout(r, 500));
const loud = await validLatencies(REQUESTS);
flooder.stdin!.end();
const floodRequests = Number((await floodLines.next()).value);
server.stdin!.end();

const row = (name: string, values: number[]) => `| ${name.padEnd(34)} | ${percentile(values, 50).toFixed(2).padStart(8)} | ${percentile(values, 99).toFixed(2).padStart(8)} |`;
console.log(`\nValid Stripe webhooks, ${REQUESTS} one at a time (latency in ms); flood: 2 clients, ${(floodBytes / 1e6).toFixed(1)} MB unsigned JSON bodies, ${floodRequests} sent`);
console.log("| run                                |      p50 |      p99 |");
console.log("|------------------------------------|---------:|---------:|");
console.log(row("no flood", quiet));
console.log(row("two clients flooding", loud));
const ratio = percentile(loud, 99) / percentile(quiet, 99);
console.log(`\np99 under flood / p99 without: ${ratio.toFixed(2)}x (target < 3x): ${ratio < 3 ? "met" : "NOT met"}`);
