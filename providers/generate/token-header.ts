// token-header vectors: the configured header (default x-knocker-token) carries one of the secrets.
// No signature, so there is no package to sign with. Run: npx tsx providers/generate/token-header.ts
import { GENERIC_EVENT, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const TOKEN = "kt_5f0c2a9e7b3d41c68e2f9a1b7c4d0e63";
const OLD_TOKEN = "kt_0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const meta = { eventType: "invoice.paid", providerEventId: "evt_01HFA3K9Q8ZJ5N2W7XR4T6YB1C", providerDeliveryId: null };
const request = (headers: Record<string, string>, extra: Partial<Vector["request"]> = {}) =>
  ({ headers: { "content-type": "application/json", ...headers }, body: GENERIC_EVENT, secrets: [TOKEN], now: NOW, ...extra });

const vectors: Record<string, Vector> = {
  "valid": {
    description: "x-knocker-token equals the secret; event type / id from body type / id",
    request: request({ "x-knocker-token": TOKEN }),
    expected: { valid: true, ...meta },
  },
  "custom-header": {
    description: "option header names another header (matched case-insensitively)",
    request: request({ "X-Webhook-Token": TOKEN }, { options: { header: "X-Webhook-Token" } }),
    expected: { valid: true, ...meta },
  },
  "non-json-body": {
    description: "a form body is accepted; it just yields no JSON metadata",
    request: request({ "content-type": "application/x-www-form-urlencoded", "x-knocker-token": TOKEN }, { body: "status=paid&invoice=inv_8841" }),
    expected: { valid: true, eventType: null, providerEventId: null, providerDeliveryId: null },
  },
  "rotation-second-secret": {
    description: "the token equals the second configured secret",
    request: request({ "x-knocker-token": TOKEN }, { secrets: [OLD_TOKEN, TOKEN] }),
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "a shared token does not protect the body: a changed body with the right token is accepted",
    request: request({ "x-knocker-token": TOKEN }, { body: GENERIC_EVENT.replace("4900", "1") }),
    expected: { valid: true, ...meta },
  },
  "wrong-secret": {
    description: "another token",
    request: request({ "x-knocker-token": OLD_TOKEN }),
    expected: { valid: false, errorContains: "token-header token mismatch" },
  },
  "token-prefix": {
    description: "a prefix of the token is not the token",
    request: request({ "x-knocker-token": TOKEN.slice(0, -1) }),
    expected: { valid: false, errorContains: "token-header token mismatch" },
  },
  "missing-signature-header": {
    description: "no token header",
    request: request({}),
    expected: { valid: false, errorContains: "missing signature header: x-knocker-token" },
  },
  "default-header-when-custom-configured": {
    description: "with option header set, x-knocker-token is not looked at",
    request: request({ "x-knocker-token": TOKEN }, { options: { header: "x-webhook-token" } }),
    expected: { valid: false, errorContains: "missing signature header: x-webhook-token" },
  },
};

writeVectors("token-header", vectors);
