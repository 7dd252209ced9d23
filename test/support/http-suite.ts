// The HTTP status matrix of the front door, run over real loopback HTTP against one server
// flavour (node:http, Express, Hono, Fastify). Signatures come from the providers' own npm packages.
import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, sign as ed25519Sign } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { after, before, test } from "node:test";
import { sign as githubSign } from "@octokit/webhooks-methods";
import { isValidSlackRequest } from "@slack/bolt";
import { verifyKey } from "discord-interactions";
import Database from "better-sqlite3";
import Stripe from "stripe";
import { open, type Knocker, type SqliteDatabase } from "../../src/index.js";
import { tempDbPath } from "../support.js";
import type { TestEngine } from "./engines.js";

export const SECRETS = {
  stripe: "whsec_http_suite",
  github: "gh-http-suite",
  slack: "slack-http-suite-signing-secret",
  metaApp: "meta-app-secret",
  metaToken: "meta-verify-token",
};
/** The Discord application's key pair; the endpoint's secret is the hex public key. */
const DISCORD = (() => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKeyHex: Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("hex") };
})();

/** Small, so a 413 needs no big upload here (test/http-body-limit.test.ts sends 50 MB). */
export const LIMIT = 64 * 1024;

const stripeSdk = new Stripe("sk_test_http_suite");

/**
 * An inbox with stripe, github, slack, meta and discord endpoints under /webhooks/…, and a stripe
 * endpoint at /webhooks/paused registered with `enabled: false`; closed after the file. On a new
 * file, or on a connection the test keeps (`open(db)`).
 */
export function suiteInbox(database: string | SqliteDatabase = tempDbPath()): Knocker {
  return withSuiteEndpoints(open(database, SUITE_OPTIONS));
}

const SUITE_OPTIONS = { maxBodyBytes: LIMIT };

function withSuiteEndpoints(webhooks: Knocker): Knocker {
  webhooks.endpoint("stripe", { path: "/webhooks/stripe", provider: "stripe", secrets: [SECRETS.stripe] });
  webhooks.endpoint("github", { path: "/webhooks/github", provider: "github", secrets: [SECRETS.github] });
  webhooks.endpoint("slack", { path: "/webhooks/slack", provider: "slack", secrets: [SECRETS.slack] });
  webhooks.endpoint("meta", {
    path: "/webhooks/meta", provider: "meta", secrets: [SECRETS.metaApp], providerOptions: { verifyToken: SECRETS.metaToken },
  });
  webhooks.endpoint("discord", { path: "/webhooks/discord", provider: "discord", secrets: [DISCORD.publicKeyHex] });
  webhooks.endpoint("paused", { path: "/webhooks/paused", provider: "stripe", secrets: [SECRETS.stripe], enabled: false });
  return webhooks;
}

export function stripeEvent(id: string, type = "invoice.paid", pad = 0): string {
  return JSON.stringify({ id, object: "event", type, data: { object: { id: `in_${id}`, note: "x".repeat(pad) } } });
}

export function stripeHeaders(payload: string, secret = SECRETS.stripe): Record<string, string> {
  return { "content-type": "application/json", "stripe-signature": stripeSdk.webhooks.generateTestHeaderString({ payload, secret }) };
}

export async function githubHeaders(payload: string, delivery: string, event = "push"): Promise<Record<string, string>> {
  return {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": delivery,
    "x-hub-signature-256": await githubSign(SECRETS.github, payload),
  };
}

