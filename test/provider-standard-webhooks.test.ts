import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, sign } from "node:crypto";
import { test } from "node:test";
import { Webhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { KnockerError, open } from "../src/index.js";
import { StandardWebhooksProvider } from "../src/providers/standard-webhooks.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";
import { tempDbPath } from "./support.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const KEY = Buffer.from(SECRET.slice(6), "base64");
const event = (type: string, amount = 4900) =>
  JSON.stringify({ type, timestamp: "2023-11-14T22:13:18.000Z", data: { invoice_id: "in_1OCxQ2", amount } });
const receipt = (body: string | Buffer, signature: string, id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", timestamp = NOW, family = "webhook") => ({
  body,
  headers: { [`${family}-id`]: id, [`${family}-timestamp`]: String(timestamp), [`${family}-signature`]: signature, "content-type": "application/json" },
});
const ours = (body: string | Buffer, id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", timestamp = NOW, key: string | Buffer = KEY) =>
  `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64")}`;
/** Run an oracle's verify() with the wall clock pinned to NOW. */
function atNow<T>(fn: () => T): T {
  const real = Date.now;
  Date.now = () => NOW * 1000;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

test("standard-webhooks: standardwebhooks and svix signatures are accepted; ours pass both verifiers; a one-byte change fails all", async () => {
  const provider = new StandardWebhooksProvider();
  const body = event("invoice.paid");
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const theirs = new Webhook(SECRET).sign(id, new Date(NOW * 1000), body);
  assert.equal((await verifyDirect(provider, receipt(body, theirs, id), [SECRET])).valid, true);
  const svix = new SvixWebhook(SECRET).sign(id, new Date(NOW * 1000), body);
  assert.equal((await verifyDirect(provider, receipt(body, svix, id, NOW, "svix"), [SECRET])).valid, true, "svix-* headers");

  const signature = ours(body, id);
  assert.equal((await verifyDirect(provider, receipt(body, signature, id), [SECRET])).valid, true);
  assert.deepEqual(atNow(() => new Webhook(SECRET).verify(body, receipt(body, signature, id).headers)), JSON.parse(body));
  assert.deepEqual(atNow(() => new SvixWebhook(SECRET).verify(body, receipt(body, signature, id, NOW, "svix").headers)), JSON.parse(body));

  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(provider, receipt(changed, signature, id), [SECRET])).signatureError, "standard-webhooks signature mismatch");
  assert.throws(() => atNow(() => new Webhook(SECRET).verify(changed, receipt(changed, signature, id).headers)));
  assert.throws(() => atNow(() => new SvixWebhook(SECRET).verify(changed, receipt(changed, signature, id, NOW, "svix").headers)));
});

test("standard-webhooks: v1a Ed25519 with a whpk_ public key; HMAC and Ed25519 keys may be configured together", async () => {
  const provider = new StandardWebhooksProvider();
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const publicKeyText = `whpk_${Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("base64")}`;
  const body = event("invoice.paid");
  const v1a = (payload: string | Buffer) => `v1a,${sign(null, Buffer.concat([Buffer.from(`msg_1.${NOW}.`), Buffer.from(payload)]), privateKey).toString("base64")}`;
  assert.equal((await verifyDirect(provider, receipt(body, v1a(body), "msg_1"), [publicKeyText])).valid, true);
  assert.equal((await verifyDirect(provider, receipt(body, v1a(body), "msg_1"), [SECRET, publicKeyText])).valid, true);
  assert.equal((await verifyDirect(provider, receipt(oneByteChanged(body), v1a(body), "msg_1"), [publicKeyText])).signatureError, "standard-webhooks signature mismatch");
  assert.equal((await verifyDirect(provider, receipt(body, v1a(body), "msg_2"), [publicKeyText])).valid, false, "the id is signed");
  assert.equal((await verifyDirect(provider, receipt(body, v1a(body), "msg_1"), [SECRET])).valid, false, "an HMAC key does not verify v1a");
  assert.equal((await verifyDirect(provider, receipt(body, ours(body, "msg_1"), "msg_1"), [publicKeyText])).valid, false, "a public key does not verify v1");
  // Undecodable whpk_/whsec_ secrets are refused at registration, and never make verify() throw.
  for (const bad of ["whpk_not*base64", "whpk_AAAA", "whsec_!!!"]) {
    assert.match((await verifyDirect(provider, receipt(body, v1a(body), "msg_1"), [bad])).signatureError ?? "", /standard-webhooks secret malformed/);
    const webhooks = open(tempDbPath());
    assert.throws(
      () => webhooks.endpoint("sw", { path: "/sw", provider: "standard-webhooks", secrets: [SECRET, bad] }),
      (error: unknown) => error instanceof KnockerError && error.code === "ERR_INVALID_SECRET" && /standard-webhooks secret #2/.test(error.message) && !error.message.includes(bad),
    );
    await webhooks.close();
  }
  // The v1a entry uses a 64-byte signature; a v1-length value under v1a is skipped as malformed.
  assert.match((await verifyDirect(provider, receipt(body, `v1a,${ours(body).slice(3)}`), [publicKeyText])).signatureError ?? "", /signature header malformed/);
});

