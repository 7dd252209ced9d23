// `npm start`: the Knocker demo inbox. An HTTP server on 127.0.0.1 over an embedded SQLite file
// (or a Postgres database: KNOCKER_DB=postgres://…),
// four endpoints with demo secrets, a running worker whose handlers write to a demo table, and a
// startup burst of signed sample webhooks sent to itself over real HTTP, each receipt's journey
// printed: HTTP status → delivery → event → handled.
//
//   PORT=8787 (0 = any free port)   DEMO_DB or KNOCKER_DB=knocker-demo.db | postgres://…
//   --once / DEMO_ONCE=1: exit after the burst
import { createHmac, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { Event, KnockerEventMap } from "../src/index.js";
import { openDemoLog } from "./demo-log.js";

const PORT = Number(process.env.PORT ?? 8787);
const TARGET = process.env.DEMO_DB || process.env.KNOCKER_DB || "knocker-demo.db";
const ONCE = process.argv.includes("--once") || process.env.DEMO_ONCE === "1";

// Demo secrets only: real ones come from each provider's dashboard.
const SECRETS = {
  stripe: "whsec_demo_stripe_secret",
  github: "demo-github-secret",
  slack: "demo-slack-signing-secret",
  standardWebhooks: `whsec_${Buffer.from("demo-standard-webhooks-key-32byt").toString("base64")}`,
};

// ---- the inbox ----------------------------------------------------------------------------

// The app's own table, demo_log, lives beside the inbox (examples/demo-log.ts, for each engine).
const log = await openDemoLog(/^postgres(ql)?:\/\//.test(TARGET) ? TARGET : resolve(TARGET));
const { webhooks, record } = log;

interface StripeCheckout { data: { object: { id: string; amount_total: number; currency: string } } }
webhooks
  .endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRETS.stripe] })
  .handle("checkout.session.completed", record((event) => {
    const session = event.json<StripeCheckout>().data.object;
    return `order ${session.id} paid: ${(session.amount_total / 100).toFixed(2)} ${session.currency.toUpperCase()}`;
  }))
  .handle(record((event) => `stripe ${event.eventType} noted`));
webhooks
  .endpoint("github", { path: "/webhooks/github", provider: "github", secrets: [SECRETS.github] })
  .handle("push", record((event) => {
    const push = event.json<{ ref: string; commits: unknown[] }>();
    return `${push.commits.length} commit(s) pushed to ${push.ref}`;
  }))
  .handle(record((event) => `github ${event.eventType} (${event.json<{ action?: string }>().action ?? "no action"})`));
webhooks
  .endpoint("slack", { path: "/webhooks/slack", provider: "slack", secrets: [SECRETS.slack] })
  .handle(record((event) => `slack ${event.eventType}: ${event.json<{ event?: { text?: string } }>().event?.text ?? ""}`));
webhooks
  .endpoint("standard-webhooks", { path: "/webhooks/standard-webhooks", provider: "standard-webhooks", secrets: [SECRETS.standardWebhooks] })
  .handle(record((event) => `${event.eventType} for ${event.json<{ data?: { email?: string } }>().data?.email ?? "?"}`));

// ---- journeys: one line per receipt, printed once its story is over ------------------------

let nextLabel: string | null = null;
let lastJourney: Promise<void> = Promise.resolve();
webhooks.on("http:response", (response) => {
  const label = nextLabel ?? "sent by hand";
  nextLabel = null;
  lastJourney = journey(label, response).then((line) => console.log(line));
});

async function journey(label: string, r: KnockerEventMap["http:response"]): Promise<string> {
  const parts = [`${label.padEnd(40)} ${r.method} ${r.path} → ${r.status}`];
  if (r.deliveryId === null) return [...parts, "(nothing stored)"].join(" → ");
  const delivery = (await webhooks.getDelivery(r.deliveryId))!;
  parts.push(`delivery #${delivery.id}`);
  if (r.eventId === null) {
    const why = delivery.signatureValid ? "handshake, answered" : `rejected: ${delivery.signatureError}`;
    return `${parts.join(" → ")} (${why}) → no event`;
  }
  if (r.duplicate) return `${parts.join(" → ")} → event #${r.eventId} (duplicate: stored, not run again)`;
  parts.push(`event #${r.eventId} ${delivery.eventType} (new)`);
  const event = await settled(r.eventId);
  if (event.status !== "handled") return [...parts, `${event.status}: ${event.lastError ?? "not handled yet"}`].join(" → ");
  const row = await log.latest(event.id);
  return [...parts, `handled: demo_log #${row?.id} "${row?.summary}"`].join(" → ");
}

/** The event once the worker is done with it (or after 5 s). */
async function settled(eventId: number): Promise<Event> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const event = (await webhooks.getEvent(eventId))!;
    if (["handled", "dead", "ignored"].includes(event.status) || Date.now() > deadline) return event;
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- signing, the way each provider documents it (node:crypto) ------------------------------

const hmac = (key: string | Buffer, data: string, encoding: "hex" | "base64" = "hex") =>
  createHmac("sha256", key).update(data).digest(encoding);
const now = () => Math.floor(Date.now() / 1000);
const json = { "content-type": "application/json" };

