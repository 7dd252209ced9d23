// SendGrid vectors: signed with node:crypto (ECDSA P-256/SHA-256, DER, base64) from a fixed key
// pair (sendgrid-keys.ts) — @sendgrid/eventwebhook only verifies — and every claim checked with
// its EventWebhook.verifySignature(). ECDSA signatures are randomized, so a fresh run would change
// every signature string; a vector on disk keeps its signature when that still signs exactly the
// same bytes with the same key (see keepSignatures below), so regenerating changes only what changed.
// Run: npx tsx providers/generate/sendgrid.ts
import { createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { EventWebhook } from "@sendgrid/eventwebhook";
import { PRIMARY, SECONDARY, sendgridSignature } from "./sendgrid-keys.js";
import { assertOracle, readVectors, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const events = JSON.stringify([
  {
    email: "example@test.com",
    timestamp: 1699999990,
    "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
    event: "delivered",
    category: ["cat facts"],
    sg_event_id: "rbtnWrG1DVDGGGFHFyun0A==",
    sg_message_id: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
    response: "250 OK",
  },
  {
    email: "example@test.com",
    timestamp: 1699999995,
    event: "open",
    sg_event_id: "FOTFFO0ecsBE-zxFXfs6WA==",
    sg_message_id: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
    useragent: "Mozilla/4.0 (compatible; MSIE 6.1; Windows XP; .NET CLR 1.1.4322; .NET CLR 2.0.50727)",
    ip: "255.255.255.255",
  },
]);
const tampered = events.replace("250 OK", "550 NO");

const SIGNATURE = "x-twilio-email-event-webhook-signature";
/** What each signature made in this run signs, and with which key. */
const made = new Map<string, { key: KeyObject; data: Buffer }>();
const sign = (timestamp = NOW - 2, key = PRIMARY.privateKey, body = events) => {
  const signature = sendgridSignature(key, timestamp, body);
  made.set(signature, { key, data: Buffer.from(`${timestamp}${body}`) });
  return signature;
};
const headers = (signature: string, timestamp = NOW - 2) => ({
  "content-type": "application/json",
  "user-agent": "SendGrid Event API",
  "x-twilio-email-event-webhook-signature": signature,
  "x-twilio-email-event-webhook-timestamp": String(timestamp),
});
const post = (signature = sign(), timestamp = NOW - 2) => ({ headers: headers(signature, timestamp), body: events, secrets: [PRIMARY.publicKeyBase64], now: NOW });
const meta = { eventType: "delivered", providerEventId: "rbtnWrG1DVDGGGFHFyun0A==", providerDeliveryId: null };
const err = (check: string) => ({ valid: false, errorContains: `sendgrid ${check}` });

const vectors: Record<string, Vector> = {
  "valid": {
    description: "batch of events; verification key as SendGrid shows it (base64 SPKI); identity = first element's sg_event_id",
    request: post(),
    expected: { valid: true, ...meta },
  },
  "pem-key": {
    description: "the same key configured as PEM",
    request: { ...post(), secrets: [PRIMARY.publicKeyPem] },
    expected: { valid: true, ...meta },
  },
  "rotation-second-secret": {
    description: "signed with the key configured second",
    request: { ...post(), secrets: [SECONDARY.publicKeyBase64, PRIMARY.publicKeyBase64] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(), body: tampered },
    expected: err("signature mismatch"),
  },
  "wrong-secret": {
    description: "signed with another key pair",
    request: post(sign(NOW - 2, SECONDARY.privateKey)),
    expected: err("signature mismatch"),
  },
  "timestamp-not-signed-value": {
    description: "the timestamp header changed after signing (it is part of the signed bytes)",
    request: post(sign(NOW - 2), NOW - 1),
    expected: err("signature mismatch"),
  },
  "missing-signature-header": {
    description: "no X-Twilio-Email-Event-Webhook-Signature header (signed webhooks disabled?)",
    request: { ...post(), headers: without(headers(sign()), "x-twilio-email-event-webhook-signature") },
    expected: { valid: false, errorContains: "missing signature header: x-twilio-email-event-webhook-signature" },
  },
  "expired-timestamp": {
    description: "signed 301 s ago (tolerance 300 s)",
    request: post(sign(NOW - 301), NOW - 301),
    expected: err("signature timestamp outside tolerance"),
  },
  "future-timestamp": {
    description: "signed 301 s in the future (tolerance 300 s)",
    request: post(sign(NOW + 301), NOW + 301),
    expected: err("signature timestamp outside tolerance"),
  },
};

/** Put back the on-disk signature of each vector whose signature signs the same bytes with the same key. */
function keepSignatures(fresh: Record<string, Vector>, previous: Record<string, Vector>): void {
  for (const [name, vector] of Object.entries(fresh)) {
    const signed = made.get(vector.request.headers[SIGNATURE] as string);
    const old = previous[name]?.request.headers[SIGNATURE];
    if (signed === undefined || typeof old !== "string") continue;
    const publicKey = createPublicKey(signed.key);
    if (verifySignature("sha256", signed.data, { key: publicKey, dsaEncoding: "der" }, Buffer.from(old, "base64"))) {
      vector.request.headers = { ...vector.request.headers, [SIGNATURE]: old };
    }
  }
}
keepSignatures(vectors, readVectors("sendgrid"));

const webhook = new EventWebhook();
const verify = (body: string, signature: string, timestamp = NOW - 2, key = PRIMARY.publicKeyBase64) =>
  webhook.verifySignature(webhook.convertPublicKeyToECDSA(key), body, signature, String(timestamp));
const check = (name: string, request: Vector["request"], expected: boolean) => {
  const signature = request.headers["x-twilio-email-event-webhook-signature"] as string;
  const timestamp = Number(request.headers["x-twilio-email-event-webhook-timestamp"]);
  assertOracle("sendgrid", name, verify(request.body!, signature, timestamp, PRIMARY.publicKeyBase64) === expected);
};
check("valid", vectors.valid!.request, true);
assertOracle("sendgrid", "pem-key", verify(events, vectors["pem-key"]!.request.headers["x-twilio-email-event-webhook-signature"] as string, NOW - 2, PRIMARY.publicKeyPem));
check("tampered-body", vectors["tampered-body"]!.request, false);
check("wrong-secret", vectors["wrong-secret"]!.request, false);
check("timestamp-not-signed-value", vectors["timestamp-not-signed-value"]!.request, false);
check("expired-timestamp", vectors["expired-timestamp"]!.request, true); // the package has no clock: the signature itself is good

writeVectors("sendgrid", vectors);