test("standard-webhooks: whsec_ secrets are base64-decoded, others used as text", async () => {
  const provider = new StandardWebhooksProvider();
  const body = event("invoice.paid");
  assert.equal((await verifyDirect(provider, receipt(body, ours(body, undefined, NOW, "plain-secret")), ["plain-secret"])).valid, true);
  assert.equal((await verifyDirect(provider, receipt(body, ours(body, undefined, NOW, SECRET)), [SECRET])).valid, false, "whsec_ is not used literally");
  const unpadded = "whsec_" + Buffer.from("0123456789abcdefghij").toString("base64").replace(/=+$/, "");
  assert.equal((await verifyDirect(provider, receipt(body, ours(body, undefined, NOW, Buffer.from("0123456789abcdefghij"))), [unpadded])).valid, true, "padding optional");
});

test("standard-webhooks: identity is webhook-id; a retry is a duplicate, another message about the same invoice is not", async () => {
  const { receive } = inbox("standard-webhooks", [SECRET]);
  const paid = event("invoice.paid");
  const first = await receive(receipt(paid, ours(paid, "msg_1"), "msg_1"));
  assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
  assert.equal(first.delivery.eventType, "invoice.paid");
  assert.equal(first.delivery.providerEventId, "msg_1");
  assert.equal(first.delivery.dedupeKey, "msg_1");
  const refunded = event("invoice.refunded");
  const second = await receive(receipt(refunded, ours(refunded, "msg_2"), "msg_2"));
  assert.equal(second.result.duplicate, false);
  assert.notEqual(second.result.eventId, first.result.eventId);
  const retry = await receive(receipt(paid, ours(paid, "msg_1", NOW + 60), "msg_1", NOW + 60));
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, first.result.eventId);
  const rejected = await receive(receipt(paid, ours(paid, "msg_3", NOW - 400), "msg_3", NOW - 400));
  assert.equal(rejected.delivery.signatureValid, false);
  assert.equal(rejected.delivery.providerEventId, "msg_3", "metadata is kept on a rejected receipt");
});

test("standard-webhooks: tolerance is symmetric; several entries; malformed headers are rejected", async () => {
  const provider = new StandardWebhooksProvider();
  const body = event("invoice.paid");
  const check = (signature: string, timestamp = NOW, options = {}) => verifyDirect(provider, receipt(body, signature, undefined, timestamp), [SECRET], options);
  assert.equal((await check(ours(body, undefined, NOW - 300), NOW - 300)).valid, true);
  assert.equal((await check(ours(body, undefined, NOW - 301), NOW - 301)).signatureError, "standard-webhooks signature timestamp outside tolerance");
  assert.equal((await check(ours(body, undefined, NOW + 301), NOW + 301)).signatureError, "standard-webhooks signature timestamp outside tolerance");
  assert.equal((await check(ours(body, undefined, NOW - 301), NOW - 301, { toleranceS: 400 })).valid, true);
  assert.equal((await check(`v1,${"A".repeat(43)}= v2,abc ${ours(body)}`)).valid, true);
  assert.equal((await check(`v1,zz ${ours(body)}`)).valid, true, "a malformed entry next to a good one is skipped");
  for (const malformed of ["", "v1,", "v1", ours(body).slice(3), `v2,${ours(body).slice(3)}`, `V1,${ours(body).slice(3)}`, "v1,!!!!"]) {
    const result = await check(malformed);
    assert.equal(result.valid, false, malformed);
    assert.match(result.signatureError ?? "", /^standard-webhooks signature header malformed/, malformed);
  }
  for (const timestamp of ["abc", "-1", "1e9", "1700000000.5", ""]) {
    const result = await verifyDirect(provider, { body, headers: { ...receipt(body, ours(body)).headers, "webhook-timestamp": timestamp } }, [SECRET]);
    assert.equal(result.signatureError, "standard-webhooks signature timestamp is not a number", timestamp);
  }
  for (const header of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    const headers: Record<string, string> = { ...receipt(body, ours(body)).headers };
    delete headers[header];
    assert.equal((await verifyDirect(provider, { body, headers }, [SECRET])).signatureError, `missing signature header: ${header}`);
  }
  const duplicatedId = await verifyDirect(provider, { body, headers: { ...receipt(body, ours(body, "a")).headers, "webhook-id": ["a", "a"] } }, [SECRET]);
  assert.equal(duplicatedId.valid, false, "a duplicated id header is not the signed id");
});

test("standard-webhooks: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new StandardWebhooksProvider(), {
    headerNames: ["webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp", "svix-signature"],
    secrets: [SECRET],
  });
});

test("standard-webhooks: option validation", async () => {
  await assertRegistrationRejected("standard-webhooks", { toleranceS: "300" }, ["toleranceS"]);
  await assertRegistrationRejected("standard-webhooks", { toleranceS: 1.5 }, ["toleranceS"]);
  await assertRegistrationRejected("standard-webhooks", { publicKey: "whpk_x" }, ["publicKey"]);
  await assertRegistrationRejected("standard-webhooks", {}, ["secret"], []);
});