function stripeRequest(body: string) {
  const t = now();
  return { path: "/webhooks/stripe", body, headers: { ...json, "stripe-signature": `t=${t},v1=${hmac(SECRETS.stripe, `${t}.${body}`)}` } };
}
function githubRequest(event: string, delivery: string, body: string, secret = SECRETS.github) {
  return {
    path: "/webhooks/github", body,
    headers: { ...json, "x-github-event": event, "x-github-delivery": delivery, "x-hub-signature-256": `sha256=${hmac(secret, body)}` },
  };
}
function slackRequest(body: string) {
  const t = now();
  return {
    path: "/webhooks/slack", body,
    headers: { ...json, "x-slack-request-timestamp": String(t), "x-slack-signature": `v0=${hmac(SECRETS.slack, `v0:${t}:${body}`)}` },
  };
}
function standardWebhooksRequest(body: string) {
  const id = `msg_${randomUUID()}`;
  const t = now();
  const key = Buffer.from(SECRETS.standardWebhooks.slice("whsec_".length), "base64");
  return {
    path: "/webhooks/standard-webhooks", body,
    headers: { ...json, "webhook-id": id, "webhook-timestamp": String(t), "webhook-signature": `v1,${hmac(key, `${id}.${t}.${body}`, "base64")}` },
  };
}

// ---- the burst --------------------------------------------------------------------------------

const run = Date.now().toString(36);
const checkout = JSON.stringify({
  id: `evt_demo_${run}`, object: "event", type: "checkout.session.completed",
  data: { object: { id: `cs_demo_${run}`, amount_total: 4200, currency: "eur" } },
});
const samples: Array<{ label: string; request: { path: string; body: string; headers: Record<string, string> } }> = [
  { label: "stripe: a checkout is paid", request: stripeRequest(checkout) },
  {
    label: "github: a push",
    request: githubRequest("push", randomUUID(), JSON.stringify({ ref: "refs/heads/main", commits: [{ id: "c0ffee" }, { id: "bada55" }] })),
  },
  {
    label: "slack: the url_verification handshake",
    request: slackRequest(JSON.stringify({ token: "demo", challenge: `challenge-${run}`, type: "url_verification" })),
  },
  {
    label: "slack: an app mention",
    request: slackRequest(JSON.stringify({
      type: "event_callback", event_id: `Ev${run}`, event: { type: "app_mention", text: "hello Knocker", user: "U123", channel: "C123" },
    })),
  },
  {
    label: "standard-webhooks: a user is created",
    request: standardWebhooksRequest(JSON.stringify({ type: "user.created", data: { email: "ada@example.com" } })),
  },
  { label: "stripe: the same event again (a retry)", request: stripeRequest(checkout) },
  {
    label: "github: a forged signature",
    request: githubRequest("push", randomUUID(), JSON.stringify({ ref: "refs/heads/main", commits: [] }), "not-the-secret"),
  },
];

async function sendBurst(base: string): Promise<void> {
  console.log("\nA burst of sample webhooks, sent to this server over HTTP:\n");
  for (const { label, request } of samples) {
    nextLabel = label;
    const response = await fetch(`${base}${request.path}`, { method: "POST", headers: request.headers, body: request.body });
    await response.arrayBuffer();
    await lastJourney;
  }
}

function handMadeCurl(base: string): string {
  const body = JSON.stringify({ action: "opened", issue: { number: 1, title: "Sent by hand" } });
  const { headers } = githubRequest("issues", `manual-${run}`, body);
  const flags = Object.entries(headers).map(([name, value]) => `-H '${name}: ${value}'`).join(" ");
  return `curl -i -X POST ${base}/webhooks/github ${flags} --data '${body}'`;
}

// ---- serve, run the worker, stop cleanly ----------------------------------------------------

const server = createServer(webhooks.nodeHandler());
// A webhook URL is public. Knocker bounds the bodies it reads (maxInFlightBodyBytes,
// bodyTimeoutMs); these bound the rest of what a client can hold open on node:http.
server.headersTimeout = 10_000;
server.requestTimeout = 30_000;
server.maxConnections = 1000;
server.keepAliveTimeout = 5_000;
const stopWorker = new AbortController();
const worker = webhooks.runWorker({
  signal: stopWorker.signal,
  onError: (error, { eventId }) => console.error(`worker: event #${eventId ?? "?"}: ${(error as Error).message}`),
});

let stopping = false;
async function shutdown(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  stopWorker.abort();
  await worker;
  await log.close();
  console.log(`\nStopped (${reason}). The inbox is in ${log.where}: SELECT * FROM demo_log;`);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void shutdown(signal).then(() => process.exit(0)));
}

server.once("error", (error: NodeJS.ErrnoException) => {
  console.error(error.code === "EADDRINUSE" ? `Port ${PORT} is in use: run with PORT=<another port>.` : error.message);
  process.exit(1);
});
server.listen(PORT, "127.0.0.1", async () => {
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  console.log(`Knocker demo inbox on ${base} (${log.where})`);
  for (const [path, secret] of [
    ["/webhooks/stripe", SECRETS.stripe], ["/webhooks/github", SECRETS.github], ["/webhooks/slack", SECRETS.slack],
    ["/webhooks/standard-webhooks", SECRETS.standardWebhooks],
  ]) {
    console.log(`  POST ${base}${path!.padEnd(28)} demo secret ${secret}`);
  }
  await sendBurst(base);
  if (ONCE) {
    await shutdown("--once");
    return;
  }
  console.log(`\nSend one more by hand (a GitHub issue, validly signed; send it twice to see the dedupe):\n\n  ${handMadeCurl(base)}\n`);
  console.log("Each receipt's journey is printed here. Ctrl+C to stop.\n");
});
