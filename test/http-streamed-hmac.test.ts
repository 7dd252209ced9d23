// The HTTP layer runs a provider's body HMACs (`Provider.bodyMacs`) over the body as it arrives:
// the verdict over real loopback HTTP, with the body sent in many small pieces, is exactly the
// conformance vector's, and a refused body is never joined into one buffer or hashed again after
// it arrived (a spy on RawBody.whole, the only way to the whole body).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import Stripe from "stripe";
import { open } from "../src/index.js";
import { RawBody } from "../src/ingest/raw-body.js";
import { Provider, ProviderRequest } from "../src/providers/provider.js";
import { CURATED_PROVIDER_NAMES, prepareProvider } from "../src/providers/registry.js";
import type { Vector } from "../providers/generate/write-vectors.js";
import { tempDbPath } from "./support.js";
import { serveInbox, type ServedInbox } from "./support/node-server.js";

/** The curated providers whose signature is an HMAC over (a prefix and) the raw body. */
const STREAMED = ["clerk", "github", "intercom", "lemon-squeezy", "linear", "meta", "paddle", "resend", "shopify", "slack", "standard-webhooks", "stripe", "zendesk"];

const root = new URL("../providers/", import.meta.url).pathname;

/** Times a whole body was assembled (RawBody.whole), and times a provider read `request.body`. */
let joins = 0;
let bodyReads = 0;
const whole = RawBody.prototype.whole;
const bodyGetter = Object.getOwnPropertyDescriptor(ProviderRequest.prototype, "body")!;
before(() => {
  RawBody.prototype.whole = function (this: RawBody) {
    joins++;
    return whole.call(this);
  };
  Object.defineProperty(ProviderRequest.prototype, "body", {
    ...bodyGetter,
    get(this: ProviderRequest) {
      bodyReads++;
      return bodyGetter.get!.call(this);
    },
  });
});
after(() => {
  RawBody.prototype.whole = whole;
  Object.defineProperty(ProviderRequest.prototype, "body", bodyGetter);
});

/** One inbox per clock (vectors pin theirs), each behind its own node:http server. */
function serve(now: number): Promise<ServedInbox> {
  return serveInbox(open(tempDbPath(`streamed-${now}-${Math.random().toString(36).slice(2)}.db`), { now: () => now }));
}

/** POST `body` in `pieces` writes with a pause between them, so it arrives in several chunks. */
function send(port: number, path: string, method: string, headers: Record<string, string | string[]>, body: Buffer, pieces = 8): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, agent: false, headers: { ...headers, "content-length": String(body.length) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode!));
    });
    req.on("error", reject);
    void (async () => {
      const size = Math.ceil(body.length / pieces) || 1;
      for (let at = 0; at < body.length; at += size) {
        req.write(body.subarray(at, at + size));
        await sleep(2);
      }
      req.end();
    })();
  });
}

test("exactly the HMAC-over-body providers declare body MACs", () => {
  for (const name of CURATED_PROVIDER_NAMES) {
    const { request } = JSON.parse(readFileSync(join(root, name, "valid.json"), "utf8")) as Vector;
    const { provider } = prepareProvider(name, name, request.secrets, request.options ?? {}) ?? assert.fail(`${name} is curated`);
    const streams = provider.bodyMacs !== Provider.prototype.bodyMacs;
    assert.equal(streams, STREAMED.includes(name), `${name} ${STREAMED.includes(name) ? "streams" : "does not stream"} its body HMAC`);
  }
});

for (const provider of STREAMED) {
  describe(`${provider}: every vector over HTTP, body in pieces`, () => {
    const files = readdirSync(join(root, provider)).filter((file) => file.endsWith(".json")).sort();
    for (const [index, file] of files.entries()) {
      const vector = JSON.parse(readFileSync(join(root, provider, file), "utf8")) as Vector;
      test(`${file}: ${vector.description}`, async () => {
        const { request, expected } = vector;
        const server = await serve(request.now);
        try {
          const path = `/${provider}/${index}${new URLSearchParams(request.query as Record<string, string> ?? {}).size > 0 ? `?${new URLSearchParams(request.query as Record<string, string>)}` : ""}`;
          server.webhooks.endpoint(`${provider}-${index}`, { path: `/${provider}/${index}`, provider, secrets: request.secrets, providerOptions: request.options ?? {} });
          const body = request.bodyBase64 !== undefined ? Buffer.from(request.bodyBase64, "base64") : Buffer.from(request.body ?? "", "utf8");
          const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !["content-length", "host", "transfer-encoding"].includes(name.toLowerCase())));
          // A request its headers already condemn is answered unread (and stored without a body).
          const prepared = prepareProvider(provider, provider, request.secrets, request.options ?? {})!;
          const lower = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
          const unread = prepared.provider.precheck(new ProviderRequest({ method: request.method ?? "POST", headers: lower, query: request.query ?? {}, body: Buffer.alloc(0) }),
            { secrets: prepared.secrets, options: prepared.options, now: request.now }) !== undefined;
          const readsBefore = bodyReads;
          const status = await send(server.port, path, request.method ?? "POST", headers, body, unread ? 1 : 8);
          const [delivery] = await server.webhooks.listDeliveries({ endpoint: `${provider}-${index}` });
          assert.ok(delivery, "the receipt was stored");
          assert.equal(delivery.signatureValid, expected.valid, `valid (error: ${delivery.signatureError})`);
          if (expected.errorContains !== undefined) assert.ok(delivery.signatureError?.includes(expected.errorContains), `error "${delivery.signatureError}" contains "${expected.errorContains}"`);
          assert.equal(status, expected.statusCode ?? (expected.valid ? (expected.reply ? 200 : 204) : 401));
          assert.deepEqual(delivery.body, unread ? Buffer.alloc(0) : body);
          // The provider never read the whole body of a refused request: its MACs were computed
          // from the pieces as they came. Two refusals need the body itself: Linear's replay
          // window is a timestamp inside the (already authenticated) JSON, and an Ed25519
          // signature is checked over the whole message.
          const needsBody = (provider === "linear" && file.includes("timestamp")) || file.startsWith("ed25519");
          if (!expected.valid && !needsBody) assert.equal(bodyReads - readsBefore, 0, "the provider never read the refused body whole");
        } finally {
          await server.close();
        }
      });
    }
  });
}

