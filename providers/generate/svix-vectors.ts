// Shared by the Svix-signed providers' generators (resend, clerk): every v1 signature is made
// with svix@1.99.1's own Webhook.sign() and the claims are checked with its verify() (clock pinned).
import { Webhook } from "svix";
import { assertOracle, atClock, passes, without, type Vector } from "./write-vectors.js";

export interface SvixVectorConfig {
  provider: string;
  secret: string;
  oldSecret: string;
  msgId: string;
  /** The realistic event; `tamper` must change it. */
  body: string;
  tamper: (body: string) => string;
  eventType: string;
  now: number;
  /** Extra cases: a second event about the same object, as [name, description, msgId, body, eventType]. */
  extra?: Array<[string, string, string, string, string]>;
}

export function svixVectors(config: SvixVectorConfig): Record<string, Vector> {
  const { provider, secret, oldSecret, msgId, body, tamper, eventType, now } = config;
  const sign = (key = secret, timestamp = now - 2, payload = body, id = msgId) => new Webhook(key).sign(id, new Date(timestamp * 1000), payload);
  const headers = (signature: string, timestamp = now - 2, id = msgId) => ({
    "content-type": "application/json",
    "user-agent": "Svix-Webhooks/1.21.0",
    "svix-id": id,
    "svix-timestamp": String(timestamp),
    "svix-signature": signature,
  });
  const post = (signature = sign(), timestamp = now - 2) => ({ headers: headers(signature, timestamp), body, secrets: [secret], now });
  const meta = { eventType, providerEventId: msgId, providerDeliveryId: null };
  const err = (check: string) => ({ valid: false, errorContains: `${provider} ${check}` });

  const vectors: Record<string, Vector> = {
    "valid": {
      description: `${eventType}; identity is svix-id, not the id of the object in data`,
      request: post(),
      expected: { valid: true, ...meta },
    },
    "multiple-signatures": {
      description: "two space-separated v1 entries (Svix sends one per active secret while rotating); the second matches",
      request: post(`${sign(oldSecret)} ${sign()}`),
      expected: { valid: true, ...meta },
    },
    "rotation-second-secret": {
      description: "signed with the second configured secret",
      request: { ...post(), secrets: [oldSecret, secret] },
      expected: { valid: true, ...meta },
    },
    "tampered-body": {
      description: "body changed after signing",
      request: { ...post(), body: tamper(body) },
      expected: err("signature mismatch"),
    },
    "wrong-secret": {
      description: "signed with another secret",
      request: post(sign(oldSecret)),
      expected: err("signature mismatch"),
    },
    "missing-signature-header": {
      description: "no svix-signature header",
      request: { ...post(), headers: without(headers(sign()), "svix-signature") },
      expected: { valid: false, errorContains: "missing signature header: svix-signature" },
    },
    "missing-id-header": {
      description: "no svix-id header (it is signed, and it is the identity)",
      request: { ...post(), headers: without(headers(sign()), "svix-id") },
      expected: { valid: false, errorContains: "missing signature header: svix-id" },
    },
    "malformed-signature": {
      description: "signature entry without its v1, prefix",
      request: post(sign().slice(3)),
      expected: err("signature header malformed"),
    },
    "expired-timestamp": {
      description: "signed 301 s ago (tolerance 300 s)",
      request: post(sign(secret, now - 301), now - 301),
      expected: err("signature timestamp outside tolerance"),
    },
    "future-timestamp": {
      description: "signed 301 s in the future (tolerance 300 s)",
      request: post(sign(secret, now + 301), now + 301),
      expected: err("signature timestamp outside tolerance"),
    },
  };
  for (const [name, description, id, payload, type] of config.extra ?? []) {
    vectors[name] = {
      description,
      request: { headers: headers(sign(secret, now - 2, payload, id), now - 2, id), body: payload, secrets: [secret], now },
      expected: { valid: true, eventType: type, providerEventId: id, providerDeliveryId: null },
    };
  }

  const verify = (payload: string, signature: string, timestamp = now - 2) =>
    atClock(now, () => passes(() => new Webhook(secret).verify(payload, headers(signature, timestamp)) !== undefined));
  assertOracle(provider, "valid", verify(body, sign()));
  assertOracle(provider, "multiple-signatures", verify(body, `${sign(oldSecret)} ${sign()}`));
  assertOracle(provider, "tampered-body", !verify(tamper(body), sign()));
  assertOracle(provider, "wrong-secret", !verify(body, sign(oldSecret)));
  assertOracle(provider, "expired-timestamp", !verify(body, sign(secret, now - 301), now - 301));
  assertOracle(provider, "future-timestamp", !verify(body, sign(secret, now + 301), now + 301));
  return vectors;
}
