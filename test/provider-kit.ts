// Shared pieces of the provider tests: an inbox with one endpoint, direct verification, the
// "never throws, never verifies without the secret" property, and option-validation checks.
import assert from "node:assert/strict";
import { after } from "node:test";
import fc from "fast-check";
import { KnockerError, open, ProviderRequest, type Delivery, type IngestResult, type Provider, type ProviderResult } from "../src/index.js";
import { tempDbPath } from "./support.js";

export const NOW = 1700000000;

export interface TestReceipt {
  body: string | Buffer;
  headers: Record<string, string | string[]>;
  query?: Record<string, string | string[]>;
  method?: string;
}

/** A fresh inbox with one endpoint of `provider`, closed when the test file ends. */
export function inbox(provider: string, secrets: string[], providerOptions: Record<string, unknown> = {}, now = NOW) {
  const webhooks = open(tempDbPath(`${provider}-${Math.random().toString(36).slice(2)}.db`), { now: () => now });
  after(() => webhooks.close());
  const endpoint = webhooks.endpoint(provider, { path: `/${provider}`, provider, secrets, providerOptions });
  return {
    webhooks,
    endpoint,
    async receive(receipt: TestReceipt): Promise<{ result: IngestResult; delivery: Delivery }> {
      const result = await endpoint.receive(receipt);
      const delivery = await webhooks.getDelivery(result.deliveryId!);
      assert.ok(delivery, "the receipt was stored");
      return { result, delivery };
    },
  };
}

/** Run a provider's verify() directly on one receipt. */
export async function verifyDirect(
  provider: Provider,
  receipt: TestReceipt,
  secrets: readonly string[],
  options: Record<string, unknown> = {},
  now = NOW,
): Promise<ProviderResult> {
  const headers = Object.fromEntries(Object.entries(receipt.headers).map(([key, value]) => [key.toLowerCase(), value]));
  const request = new ProviderRequest({
    method: receipt.method ?? "POST",
    headers,
    query: receipt.query ?? {},
    body: Buffer.from(receipt.body),
  });
  return provider.verify(request, { secrets, options: provider.validateOptions(options) ?? options, now });
}

/** The body with one byte changed (the last one, flipped to another printable character). */
export function oneByteChanged(body: string | Buffer): Buffer {
  const copy = Buffer.from(body);
  copy[copy.length - 1] = copy[copy.length - 1] === 0x7d ? 0x5d : 0x7d;
  return copy;
}

const hexish = fc.uint8Array({ minLength: 0, maxLength: 72 }).map((bytes) => Buffer.from(bytes).toString("hex"));
const base64ish = fc.uint8Array({ minLength: 0, maxLength: 72 }).map((bytes) => Buffer.from(bytes).toString("base64"));
const headerValue = fc.oneof(
  fc.string(),
  fc.constantFrom("", "v1", "v2", "v3", "sha256=", "Basic ", "Bearer "),
  hexish,
  base64ish,
  hexish.map((hex) => `sha256=${hex}`),
  hexish.map((hex) => `sha1=${hex}`),
  base64ish.map((b64) => `Basic ${b64}`),
  fc.string().map((token) => `Bearer ${token}`),
  fc.integer({ min: 0, max: 4_000_000_000_000 }).map(String),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
);
const jsonBody = fc
  .record({
    type: fc.oneof(fc.string(), fc.integer(), fc.constantFrom("Issue", "page", "ticket", "zen:event-type:ticket.created")),
    id: fc.oneof(fc.string(), fc.integer()),
    action: fc.string(),
    object: fc.string(),
    topic: fc.string(),
    webhookTimestamp: fc.integer({ min: (NOW - 30) * 1000, max: (NOW + 30) * 1000 }),
    event: fc.record({ type: fc.string() }),
  }, { requiredKeys: [] })
  .map((value) => JSON.stringify(value));
const body = fc.oneof(
  fc.string(),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
  jsonBody,
  jsonBody.map((json) => `[${json}]`),
);

/**
 * Arbitrary headers (the provider's real header names with arbitrary values, plus arbitrary
 * names), query and bodies: verify() never throws and never accepts a receipt signed by no one.
 */