describe("large bodies", () => {
  const SECRET = "whsec_streamed_hmac_large";
  const stripe = new Stripe("sk_test_streamed");
  const now = Math.floor(Date.now() / 1000);
  let server: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    server = await serve(now);
    server.webhooks.endpoint("stripe", { path: "/stripe", provider: "stripe", secrets: ["whsec_old_secret", SECRET] });
  });
  after(() => server.close());

  const big = (id: string) => Buffer.from(JSON.stringify({ id, type: "invoice.paid", object: "event", data: { blob: "x".repeat(3_000_000) } }));

  test("a validly signed 3 MB body arriving in many chunks is accepted and stored byte for byte (second secret)", async () => {
    const body = big("evt_large_valid");
    const signature = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: SECRET, timestamp: now });
    assert.equal(await send(server.port, "/stripe", "POST", { "content-type": "application/json", "stripe-signature": signature }, body, 64), 204);
    const [delivery] = await server.webhooks.listDeliveries({ endpoint: "stripe", limit: 1 });
    assert.equal(delivery!.signatureValid, true);
    assert.equal(delivery!.providerEventId, "evt_large_valid");
    assert.ok(delivery!.body.equals(body));
  });

  test("a wrongly signed 3 MB body is refused, never joined, and only its head stored", async () => {
    const body = big("evt_large_forged");
    const signature = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: "whsec_not_ours", timestamp: now });
    const joinsBefore = joins;
    const readsBefore = bodyReads;
    assert.equal(await send(server.port, "/stripe", "POST", { "content-type": "application/json", "stripe-signature": signature }, body, 64), 401);
    assert.equal(joins - joinsBefore, 0, "never joined into one buffer");
    assert.equal(bodyReads - readsBefore, 0, "never read whole by the provider");
    const [delivery] = await server.webhooks.listDeliveries({ endpoint: "stripe", limit: 1 });
    assert.equal(delivery!.signatureValid, false);
    assert.equal(delivery!.signatureError, "stripe signature mismatch");
    assert.equal(delivery!.bodyLength, body.length);
    assert.ok(delivery!.body.equals(body.subarray(0, 4096)));
  });

  test("one byte changed in the last chunk of a 3 MB body is caught", async () => {
    const body = big("evt_large_tampered");
    const signature = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: SECRET, timestamp: now });
    const tampered = Buffer.from(body);
    tampered[tampered.length - 3] = "y".charCodeAt(0);
    assert.equal(await send(server.port, "/stripe", "POST", { "content-type": "application/json", "stripe-signature": signature }, tampered, 64), 401);
  });

  test("webhooks.fetch(): a body streamed in pieces is verified the same way", async () => {
    const body = big("evt_large_fetch");
    const signature = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: SECRET, timestamp: now });
    const pieces = Array.from({ length: 50 }, (_, i) => body.subarray(Math.floor((i * body.length) / 50), Math.floor(((i + 1) * body.length) / 50)));
    const stream = (chunks: Buffer[]) => new ReadableStream<Uint8Array>({ pull(controller) { const next = chunks.shift(); if (next) controller.enqueue(next); else controller.close(); } });
    const post = (chunks: Buffer[], sig: string) => server.webhooks.fetch(new Request("http://localhost/stripe", { method: "POST", headers: { "content-type": "application/json", "stripe-signature": sig }, body: stream(chunks), duplex: "half" } as RequestInit));
    assert.equal((await post([...pieces], signature)).status, 204);
    const forged = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: "whsec_not_ours", timestamp: now });
    const joinsBefore = joins;
    assert.equal((await post([...pieces], forged)).status, 401);
    assert.equal(joins - joinsBefore, 0);
  });

  test("receive() with a whole body (no HTTP layer) still verifies without body MACs", async () => {
    const body = big("evt_large_receive");
    const signature = stripe.webhooks.generateTestHeaderString({ payload: body.toString(), secret: SECRET, timestamp: now });
    const result = await server.webhooks.receive({ endpoint: "stripe", body, headers: { "stripe-signature": signature } });
    assert.equal(result.statusCode, 204);
    assert.ok(new ProviderRequest({ method: "POST", headers: {}, query: {}, body }).bodyHmac("sha256", SECRET, `${now}.`).equals(
      Buffer.from(signature.split("v1=")[1]!, "hex")));
  });
});
