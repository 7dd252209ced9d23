// Paddle vectors: signed with node:crypto following Paddle's published algorithm (the SDK only
// verifies); every signed body/secret pair is also checked with @paddle/paddle-node-sdk's
// isSignatureValid() at the current time (see paddle-oracle.ts).
// Run: npx tsx providers/generate/paddle.ts
import { paddleAccepts, paddleSignature, wallClock } from "./paddle-oracle.js";
import { assertOracle, without, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const SECRET = "pdl_ntfset_01hfa3k9q8zj5n2w7xr4t6yb1c_8Xz2mQ4vR7tY1uW3eP6sK9dF";
const OLD_SECRET = "pdl_ntfset_01h9z8y7x6w5v4t3s2r1q0p9n8_Ab3Cd5Ef7Gh9Jk1Lm3Np5Q";

const completed = JSON.stringify({
  event_id: "evt_01hfa3kc7vfxq1z6n0fhsfk8ab",
  event_type: "transaction.completed",
  occurred_at: "2023-11-14T22:13:17.592013Z",
  notification_id: "ntf_01hfa3kcb7ftfp8yn9ecz1r7rd",
  data: {
    id: "txn_01hfa3jg1x5z4p6d1v9c0ar8g4",
    status: "completed",
    customer_id: "ctm_01hf9z1q3v2dn2hxjm5w0h3r6c",
    currency_code: "USD",
    origin: "web",
    subscription_id: "sub_01hfa3kbzkf6n7a9tj2f4h0x6e",
    items: [{ price_id: "pri_01gsz8x8sawmvhz1pv30nge1ke", quantity: 1 }],
    details: { totals: { subtotal: "3000", tax: "600", total: "3600" } },
  },
});
const tampered = completed.replace('"3600"', '"36"');

const header = (timestamp = NOW - 1, secret = SECRET, body = completed, extra: string[] = []) => paddleSignature(body, secret, timestamp, extra);
const headers = (signature: string) => ({ "content-type": "application/json", "user-agent": "Paddle", "paddle-signature": signature });
const post = (signature = header()) => ({ headers: headers(signature), body: completed, secrets: [SECRET], now: NOW });
const meta = { eventType: "transaction.completed", providerEventId: "evt_01hfa3kc7vfxq1z6n0fhsfk8ab", providerDeliveryId: "ntf_01hfa3kcb7ftfp8yn9ecz1r7rd" };
const err = (check: string) => ({ valid: false, errorContains: `paddle ${check}` });
const h1Of = (signature: string) => signature.split(";").find((part) => part.startsWith("h1="))!.slice(3);

const vectors: Record<string, Vector> = {
  "valid": {
    description: "transaction.completed; identity is event_id, delivery id notification_id, never data.id",
    request: post(),
    expected: { valid: true, ...meta },
  },
  "multiple-h1": {
    description: "two h1 entries (secret rotation); the second matches",
    request: post(header(NOW - 1, SECRET, completed, [h1Of(header(NOW - 1, OLD_SECRET))])),
    expected: { valid: true, ...meta },
  },
  "rotation-second-secret": {
    description: "signed with the second configured secret",
    request: { ...post(), secrets: [OLD_SECRET, SECRET] },
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "body changed after signing",
    request: { ...post(), body: tampered },
    expected: err("signature mismatch"),
  },
  "wrong-secret": {
    description: "signed with another secret",
    request: post(header(NOW - 1, OLD_SECRET)),
    expected: err("signature mismatch"),
  },
  "missing-signature-header": {
    description: "no Paddle-Signature header",
    request: { ...post(), headers: without(headers(header()), "paddle-signature") },
    expected: { valid: false, errorContains: "missing signature header: paddle-signature" },
  },
  "malformed-header": {
    description: "Paddle-Signature without ts=",
    request: post(`h1=${h1Of(header())}`),
    expected: err("signature header malformed"),
  },
  "comma-separated": {
    description: "entries separated by ',' instead of ';' are not parsed",
    request: post(header().replace(";", ",")),
    expected: err("signature header malformed"),
  },
  "expired-timestamp": {
    description: "signed 6 s ago (tolerance 5 s, as Paddle's SDK)",
    request: post(header(NOW - 6)),
    expected: err("signature timestamp outside tolerance"),
  },
  "future-timestamp": {
    description: "signed 6 s in the future (tolerance 5 s; the SDK only bounds the past)",
    request: post(header(NOW + 6)),
    expected: err("signature timestamp outside tolerance"),
  },
  "custom-tolerance": {
    description: "toleranceS 60 accepts a 30 s old signature (Paddle may retry with a fresh ts, but a slow queue may need slack)",
    request: { ...post(header(NOW - 30)), options: { toleranceS: 60 } },
    expected: { valid: true, ...meta },
  },
};

// The SDK reads the real clock: check the same bodies and secrets signed at the current time.
const t = wallClock();
assertOracle("paddle", "valid", await paddleAccepts(completed, SECRET, header(t)));
assertOracle("paddle", "multiple-h1", await paddleAccepts(completed, SECRET, header(t, SECRET, completed, [h1Of(header(t, OLD_SECRET))])));
assertOracle("paddle", "tampered-body", !(await paddleAccepts(tampered, SECRET, header(t))));
assertOracle("paddle", "wrong-secret", !(await paddleAccepts(completed, SECRET, header(t, OLD_SECRET))));
assertOracle("paddle", "expired-timestamp", !(await paddleAccepts(completed, SECRET, header(t - 6))));

writeVectors("paddle", vectors);
