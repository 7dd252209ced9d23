// basic-auth vectors: `Authorization: Basic base64(user:pass)` equals one of the secrets.
// No signature, so there is no package to sign with. Run: npx tsx providers/generate/basic-auth.ts
import { GENERIC_EVENT, writeVectors, type Vector } from "./write-vectors.js";

const NOW = 1700000000;
const CREDENTIALS = "knocker:Vq7#pL2m:9xRt";
const OLD_CREDENTIALS = "knocker:old-pass-2023";
const basic = (credentials: string) => `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
const meta = { eventType: "invoice.paid", providerEventId: "evt_01HFA3K9Q8ZJ5N2W7XR4T6YB1C", providerDeliveryId: null };
const request = (authorization: string | undefined, extra: Partial<Vector["request"]> = {}) => ({
  headers: { "content-type": "application/json", ...(authorization === undefined ? {} : { authorization }) },
  body: GENERIC_EVENT, secrets: [CREDENTIALS], now: NOW, ...extra,
});

const vectors: Record<string, Vector> = {
  "valid": {
    description: "decoded user:pass equals the secret (the password may contain ':'); event type / id from body",
    request: request(basic(CREDENTIALS)),
    expected: { valid: true, ...meta },
  },
  "rotation-second-secret": {
    description: "credentials equal the second configured secret",
    request: request(basic(CREDENTIALS), { secrets: [OLD_CREDENTIALS, CREDENTIALS] }),
    expected: { valid: true, ...meta },
  },
  "tampered-body": {
    description: "basic auth does not protect the body: a changed body with the right credentials is accepted",
    request: request(basic(CREDENTIALS), { body: GENERIC_EVENT.replace("4900", "1") }),
    expected: { valid: true, ...meta },
  },
  "wrong-secret": {
    description: "another password",
    request: request(basic(OLD_CREDENTIALS)),
    expected: { valid: false, errorContains: "basic-auth credentials mismatch" },
  },
  "wrong-user": {
    description: "right password, another user",
    request: request(basic(CREDENTIALS.replace("knocker", "admin"))),
    expected: { valid: false, errorContains: "basic-auth credentials mismatch" },
  },
  "missing-signature-header": {
    description: "no Authorization header",
    request: request(undefined),
    expected: { valid: false, errorContains: "missing signature header: authorization" },
  },
  "malformed-base64": {
    description: "Basic with something that is not base64",
    request: request("Basic !!not-base64!!"),
    expected: { valid: false, errorContains: "basic-auth authorization header malformed" },
  },
  "bearer-scheme": {
    description: "Authorization uses the Bearer scheme",
    request: request(`Bearer ${CREDENTIALS}`),
    expected: { valid: false, errorContains: "basic-auth authorization header malformed" },
  },
};

writeVectors("basic-auth", vectors);