/** Slack publishes no signer; signed per its docs, and checked with @slack/bolt's own verifier. */
export function slackHeaders(payload: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac("sha256", SECRETS.slack).update(`v0:${timestamp}:${payload}`).digest("hex")}`;
  assert.ok(isValidSlackRequest({
    signingSecret: SECRETS.slack, body: payload, headers: { "x-slack-signature": signature, "x-slack-request-timestamp": timestamp },
  }));
  return { "content-type": "application/json", "x-slack-signature": signature, "x-slack-request-timestamp": String(timestamp) };
}

/**
 * Discord publishes no signer; signed per its docs (Ed25519 over timestamp + body), and checked
 * with discord-interactions' own verifyKey.
 */
export async function discordHeaders(payload: string): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = ed25519Sign(null, Buffer.from(timestamp + payload), DISCORD.privateKey).toString("hex");
  assert.equal(await verifyKey(payload, signature, timestamp, DISCORD.publicKeyHex), true);
  return { "content-type": "application/json", "x-signature-ed25519": signature, "x-signature-timestamp": timestamp };
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface Flavour {
  name: string;
  /** Serve `webhooks` over loopback; resolve to the base URL and a stop function. */
  start(webhooks: Knocker): Promise<{ url: string; stop(): Promise<void> }>;
  /** The inbox's engine (default: a new SQLite file). */
  engine?: TestEngine;
}

interface Sent {
  status: number;
  body: string;
  headers: Headers;
}

/** Every status code of the front door through one server flavour. */
export function httpStatusSuite(flavour: Flavour): void {
  let webhooks: Knocker;
  // The suite's own connection to the inbox's file (the app-owned pattern): its page limit is the
  // inbox's disk in the disk-full test.
  let db: Database.Database;
  let url = "";
  let stop: () => Promise<void> = async () => {};
  const deliveries = async () => (await webhooks.listDeliveries({ limit: 1000 })).length;
  const send = async (path: string, init: RequestInit = {}): Promise<Sent> => {
    const response = await fetch(`${url}${path}`, { method: "POST", ...init });
    return { status: response.status, body: await response.text(), headers: response.headers };
  };

  const onSqlite = flavour.engine === undefined || flavour.engine.name === "sqlite";
  before(async () => {
    if (onSqlite) {
      db = new Database(tempDbPath());
      webhooks = suiteInbox(db);
    } else {
      webhooks = withSuiteEndpoints(await flavour.engine!.open(SUITE_OPTIONS));
    }
    ({ url, stop } = await flavour.start(webhooks));
  });
  after(async () => {
    await stop();
    await webhooks.close();
    if (onSqlite) db.close();
  });

  test(`${flavour.name}: 204 for a new Stripe event (stored, linked, queued) and 204 for its duplicate`, async () => {
    const body = stripeEvent("evt_http_new");
    const first = await send("/webhooks/stripe", { body, headers: stripeHeaders(body) });
    assert.equal(first.status, 204);
    assert.equal(first.body, "");
    const [event] = await webhooks.listEvents({ endpoint: "stripe", eventType: "invoice.paid" });
    assert.ok(event);
    assert.equal(event.body.toString(), body, "the raw bytes were stored");
    assert.equal(event.status, "received");

    const again = await send("/webhooks/stripe", { body, headers: stripeHeaders(body) });
    assert.equal(again.status, 204);
    const linked = await webhooks.listDeliveries({ eventId: event.id });
    assert.equal(linked.length, 2, "the duplicate is a second delivery of the same event");
    assert.equal((await webhooks.listEvents({ endpoint: "stripe" })).length, 1);
  });

  test(`${flavour.name}: 204 for a GitHub push signed by @octokit/webhooks-methods; the query string reaches the delivery`, async () => {
    const body = JSON.stringify({ ref: "refs/heads/main", after: "abc123" });
    const sent = await send("/webhooks/github?source=suite", { body, headers: await githubHeaders(body, "d-http-1") });
    assert.equal(sent.status, 204);
    const [delivery] = await webhooks.listDeliveries({ endpoint: "github", limit: 1 });
    assert.equal(delivery?.providerDeliveryId, "d-http-1");
    assert.equal(delivery?.eventType, "push");
    assert.deepEqual(delivery?.query, { source: "suite" });
    assert.equal(delivery?.method, "POST");
  });

  test(`${flavour.name}: 401 for a bad signature; the reason is stored on the delivery, not sent`, async () => {
    const body = stripeEvent("evt_http_forged");
    const sent = await send("/webhooks/stripe", { body, headers: stripeHeaders(body, "whsec_someone_else") });
    assert.equal(sent.status, 401);
    assert.equal(sent.body, "");
    const [delivery] = await webhooks.listDeliveries({ endpoint: "stripe", signatureValid: false, limit: 1 });
    assert.equal(delivery?.signatureError, "stripe signature mismatch");
    assert.equal(delivery?.eventId, null);
    assert.equal(delivery?.providerEventId, null, "the body of a refused receipt is never parsed");

    const unsigned = await send("/webhooks/github", { body: "{}", headers: { "x-github-event": "push" } });
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.body, "");
  });

  test(`${flavour.name}: 404 for a path that is no endpoint, and nothing is stored`, async () => {
    const before = await deliveries();
    const body = stripeEvent("evt_http_lost");
    const sent = await send("/webhooks/nope", { body, headers: stripeHeaders(body) });
    assert.equal(sent.status, 404);
    assert.equal(await deliveries(), before);
    assert.equal((await send("/webhooks/stripe/", { body, headers: stripeHeaders(body) })).status, 404, "paths match exactly");
    assert.equal(await deliveries(), before);
  });

  test(`${flavour.name}: 405 (with Allow) for a method no handshake needs, and nothing is stored`, async () => {
    const before = await deliveries();
    const put = await send("/webhooks/stripe", { method: "PUT", body: "{}" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "POST");
    const get = await send("/webhooks/stripe", { method: "GET" });
    assert.equal(get.status, 405);
    const metaDelete = await send("/webhooks/meta", { method: "DELETE" });
    assert.equal(metaDelete.status, 405);
    assert.equal(metaDelete.headers.get("allow"), "GET, POST", "Meta declares its GET handshake");
    assert.equal(await deliveries(), before);
  });

  test(`${flavour.name}: 413 for a body over maxBodyBytes: orphan delivery with an empty body and the limit named`, async () => {
    const body = stripeEvent("evt_http_big", "invoice.paid", LIMIT);
    const sent = await send("/webhooks/stripe", { body, headers: stripeHeaders(body) });
    assert.equal(sent.status, 413);
    assert.equal(sent.body, "");
    const [delivery] = await webhooks.listDeliveries({ endpoint: "stripe", orphaned: true, limit: 1 });
    assert.equal(delivery?.body.length, 0);
    assert.equal(delivery?.signatureError, `body too large: exceeds maxBodyBytes (${LIMIT} bytes)`);
    assert.match(String(delivery?.headers["stripe-signature"]), /^t=\d+,v1=/, "the headers are kept for diagnosis");
    assert.equal((await webhooks.listEvents({ endpoint: "stripe", limit: 100 })).some((e) => e.providerEventId === "evt_http_big"), false);

    const exactly = stripeEvent("evt_http_limit", "invoice.paid", 0);
    const padded = exactly.replace('"note":""', `"note":"${"y".repeat(LIMIT - exactly.length)}"`);
    assert.equal(Buffer.byteLength(padded), LIMIT);
    assert.equal((await send("/webhooks/stripe", { body: padded, headers: stripeHeaders(padded) })).status, 204, "exactly the limit is accepted");
  });

  test(`${flavour.name}: 200 with the body for handshakes (Meta GET, Slack url_verification); 403 for a wrong Meta token`, async () => {
    const query = `hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${SECRETS.metaToken}`;
    const meta = await send(`/webhooks/meta?${query}`, { method: "GET" });
    assert.equal(meta.status, 200);
    assert.equal(meta.body, "1158201444");
    assert.match(meta.headers.get("content-type") ?? "", /^text\/plain/);
    const [handshake] = await webhooks.listDeliveries({ endpoint: "meta", limit: 1 });
    assert.equal(handshake?.signatureValid, true);
    assert.equal(handshake?.eventId, null);
    assert.equal(handshake?.query["hub.verify_token"], "[redacted]", "the verify token is not stored");

    const refused = await send("/webhooks/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong", { method: "GET" });
    assert.equal(refused.status, 403);
    assert.equal(refused.body, "");

    const body = JSON.stringify({ token: "t", challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", type: "url_verification" });
    const slack = await send("/webhooks/slack", { body, headers: slackHeaders(body) });
    assert.equal(slack.status, 200);
    assert.equal(slack.body, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    assert.equal((await webhooks.listEvents({ endpoint: "slack" })).length, 0, "a handshake is not an event");
  });

  test(`${flavour.name}: 200 {"type":1} (application/json) for a Discord PING signed with Ed25519; stored valid, no event`, async () => {
    const body = JSON.stringify({ application_id: "1174771536211640320", id: "1175154001234567890", token: "t", type: 1, version: 1 });
    const sent = await send("/webhooks/discord", { body, headers: await discordHeaders(body) });
    assert.equal(sent.status, 200);
    assert.match(sent.headers.get("content-type") ?? "", /^application\/json\b/);
    assert.deepEqual(JSON.parse(sent.body), { type: 1 });
    assert.equal(sent.body, '{"type":1}');
    const [ping] = await webhooks.listDeliveries({ endpoint: "discord", limit: 1 });
    assert.equal(ping?.signatureValid, true);
    assert.equal(ping?.signatureError, null);
    assert.equal(ping?.eventId, null);
    assert.equal(ping?.body.toString(), body);
    assert.equal((await webhooks.listEvents({ endpoint: "discord" })).length, 0, "a PING is not an event");
  });

  test(`${flavour.name}: 404 for an endpoint registered with enabled: false, and an orphan delivery records it`, async () => {
    const body = stripeEvent("evt_http_paused");
    const sent = await send("/webhooks/paused", { body, headers: stripeHeaders(body) });
    assert.equal(sent.status, 404);
    assert.equal(sent.body, "");
    const [delivery] = await webhooks.listDeliveries({ endpoint: "paused", limit: 1 });
    assert.equal(delivery?.eventId, null);
    assert.equal(delivery?.signatureValid, false);
    assert.equal(delivery?.signatureError, 'endpoint "paused" is disabled');
    assert.equal(delivery?.body.toString(), body);
    assert.equal((await webhooks.listEvents({ endpoint: "paused" })).length, 0);
  });

  // A full disk, through SQLite's page limit; Postgres's refusal (the server gone) is test/postgres-failures.test.ts.
  if (onSqlite) test(`${flavour.name}: 503 with Retry-After when the receipt cannot be committed (disk full), then 204 once it can`, async () => {
    const pages = db.pragma("page_count", { simple: true }) as number;
    const reports: Array<{ status: number; error?: unknown }> = [];
    const off = webhooks.on("http:response", (payload) => reports.push(payload));
    const body = stripeEvent("evt_http_full", "invoice.paid", 16 * 1024);
    const countBefore = await deliveries();
    db.pragma(`max_page_count = ${pages}`);
    let sent: Sent;
    try {
      sent = await send("/webhooks/stripe", { body, headers: stripeHeaders(body) });
    } finally {
      db.pragma("max_page_count = 1073741823");
      off();
    }
    assert.equal(sent.status, 503);
    assert.equal(sent.headers.get("retry-after"), "5");
    assert.equal(sent.body, "", "no SQL error, no stack trace in the answer");
    assert.equal(await deliveries(), countBefore, "nothing was stored");
    const failure = reports.find((r) => r.status === 503);
    assert.equal((failure?.error as { code?: string } | undefined)?.code, "ERR_STORAGE", "the cause reaches the http:response listener");

    const retried = await send("/webhooks/stripe", { body, headers: stripeHeaders(body) });
    assert.equal(retried.status, 204);
    assert.ok((await webhooks.listEvents({ endpoint: "stripe", limit: 100 })).some((e) => e.providerEventId === "evt_http_full"));
  });
}
