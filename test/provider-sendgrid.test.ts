import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createRequire } from "node:module";
import { test } from "node:test";
import { EventWebhook } from "@sendgrid/eventwebhook";
import { PRIMARY, SECONDARY, sendgridSignature } from "../providers/generate/sendgrid-keys.js";
import { KnockerError, open } from "../src/index.js";
import { SendgridProvider } from "../src/providers/sendgrid.js";
import { assertNeverVerifiesWithoutSecret, assertRegistrationRejected, inbox, NOW, oneByteChanged, verifyDirect } from "./provider-kit.js";
import { tempDbPath } from "./support.js";

// @sendgrid/eventwebhook only verifies; it is built on starkbank-ecdsa, whose signer is used
// (resolved from the package's own location) as the "their signature" side of the cross-check.
const starkbank = createRequire(createRequire(import.meta.url).resolve("@sendgrid/eventwebhook"))("starkbank-ecdsa") as {
  PrivateKey: { fromPem(pem: string): unknown };
  Ecdsa: { sign(message: string, key: unknown): { toBase64(): string } };
};
const KEY = PRIMARY.publicKeyBase64;
const batch = (...events: Array<[string, string]>) =>
  JSON.stringify(events.map(([event, id]) => ({ email: "example@test.com", timestamp: NOW - 5, event, sg_event_id: id, sg_message_id: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0" })));
const receipt = (body: string | Buffer, signature = sendgridSignature(PRIMARY.privateKey, NOW, body), timestamp = NOW) => ({
  body,
  headers: { "X-Twilio-Email-Event-Webhook-Signature": signature, "X-Twilio-Email-Event-Webhook-Timestamp": String(timestamp), "Content-Type": "application/json" },
});
const webhook = new EventWebhook();
const theirVerify = (body: string | Buffer, signature: string, timestamp = NOW) =>
  webhook.verifySignature(webhook.convertPublicKeyToECDSA(KEY), body, signature, String(timestamp));

test("sendgrid: starkbank-ecdsa signatures are accepted; ours pass EventWebhook.verifySignature; a one-byte change fails both", async () => {
  const provider = new SendgridProvider();
  const body = batch(["processed", "evt-1"]);
  const theirs = starkbank.Ecdsa.sign(`${NOW}${body}`, starkbank.PrivateKey.fromPem(PRIMARY.privateKey.export({ format: "pem", type: "sec1" }).toString())).toBase64();
  assert.equal((await verifyDirect(provider, receipt(body, theirs), [KEY])).valid, true);
  assert.equal(theirVerify(body, theirs), true);
  const ours = sendgridSignature(PRIMARY.privateKey, NOW, body);
  assert.equal((await verifyDirect(provider, receipt(body, ours), [KEY])).valid, true);
  assert.equal(theirVerify(body, ours), true);
  const changed = oneByteChanged(body);
  assert.equal((await verifyDirect(provider, receipt(changed, ours), [KEY])).signatureError, "sendgrid signature mismatch");
  assert.equal(theirVerify(changed, ours), false);
  assert.equal((await verifyDirect(provider, receipt(body, ours, NOW + 1), [KEY])).signatureError, "sendgrid signature mismatch", "the timestamp is signed");
});

test("sendgrid: keys as base64 SPKI or PEM; rotation; keys that are not P-256 are refused", async () => {
  const provider = new SendgridProvider();
  const body = batch(["delivered", "evt-2"]);
  assert.equal((await verifyDirect(provider, receipt(body), [PRIMARY.publicKeyPem])).valid, true);
  assert.equal((await verifyDirect(provider, receipt(body), [SECONDARY.publicKeyBase64, KEY])).valid, true);
  assert.equal((await verifyDirect(provider, receipt(body), [SECONDARY.publicKeyBase64])).signatureError, "sendgrid signature mismatch");
  const wrapped = KEY.replace(/(.{64})/g, "$1\n");
  assert.equal((await verifyDirect(provider, receipt(body), [wrapped])).valid, true, "line-wrapped base64 is fine");
  const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" }).publicKey.export({ format: "der", type: "spki" }).toString("base64");
  const ed25519 = generateKeyPairSync("ed25519").publicKey.export({ format: "pem", type: "spki" }).toString();
  for (const bad of ["not a key", p384, ed25519, "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----"]) {
    // Refused at registration (the message never repeats the key) …
    const webhooks = open(tempDbPath());
    assert.throws(
      () => webhooks.endpoint("sg", { path: "/sg", provider: "sendgrid", secrets: [KEY, bad] }),
      (error: unknown) => error instanceof KnockerError && error.code === "ERR_INVALID_SECRET" && /sendgrid secret #2/.test(error.message) && !error.message.includes(bad),
    );
    await webhooks.close();
    // … and, for a provider instance driven directly, never a throw from verify().
    assert.match((await verifyDirect(provider, receipt(body), [bad])).signatureError ?? "", /^sendgrid verification key malformed/);
  }
});

test("sendgrid: tolerance is symmetric; malformed headers are rejected", async () => {
  const provider = new SendgridProvider();
  const body = batch(["open", "evt-3"]);
  const at = (timestamp: number, options = {}) => verifyDirect(provider, receipt(body, sendgridSignature(PRIMARY.privateKey, timestamp, body), timestamp), [KEY], options);
  assert.equal((await at(NOW - 300)).valid, true);
  assert.equal((await at(NOW - 301)).signatureError, "sendgrid signature timestamp outside tolerance");
  assert.equal((await at(NOW + 301)).signatureError, "sendgrid signature timestamp outside tolerance");
  assert.equal((await at(NOW - 3600, { toleranceS: 7200 })).valid, true);
  for (const malformed of ["", "not base64!", "AAAA", Buffer.alloc(72).toString("base64")]) {
    const result = await verifyDirect(provider, receipt(body, malformed), [KEY]);
    assert.equal(result.valid, false, malformed);
    assert.match(result.signatureError ?? "", /^sendgrid signature (header malformed|mismatch)/, malformed);
  }
  for (const ts of ["abc", "-1", "1.7e9"]) {
    const result = await verifyDirect(provider, { body, headers: { ...receipt(body).headers, "X-Twilio-Email-Event-Webhook-Timestamp": ts } }, [KEY]);
    assert.equal(result.signatureError, "sendgrid signature timestamp is not a number", ts);
  }
  for (const header of ["x-twilio-email-event-webhook-signature", "x-twilio-email-event-webhook-timestamp"]) {
    const headers = Object.fromEntries(Object.entries(receipt(body).headers).filter(([name]) => name.toLowerCase() !== header));
    assert.equal((await verifyDirect(provider, { body, headers }, [KEY])).signatureError, `missing signature header: ${header}`);
  }
});

test("sendgrid: identity is the first event's sg_event_id, not sg_message_id; a retried batch is a duplicate", async () => {
  const { receive } = inbox("sendgrid", [KEY]);
  const delivered = batch(["delivered", "sg-evt-1"], ["open", "sg-evt-2"]);
  const first = await receive(receipt(delivered));
  assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
  assert.equal(first.delivery.eventType, "delivered");
  assert.equal(first.delivery.providerEventId, "sg-evt-1");
  assert.equal(first.delivery.dedupeKey, "sg-evt-1");
  const clicked = batch(["click", "sg-evt-3"]);
  const second = await receive(receipt(clicked));
  assert.equal(second.result.duplicate, false, "another event about the same message is a new event");
  const retry = await receive(receipt(delivered, sendgridSignature(PRIMARY.privateKey, NOW + 60, delivered), NOW + 60));
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, first.result.eventId);
  const forged = await receive(receipt(clicked, sendgridSignature(SECONDARY.privateKey, NOW, clicked)));
  assert.equal(forged.delivery.signatureValid, false);
  assert.equal(forged.delivery.providerEventId, null, "the body of a rejected receipt is never parsed: no body metadata");
});

test("sendgrid: arbitrary headers and bodies never throw and never verify without the secret", async () => {
  await assertNeverVerifiesWithoutSecret(new SendgridProvider(), {
    headerNames: ["x-twilio-email-event-webhook-signature", "x-twilio-email-event-webhook-timestamp"],
    secrets: [KEY],
  });
});

test("sendgrid: option validation", async () => {
  await assertRegistrationRejected("sendgrid", { toleranceS: "300" }, ["toleranceS"], [KEY]);
  await assertRegistrationRejected("sendgrid", { publicKey: KEY }, ["publicKey"], [KEY]);
  await assertRegistrationRejected("sendgrid", {}, ["secret"], []);
});