export async function assertNeverVerifiesWithoutSecret(
  provider: Provider,
  config: { headerNames: string[]; secrets: string[]; options?: Record<string, unknown>; queryKeys?: string[]; runs?: number },
): Promise<void> {
  const names = fc.oneof(fc.constantFrom(...config.headerNames), fc.string({ minLength: 1, maxLength: 20 }).map((n) => n.toLowerCase()));
  const headers = fc.dictionary(names, fc.oneof(headerValue, fc.array(headerValue, { minLength: 2, maxLength: 3 })), { maxKeys: 8 });
  const queryNames = fc.oneof(fc.constantFrom(...(config.queryKeys ?? ["q"])), fc.string({ maxLength: 12 }));
  const query = fc.dictionary(queryNames, fc.string(), { maxKeys: 4 });
  const method = fc.constantFrom("POST", "GET", "PUT");
  await fc.assert(
    fc.asyncProperty(headers, query, body, method, async (h, q, b, m) => {
      const result = await verifyDirect(provider, { headers: h, query: q, body: b, method: m }, config.secrets, config.options ?? {});
      assert.equal(result.valid, false, `accepted without the secret: ${result.signatureError}`);
      assert.ok(result.signatureError?.includes(provider.name) || result.signatureError?.startsWith("missing signature header"),
        `error names the provider or the missing header: ${result.signatureError}`);
      for (const secret of config.secrets) assert.ok(!result.signatureError?.includes(secret), "error never contains a secret");
    }),
    { numRuns: config.runs ?? 200 },
  );
}

/** Registration with these options (or secrets) is refused with a KnockerError naming the provider and the key. */
export async function assertRegistrationRejected(
  provider: string,
  providerOptions: Record<string, unknown>,
  mentions: string[],
  secrets: string[] = ["secret"],
): Promise<void> {
  const webhooks = open(tempDbPath(`${provider}-options-${Math.random().toString(36).slice(2)}.db`));
  try {
    assert.throws(
      () => webhooks.endpoint("x", { path: "/x", provider, secrets, providerOptions }),
      (error: unknown) => {
        assert.ok(error instanceof KnockerError, `expected a KnockerError, got ${String(error)}`);
        for (const word of [provider, ...mentions]) assert.ok(error.message.includes(word), `"${error.message}" names ${word}`);
        return true;
      },
    );
  } finally {
    await webhooks.close();
  }
}

/**
 * The identity rule of the shared-secret schemes (token-header, bearer-token, basic-auth): body
 * `type` / `id` of a JSON body; a retry of one id is a duplicate, two ids are two events; a body
 * that is not JSON has no identity, so each receipt is its own event.
 */
export async function assertBodyTypeAndIdIdentity(
  provider: string,
  secrets: string[],
  headers: Record<string, string>,
  providerOptions: Record<string, unknown> = {},
): Promise<void> {
  const { receive } = inbox(provider, secrets, providerOptions);
  const event = (id: string | number, amount: number) => JSON.stringify({ id, type: "invoice.paid", data: { invoice_id: "inv_8841", amount } });
  const first = await receive({ body: event("evt_1", 4900), headers });
  assert.equal(first.delivery.signatureValid, true, first.delivery.signatureError ?? "");
  assert.equal(first.delivery.eventType, "invoice.paid");
  assert.equal(first.delivery.providerEventId, "evt_1");
  const second = await receive({ body: event("evt_2", 4900), headers });
  assert.notEqual(second.result.eventId, first.result.eventId, "another event about the same invoice is a new event");
  const retry = await receive({ body: event("evt_1", 4900), headers });
  assert.equal(retry.result.duplicate, true);
  assert.equal(retry.result.eventId, first.result.eventId);
  const numeric = await receive({ body: event(42, 1), headers });
  assert.equal(numeric.delivery.providerEventId, "42", "scalars are stringified");

  const form = await receive({ body: "status=paid&id=evt_1", headers });
  assert.equal(form.delivery.signatureValid, true);
  assert.equal(form.delivery.providerEventId, null);
  const formAgain = await receive({ body: "status=paid&id=evt_1", headers });
  assert.equal(formAgain.result.duplicate, true, "no identity, the same signed bytes again: a replay, deduped by the body's SHA-256");
  assert.equal(formAgain.result.eventId, form.result.eventId);
  const otherForm = await receive({ body: "status=paid&id=evt_2", headers });
  assert.equal(otherForm.result.duplicate, false, "no identity: other bytes are another event");
}
