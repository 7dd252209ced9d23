// bearer-token vectors: `Authorization: Bearer <token>` carries one of the secrets.
// No signature, so there is no package to sign with. Run: npx tsx providers/generate/bearer-token.ts
import { GENERIC_EVENT, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const TOKEN = "bt_Zm9vYmFyYmF6cXV4LTIwMjMtMTEtMTQ";
const OLD_TOKEN = "bt_b2xkLXRva2VuLTIwMjMtMDYtMDE";
const meta = { eventType: "invoice.paid", providerEventId: "evt_01HFA3K9Q8ZJ5N2W7XR4T6YB1C", providerDeliveryId: null };
const request = (authorization: string | undefined, extra: Partial<Vector["request"]> = {}) => ({
  headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) },
  body: GENERIC_EVENT, secrets: [TOKEN], now: NOW, ...extra,
});

const vectors: Record<string, Vector> = {
  "valid": {
    description: "Bearer token equals the secret; event type / id from body type / id",
    request: request(`Bearer ${TOKEN}`),
    expected: { valid: true, ...meta },
  },
  "scheme-case-insensitive": {
    description: "the auth scheme is case-insensitive (RFC 9110)",
    request: request(`bearer ${TOKEN}`),
    expected: { valid: true, ...meta },
  },
  "rotation-second-secret": {
    description: "the token equals the second configured secret",
    request: request(`Bearer ${TOKEN}`, { secrets: [OLD_TOKEN, TOKEN] }),
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "a bearer token does not protect the body: a changed body with the right token is accepted",
    request: request(`Bearer ${TOKEN}`, { body: GENERIC_EVENT.replace("4900", "1") }),
    expected: { valid: true, ...meta },
  },
  "wrong-secret": {
    description: "another token",
    request: request(`Bearer ${OLD_TOKEN}`),
    expected: { valid: false, errorContains: "bearer-token token mismatch" },
  },
  "missing-signature-header": {
    description: "no Authorization header",
    request: request(undefined),
    expected: { valid: false, errorContains: "missing signature header: authorization" },
  },
  "basic-scheme": {
    description: "Authorization uses the Basic scheme",
    request: request(`Basic ${Buffer.from(`user:${TOKEN}`).toString("base64")}`),
    expected: { valid: false, errorContains: "bearer-token authorization header malformed" },
  },
  "raw-token": {
    description: "the token without the Bearer scheme",
    request: request(TOKEN),
    expected: { valid: false, errorContains: "bearer-token authorization header malformed" },
  },
};

writeVectors("bearer-token", vectors);
