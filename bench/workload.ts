// One measurement of bench/release.bench.ts or bench/growth.bench.ts, in a process of its own so
// that two builds of Knocker never share a process (nor a copy of their module state) and one
// run's garbage never lands in the next run's numbers.
//
//   node --import tsx bench/workload.ts <module> ingest <file> <n>   receive() x64, durability "full"
//   node --import tsx bench/workload.ts <module> seed <file> <n>     n received events, durability "normal" (not timed)
//   node --import tsx bench/workload.ts <module> drain <file> <n>    runWorker(), no-op handler, until n handled
//
// <module> is the path of a build's dist/index.js, imported by URL. Prints one JSON line,
// {"perSecond", "seconds", "cpuSeconds", "wchar", "rchar", "syscw", "syscr"}: the timed part's
// rate and wall time, and what the whole process spent during it (CPU, and bytes and calls of
// write and read syscalls from /proc/self/io, 0 where there is none).
//
// Only the API that 0.1.0 and 0.2.0 share is used: open(), endpoint(), handle(), receive(),
// runWorker(), on("worker:batch"), and an awaited close() (sync in 0.1.0, a Promise in 0.2.0).
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { stripeSignature } from "../test/support.js";

export const SECRET = "whsec_bench";
export const CONCURRENCY = 64;
export const STRIPE_HEADERS = { "content-type": "application/json; charset=utf-8", "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)" };

/** A Stripe-like event body of ~300 bytes; `id` is its event id, hence its dedupe key. */
export function stripeBody(id: string, created: number, n: number): string {
  return JSON.stringify({
    id,
    object: "event",
    api_version: "2024-06-20",
    created,
    type: "checkout.session.completed",
    livemode: false,
    data: {
      object: {
        id: `cs_${id.slice(4)}`,
        amount_total: 4200,
        currency: "eur",
        customer: "cus_Q2xYk3",
        metadata: { order: String(n) },
      },
    },
  });
}

/** The structural slice of the Knocker API this script uses: the same in 0.1.0 and 0.2.0. */
interface Inbox {
  endpoint(name: string, options: { path: string; provider?: string; secrets?: string[] }): Endpoint;
  runWorker(options: { signal: AbortSignal }): Promise<void>;
  on(name: "worker:batch", listener: (batch: { handled: number; failed: number; dead: number }) => void): unknown;
  close(): unknown;
}
interface Endpoint {
  receive(receipt: { body: string; headers: Record<string, string> }): Promise<{ statusCode: number }>;
  handle(handler: () => void): unknown;
}
type Open = (path: string, options: { durability: "full" | "normal" }) => Inbox;

/**
 * Signed receipts with random event ids: like real providers' ids, they do not arrive in key
 * order. BENCH_EVENT_IDS=ordered gives ids that increase instead (a diagnostic: new dedupe keys
 * then fill the index's leaves one after another instead of one leaf each).
 */
function signedReceipts(n: number) {
  const t = Math.floor(Date.now() / 1000);
  const ordered = process.env.BENCH_EVENT_IDS === "ordered";
  const prefix = Date.now().toString(16).padStart(16, "0");
  return Array.from({ length: n }, (_, i) => {
    const id = ordered ? `evt_${prefix}${i.toString(16).padStart(8, "0")}` : `evt_${randomBytes(12).toString("hex")}`;
    const body = stripeBody(id, t, i);
    return { body, headers: { ...STRIPE_HEADERS, "stripe-signature": stripeSignature(body, SECRET, t) } };
  });
}

function stripeEndpoint(webhooks: Inbox): Endpoint {
  return webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
}

const IO_FIELDS = ["wchar", "rchar", "syscw", "syscr"] as const;
type Io = Record<(typeof IO_FIELDS)[number], number>;

/** This process's I/O counters so far (Linux); zeros elsewhere. */
function io(): Io {
  const out: Io = { wchar: 0, rchar: 0, syscw: 0, syscr: 0 };
  if (!existsSync("/proc/self/io")) return out;
  for (const line of readFileSync("/proc/self/io", "utf8").split("\n")) {
    const [key, value] = line.split(": ");
    if ((IO_FIELDS as readonly string[]).includes(key!)) out[key as keyof Io] = Number(value);
  }
  return out;
}

/** CPU and I/O from now until the returned function is called. */
function meter(): () => { cpuSeconds: number } & Io {
  const cpu = process.cpuUsage();
  const before = io();
  return () => {
    const used = process.cpuUsage(cpu);
    const after = io();
    const delta = Object.fromEntries(IO_FIELDS.map((key) => [key, after[key] - before[key]])) as Io;
    return { cpuSeconds: (used.user + used.system) / 1e6, ...delta };
  };
}

let measured: ReturnType<ReturnType<typeof meter>> | undefined;

/** Receive `n` receipts from `concurrency` callers; seconds from the first call to the last resolve. */
async function receiveAll(ep: Endpoint, n: number, concurrency: number): Promise<number> {
  const receipts = signedReceipts(n);
  let next = 0;
  const stop = meter();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < receipts.length) {
        const result = await ep.receive(receipts[next++]!);
        if (result.statusCode !== 204) throw new Error(`unexpected status ${result.statusCode}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  measured = stop();
  return seconds;
}

async function ingest(open: Open, file: string, n: number): Promise<number> {
  const webhooks = open(file, { durability: "full" });
  const seconds = await receiveAll(stripeEndpoint(webhooks), n, CONCURRENCY);
  await webhooks.close();
  return seconds;
}

/** Like seededInbox in core.bench.ts: 256 receipts at a time, durability "normal". */
async function seed(open: Open, file: string, n: number): Promise<number> {
  const webhooks = open(file, { durability: "normal" });
  const seconds = await receiveAll(stripeEndpoint(webhooks), n, 256);
  await webhooks.close();
  return seconds;
}

async function drain(open: Open, file: string, n: number): Promise<number> {
  const webhooks = open(file, { durability: "full" });
  stripeEndpoint(webhooks).handle(() => {}); // transactional (the default), writes nothing
  let handled = 0;
  let unhandled = 0;
  const controller = new AbortController();
  webhooks.on("worker:batch", (batch) => {
    handled += batch.handled;
    unhandled += batch.failed + batch.dead;
    if (handled + unhandled >= n) controller.abort();
  });
  const stop = meter();
  const started = performance.now();
  await webhooks.runWorker({ signal: controller.signal });
  const seconds = (performance.now() - started) / 1000;
  measured = stop();
  await webhooks.close();
  if (unhandled > 0) throw new Error(`${unhandled} of ${n} events failed or went dead`);
  return seconds;
}

const [modulePath, workload, file, count] = process.argv.slice(2);
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (modulePath === undefined || workload === undefined || file === undefined || count === undefined) {
    throw new Error("usage: workload.ts <module> ingest|seed|drain <file> <n>");
  }
  const { open } = (await import(pathToFileURL(modulePath).href)) as { open: Open };
  const n = Number(count);
  const run = { ingest, seed, drain }[workload];
  if (run === undefined) throw new Error(`unknown workload ${workload}`);
  const seconds = await run(open, file, n);
  console.log(JSON.stringify({ perSecond: n / seconds, seconds, ...measured }));
}
