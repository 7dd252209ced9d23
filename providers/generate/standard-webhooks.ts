// Standard Webhooks vectors: v1 entries signed with the `standardwebhooks` package's own
// Webhook.sign() and checked with its verify() (clock pinned to each vector's `now`); v1a
// (Ed25519) entries, which that package does not produce, signed with node:crypto from a fixed seed.
// Run: npx tsx providers/generate/standard-webhooks.ts
import { createPrivateKey, createPublicKey, sign } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { assertOracle, atClock, passes, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OLD_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const RAW_SECRET = "my-plain-standard-webhooks-secret";
const MSG_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";

// A fixed Ed25519 key (PKCS#8 prefix + 32-byte seed) so the vectors are reproducible.
const seed = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex");
const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
const publicRaw = Buffer.from(createPublicKey(privateKey).export({ format: "jwk" }).x!, "base64url");
const PUBLIC_KEY = `whpk_${publicRaw.toString("base64")}`;

const event = JSON.stringify({
  type: "invoice.paid",
  timestamp: "2023-11-14T22:13:18.000Z",
  data: { invoice_id: "in_1OCxQ2", customer_id: "cus_P1a2b3c4", amount: 4900, currency: "EUR" },
});

const v1 = (secret = SECRET, timestamp = NOW - 2, body = event, id = MSG_ID, options?: { format: "raw" }) =>
  new Webhook(secret, options).sign(id, new Date(timestamp * 1000), body);
const v1a = (timestamp = NOW - 2, body = event, id = MSG_ID) =>
  `v1a,${sign(null, Buffer.from(`${id}.${timestamp}.${body}`), privateKey).toString("base64")}`;
const headers = (signature: string, timestamp = NOW - 2, family = "webhook") => ({
  "content-type": "application/json",
  [`${family}-id`]: MSG_ID,
  [`${family}-timestamp`]: String(timestamp),
  [`${family}-signature`]: signature,
});
const post = (signature = v1(), timestamp = NOW - 2) => ({ headers: headers(signature, timestamp), body: event, secrets: [SECRET], now: NOW });
const meta = { eventType: "invoice.paid", providerEventId: MSG_ID, providerDeliveryId: null };
const err = (check: string) => ({ valid: false, errorContains: `standard-webhooks ${check}` });

const vectors: Record<string, Vector> = {
  "valid": {
    description: "v1 HMAC-SHA256 with a whsec_ secret; identity is webhook-id, not data.invoice_id",
    request: post(),
    expected: { valid: true, ...meta },
  },
  "svix-headers": {
    description: "the same scheme under svix-id / svix-timestamp / svix-signature",
    request: { ...post(), headers: headers(v1(), NOW - 2, "svix") },
    expected: { valid: true, ...meta },
  },
  "multiple-signatures": {
    description: "several space-separated entries (one per active key); the last one matches",
    request: post(`v1,${v1(OLD_SECRET).slice(3)} v2,bm90LWEtdmVyc2lvbg== ${v1()}`),
    expected: { valid: true, ...meta },
  },
  "ed25519-v1a": {
    description: "v1a Ed25519 signature verified with a whpk_ public key",
    request: { ...post(v1a()), secrets: [PUBLIC_KEY] },
    expected: { valid: true, ...meta },
  },
  "ed25519-tampered-body": {
    description: "v1a signature over another body",
    request: { ...post(v1a()), secrets: [PUBLIC_KEY], body: event.replace("4900", "490") },
    expected: err("signature mismatch"),
  },
  "raw-secret": {
    description: "a secret without the whsec_ prefix is the HMAC key as text (not base64-decoded)",
    request: { ...post(v1(RAW_SECRET, NOW - 2, event, MSG_ID, { format: "raw" })), secrets: [RAW_SECRET] },
    expected: { valid: true, ...meta },
  },
  "rotation-second-secret": {
    description: "signed with the second configured secret",
    request: { ...post(), secrets: [OLD_SECRET, SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(), body: event.replace("4900", "490") },
    expected: err("signature mismatch"),
  },
  "wrong-secret": {
    description: "signed with another secret",
    request: post(v1(OLD_SECRET)),
    expected: err("signature mismatch"),
  },
  "missing-signature-header": {
    description: "no webhook-signature header",
    request: { ...post(), headers: without(headers(v1()), "webhook-signature") },
    expected: { valid: false, errorContains: "missing signature header: webhook-signature" },
  },
  "missing-id-header": {
    description: "no webhook-id header (it is part of the signed content)",
    request: { ...post(), headers: without(headers(v1()), "webhook-id") },
    expected: { valid: false, errorContains: "missing signature header: webhook-id" },
  },
  "malformed-signature": {
    description: "signature entry without a version",
    request: post(v1().slice(3)),
    expected: err("signature header malformed"),
  },
  "expired-timestamp": {
    description: "signed 301 s ago (tolerance 300 s)",
    request: post(v1(SECRET, NOW - 301), NOW - 301),
    expected: err("signature timestamp outside tolerance"),
  },
  "future-timestamp": {
    description: "signed 301 s in the future (tolerance 300 s)",
    request: post(v1(SECRET, NOW + 301), NOW + 301),
    expected: err("signature timestamp outside tolerance"),
  },
  "custom-tolerance": {
    description: "toleranceS 600 accepts a 301 s old signature",
    request: { ...post(v1(SECRET, NOW - 301), NOW - 301), options: { toleranceS: 600 } },
    expected: { valid: true, ...meta },
  },
};

const verify = (body: string, signature: string, timestamp = NOW - 2, secret = SECRET) =>
  atClock(NOW, () => passes(() => new Webhook(secret).verify(body, headers(signature, timestamp)) !== undefined));
assertOracle("standard-webhooks", "valid", verify(event, v1()));
assertOracle("standard-webhooks", "multiple-signatures", verify(event, `v1,${v1(OLD_SECRET).slice(3)} v2,bm90LWEtdmVyc2lvbg== ${v1()}`));
assertOracle("standard-webhooks", "tampered-body", !verify(event.replace("4900", "490"), v1()));
assertOracle("standard-webhooks", "wrong-secret", !verify(event, v1(OLD_SECRET)));
assertOracle("standard-webhooks", "expired-timestamp", !verify(event, v1(SECRET, NOW - 301), NOW - 301));
assertOracle("standard-webhooks", "future-timestamp", !verify(event, v1(SECRET, NOW + 301), NOW + 301));
assertOracle("standard-webhooks", "raw-secret", atClock(NOW, () => passes(() =>
  new Webhook(RAW_SECRET, { format: "raw" }).verify(event, headers(v1(RAW_SECRET, NOW - 2, event, MSG_ID, { format: "raw" }))) !== undefined)));

writeVectors("standard-webhooks", vectors);
