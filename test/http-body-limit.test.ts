// A 50 MB body against a 1 MB limit: 413, the orphan delivery stored with an empty body, and the
// server process's memory flat. The client is a separate process streaming generated chunks, so
// the only process measured here is the one serving the request.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { test } from "node:test";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { open, type Knocker } from "../src/index.js";
import { tempDbPath } from "./support.js";
import { closeServer, listen } from "./support/http-suite.js";

const LIMIT = 1024 * 1024;
const TOTAL = 50 * 1024 * 1024;
/** "A few MB": buffering the body would cost 50. */
const MAX_GROWTH_MB = 5;

/** Stream TOTAL bytes of generated chunks to `url` from another process; print the status. */
const CLIENT = `
const http = require("node:http");
const [url, total, mode] = process.argv.slice(1);
const chunk = Buffer.alloc(64 * 1024, 120);
// A signature header of the right shape and a fresh timestamp: it passes the header checks made
// before the body is read, so the body limit is what refuses the request.
const signature = "t=" + Math.floor(Date.now() / 1000) + ",v1=" + "0".repeat(64);
const headers = mode === "declared" ? { "content-length": total, "stripe-signature": signature } : { "stripe-signature": signature };
const req = http.request(url, { method: "POST", headers }, (res) => {
  res.resume();
  res.on("end", () => { console.log(res.statusCode); process.exit(0); });
});
req.on("error", (e) => { console.log("error " + e.code); process.exit(1); });
let sent = 0;
function pump() {
  while (sent < Number(total)) {
    sent += chunk.length;
    if (!req.write(chunk)) { req.once("drain", pump); return; }
  }
  req.end();
}
pump();
`;

function sendFromChild(url: string, mode: "declared" | "chunked", total = TOTAL): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", CLIENT, url, String(total), mode], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (data: Buffer) => (out += data.toString()));
    child.on("error", reject);
    child.on("exit", () => resolve(out.trim()));
  });
}

/** Peak RSS growth (MB) of this process while `work` runs. */
async function rssGrowthDuring(work: () => Promise<void>): Promise<number> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return (peak - baseline) / (1024 * 1024);
}

type Serve = (webhooks: Knocker) => Promise<{ url: string; stop(): Promise<void> }>;

/** Two 50 MB uploads (declared length, then chunked); returns the RSS growth of each. */
async function refuseBigBodies(name: string, serveIt: Serve): Promise<number[]> {
  const growths: number[] = [];
  const webhooks = open(tempDbPath(), { maxBodyBytes: LIMIT });
  webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: ["whsec_big"] });
  const { url, stop } = await serveIt(webhooks);
  const target = `${url}/webhooks/stripe`;
  try {
    // Warm up every code path once (small valid-size body, then an over-limit one).
    assert.equal(await sendFromChild(target, "chunked", 1024), "401");
    assert.equal(await sendFromChild(target, "chunked", 2 * LIMIT), "413");
    for (const mode of ["declared", "chunked"] as const) {
      let status = "";
      const growth = await rssGrowthDuring(async () => {
        status = await sendFromChild(target, mode);
      });
      assert.equal(status, "413", `${name} ${mode}`);
      growths.push(growth);
      const [delivery] = await webhooks.listDeliveries({ limit: 1 });
      assert.equal(delivery?.body.length, 0, "the orphan delivery has an empty body");
      assert.equal(delivery?.eventId, null);
      assert.equal(delivery?.signatureError, `body too large: exceeds maxBodyBytes (${LIMIT} bytes)`);
    }
    assert.equal((await webhooks.listDeliveries({ orphaned: true })).length, 4);
    assert.equal((await webhooks.listEvents()).length, 0);
  } finally {
    await stop();
    await webhooks.close();
  }
  return growths;
}

test("nodeHandler(): a 50 MB body against a 1 MB limit answers 413 with flat memory, declared or chunked", async (t) => {
  const growths = await refuseBigBodies("node:http", async (webhooks) => {
    const server = createServer(webhooks.nodeHandler());
    return { url: await listen(server), stop: () => closeServer(server) };
  });
  growths.forEach((growth, i) => {
    t.diagnostic(`RSS growth, ${i === 0 ? "declared" : "chunked"} 50 MB body: ${growth.toFixed(1)} MB`);
    assert.ok(growth < MAX_GROWTH_MB, `RSS grew by ${growth.toFixed(1)} MB while refusing a 50 MB body`);
  });
});

// Through fetch() Knocker stops reading at the limit too, but the rest of the upload belongs to
// the server: @hono/node-server drains up to 64 MB of an unread body (its own policy) and the
// garbage that makes is not Knocker's; so only the answer and the stored row are checked here.
test("fetch() under Hono: a 50 MB body against a 1 MB limit answers 413 and stores the orphan with an empty body", async () => {
  await refuseBigBodies("hono", async (webhooks) => {
    const app = new Hono();
    app.all("/webhooks/*", (c) => webhooks.fetch(c.req.raw));
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise((resolve) => server.once("listening", resolve));
    return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, stop: () => closeServer(server) };
  });
});
