// The dashboard on a big inbox: server time of its pages on a file with 1,000,000 events (and
// ~1.04M deliveries, ~0.99M attempts) — bench/dashboard-seed.ts fills a Knocker-created file with
// raw SQL. Server time is the handler's whole answer: from calling it with a Request to the last
// byte of the body read, no network. 20 requests per page after 3 warm-up ones; median, p90, max.
// Targets: the overview and the events page under 100 ms (median).
//
// The overview runs twice: on one handler (its handled/ignored counts reused for 10 s, as an
// operator reloading it sees) and on a new handler per request (every count computed: the first
// view, and each view after the 10 s).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open, type DashboardHandler } from "knocker";
import { SEED_ENDPOINTS, seedInbox } from "./dashboard-seed.js";

const EVENTS = Number(process.env.BENCH_DASHBOARD_EVENTS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_DASHBOARD_REQUESTS ?? 20);
const WARMUP = 3;
const TARGET_MS = 100;

const dir = mkdtempSync(join(tmpdir(), "knocker-bench-dashboard-"));
const path = join(dir, "dashboard.db");
const now = Math.floor(Date.now() / 1000);

function register(webhooks: ReturnType<typeof open>): void {
  for (const endpoint of SEED_ENDPOINTS) webhooks.endpoint(endpoint.name, { path: endpoint.path });
}

const setup = open(path);
register(setup);
await setup.close();
const seedS = seedInbox(path, { events: EVENTS, now, queueName: "knocker.events" });
console.log(`dashboard bench: ${EVENTS.toLocaleString("en-US")} events seeded in ${seedS.toFixed(1)} s, file ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`);

const webhooks = open(path);
register(webhooks);
const authorize = () => true;
const shared = webhooks.dashboard({ authorize });
const oneEvent = Math.floor(EVENTS / 2);
const middle = now - 15 * 86_400;

interface Row {
  page: string;
  route: string;
  target: boolean;
  handler: () => DashboardHandler;
}

const rows: Row[] = [
  { page: "overview (counts reused ≤ 10 s)", route: "/", target: true, handler: () => shared },
  { page: "overview (every count computed)", route: "/", target: true, handler: () => webhooks.dashboard({ authorize }) },
  { page: "events page", route: "/events", target: true, handler: () => shared },
  { page: "events: status dead", route: "/events?status=dead", target: true, handler: () => shared },
  { page: "events: one endpoint", route: "/events?endpoint=github", target: true, handler: () => shared },
  { page: "events: type + status, 15 days back", route: `/events?type=push&status=handled&before=${middle}.${oneEvent}`, target: true, handler: () => shared },
  { page: "events: type + status received", route: "/events?type=push&status=received", target: true, handler: () => shared },
  { page: "events: type + status dead", route: "/events?type=push&status=dead", target: true, handler: () => shared },
  { page: "events: endpoint + time range", route: `/events?endpoint=slack&since=${middle - 86_400}&until=${middle}`, target: true, handler: () => shared },
  { page: "one event", route: `/events/${oneEvent}`, target: false, handler: () => shared },
  { page: "deliveries: rejected", route: "/deliveries?kind=invalid", target: false, handler: () => shared },
  { page: "lookup by provider event id", route: `/events?q=evt_${String(oneEvent).padStart(10, "0")}`, target: false, handler: () => shared },
  { page: "bulk dry run: dead, one endpoint", route: "/bulk?action=replay&status=dead&endpoint=stripe", target: false, handler: () => shared },
];

const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;
const results: string[][] = [];
let missed = 0;
for (const row of rows) {
  const times: number[] = [];
  let status = 0;
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    const handler = row.handler();
    const started = performance.now();
    const response = await handler(new Request(`http://127.0.0.1${row.route}`));
    await response.text();
    const ms = performance.now() - started;
    status = response.status;
    if (i >= WARMUP) times.push(ms);
  }
  times.sort((a, b) => a - b);
  const m = median(times);
  const verdict = row.target ? (m < TARGET_MS ? "met" : "NOT met") : "-";
  if (row.target && m >= TARGET_MS) missed++;
  results.push([row.page, String(status), m.toFixed(1), times[Math.floor(times.length * 0.9)]!.toFixed(1), times.at(-1)!.toFixed(1), row.target ? `< ${TARGET_MS} ms: ${verdict}` : verdict]);
}

const headers = ["page", "status", "median ms", "p90 ms", "max ms", "target"];
const widths = headers.map((h, i) => Math.max(h.length, ...results.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= 1 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
console.log(`\nServer time per request, ${REQUESTS} requests per page (${EVENTS.toLocaleString("en-US")} events, Node ${process.version}):\n`);
console.log(line(headers));
console.log(`|${widths.map((w, i) => (i >= 1 && i <= 4 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`);
for (const r of results) console.log(line(r));
console.log(missed === 0 ? "\nAll targets met." : `\n${missed} target(s) NOT met.`);

await webhooks.close();
rmSync(dir, { recursive: true, force: true });
