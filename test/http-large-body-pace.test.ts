// Large bodies are read at a bounded rate shared by every request (`largeBodyBytesPerSecond`),
// so a flood of multi-megabyte bodies cannot take the CPU valid webhooks need: over real
// loopback HTTP, a large valid body is still accepted whole (only slower), small webhooks sent
// while large bodies are paused are answered at once, the pause counts against bodyTimeoutMs,
// and the fetch() adapter is paced the same way.
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { open, KnockerError, type OpenOptions } from "../src/index.js";
import { stripeSignature, tempDbPath } from "./support.js";
import { serveInbox, type ServedInbox } from "./support/node-server.js";

const SECRET = "whsec_large_body_pace";
const MiB = 1024 * 1024;

function serve(options: OpenOptions): Promise<ServedInbox> {
  const webhooks = open(tempDbPath("pace.db"), options);
  webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  return serveInbox(webhooks);
}

function post(port: number, body: Buffer, signature: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", "content-length": String(body.length), "stripe-signature": signature };
    const req = request({ host: "127.0.0.1", port, method: "POST", path: "/stripe", headers, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode!, ms: performance.now() - started }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

let sequence = 0;
const event = (padding: number) => {
  const body = JSON.stringify({ id: `evt_pace_${sequence++}`, type: "invoice.paid", object: "event", data: { blob: "x".repeat(padding) } });
  return { body: Buffer.from(body), signature: stripeSignature(body, SECRET) };
};

test("largeBodyBytesPerSecond is validated like every option", () => {
  for (const bad of [0, -1, 1.5, "64MiB", Number.NaN]) {
    assert.throws(() => open(tempDbPath(), { largeBodyBytesPerSecond: bad as number }), (error: unknown) =>
      error instanceof KnockerError && error.code === "ERR_INVALID_OPTION" && error.message.includes("largeBodyBytesPerSecond"));
  }
});

describe("node:http, 1 MiB/s for large bodies", () => {
  let server: Awaited<ReturnType<typeof serve>>;
  before(async () => (server = await serve({ largeBodyBytesPerSecond: MiB })));
  after(() => server.close());

  test("a 2 MB valid body is paced (well over a second) yet accepted and stored whole; small webhooks meanwhile are not held", async () => {
    const large = event(2 * MiB);
    const pending = post(server.port, large.body, large.signature);
    await new Promise((r) => setTimeout(r, 200)); // the large body is being read, and paused
    const smalls: number[] = [];
    for (let i = 0; i < 5; i++) {
      const small = event(10_000); // under the 64 KiB head: never paced
      const { status, ms } = await post(server.port, small.body, small.signature);
      assert.equal(status, 204);
      smalls.push(ms);
    }
    const { status, ms } = await pending;
    assert.equal(status, 204);
    // 2 MiB beyond the first 64 KiB, less a 0.25 s burst, at 1 MiB/s: at least ~1.5 s.
    assert.ok(ms > 1200, `the large body took ${ms.toFixed(0)} ms: it was not paced`);
    assert.ok(Math.max(...smalls) < ms / 3, `small webhooks took up to ${Math.max(...smalls).toFixed(0)} ms while the large one took ${ms.toFixed(0)} ms`);
    const [delivery] = (await server.webhooks.listDeliveries({ endpoint: "stripe", signatureValid: true, limit: 10 })).filter((d) => d.bodyLength === large.body.length);
    assert.ok(delivery, "the large delivery is stored");
    assert.ok(delivery.body.equals(large.body));
  });

  test("concurrent large bodies share the one rate: two 1 MB bodies take about as long as one 2 MB body", async () => {
    const a = event(MiB);
    const b = event(MiB);
    const started = performance.now();
    const results = await Promise.all([post(server.port, a.body, a.signature), post(server.port, b.body, b.signature)]);
    const ms = performance.now() - started;
    assert.deepEqual(results.map((r) => r.status), [204, 204]);
    assert.ok(ms > 1200, `both bodies were read in ${ms.toFixed(0)} ms: the rate is not shared`);
  });
});

test("time spent paused counts against bodyTimeoutMs: 408", async () => {
  const server = await serve({ largeBodyBytesPerSecond: 256 * 1024, bodyTimeoutMs: 800 });
  try {
    const large = event(2 * MiB);
    const { status } = await post(server.port, large.body, large.signature).catch(() => ({ status: 0 }));
    assert.ok(status === 408 || status === 0, `a body paced past its deadline got ${status}`);
    assert.equal((await server.webhooks.listDeliveries({ endpoint: "stripe" })).length, 0, "nothing stored for a body that never arrived in time");
  } finally {
    await server.close();
  }
});

test("webhooks.fetch(): a streamed large body is paced the same way", async () => {
  const webhooks = open(tempDbPath(), { largeBodyBytesPerSecond: MiB });
  webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: [SECRET] });
  try {
    const large = event(2 * MiB);
    const pieces = Array.from({ length: 32 }, (_, i) => large.body.subarray(Math.floor((i * large.body.length) / 32), Math.floor(((i + 1) * large.body.length) / 32)));
    const body = new ReadableStream<Uint8Array>({ pull(controller) { const next = pieces.shift(); if (next) controller.enqueue(next); else controller.close(); } });
    const started = performance.now();
    const response = await webhooks.fetch(new Request("http://localhost/stripe", {
      method: "POST", headers: { "content-type": "application/json", "stripe-signature": large.signature }, body, duplex: "half",
    } as RequestInit));
    const ms = performance.now() - started;
    assert.equal(response.status, 204);
    assert.ok(ms > 1200, `read in ${ms.toFixed(0)} ms: not paced`);
  } finally {
    webhooks.close();
  }
});
