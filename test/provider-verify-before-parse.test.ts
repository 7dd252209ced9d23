// Verify before parse, for every curated provider: a large unsigned or wrongly signed JSON body
// is refused without JSON.parse ever seeing it, and a request missing its signature header is
// refused by precheck() on its headers alone (empty body), while a validly signed request's
// headers pass precheck. Signed requests come from the conformance vectors (providers/<name>/valid.json).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { open } from "../src/index.js";
import { ProviderRequest } from "../src/providers/provider.js";
import { CURATED_PROVIDER_NAMES, prepareProvider } from "../src/providers/registry.js";
import type { Vector } from "../providers/generate/write-vectors.js";
import { tempDbPath } from "./support.js";

interface Case {
  /** Headers that carry the signature / credential: all are removed for the "unsigned" request. */
  signatureHeaders: string[];
  /** For credential schemes the body is not signed: a wrong credential makes the request wrongly signed. */
  wrongCredential?: Record<string, string>;
}

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;

/** Every curated provider, with the headers its signature travels in. */
const CASES: Record<string, Case> = {
  "stripe": { signatureHeaders: ["stripe-signature"] },
  "github": { signatureHeaders: ["x-hub-signature-256"] },
  "shopify": { signatureHeaders: ["x-shopify-hmac-sha256", "shopify-hmac-sha256"] },
  "slack": { signatureHeaders: ["x-slack-signature"] },
  "postmark": { signatureHeaders: ["authorization"], wrongCredential: { authorization: basic("postmark:wrong-password") } },
  "resend": { signatureHeaders: ["svix-signature"] },
  "paddle": { signatureHeaders: ["paddle-signature"] },
  "lemon-squeezy": { signatureHeaders: ["x-signature"] },
  "standard-webhooks": { signatureHeaders: ["webhook-signature", "svix-signature"] },
  "clerk": { signatureHeaders: ["svix-signature"] },
  "twilio": { signatureHeaders: ["x-twilio-signature"] },
  "sendgrid": { signatureHeaders: ["x-twilio-email-event-webhook-signature"] },
  "linear": { signatureHeaders: ["linear-signature"] },
  "meta": { signatureHeaders: ["x-hub-signature-256"] },
  "discord": { signatureHeaders: ["x-signature-ed25519"] },
  "zendesk": { signatureHeaders: ["x-zendesk-webhook-signature"] },
  "intercom": { signatureHeaders: ["x-hub-signature"] },
  "hubspot": { signatureHeaders: ["x-hubspot-signature-v3", "x-hubspot-signature"] },
  "token-header": { signatureHeaders: ["x-knocker-token"], wrongCredential: { "x-knocker-token": "not-the-token" } },
  "bearer-token": { signatureHeaders: ["authorization"], wrongCredential: { authorization: "Bearer not-the-token" } },
  "basic-auth": { signatureHeaders: ["authorization"], wrongCredential: { authorization: basic("user:wrong-password") } },
};

/**
 * Providers whose headers alone can never refuse a request missing its signature. None: every
 * curated scheme carries its signature (or credential) in a header. Listed here, with the reason,
 * should one ever be added.
 */
const NO_PRECHECK: Record<string, string> = {};

const ONE_MB = 1024 * 1024;

/** A ~3 MB JSON object with 200,000 keys. */
function hugeJsonObject(): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < 200_000; i++) parts.push(`"k${i.toString().padStart(6, "0")}":"vv"`);
  const body = Buffer.from(`{"type":"invoice.paid","id":"evt_huge",${parts.join(",")}}`);
  assert.ok(body.length > 3_000_000 && body.length < 4 * ONE_MB, `body is ~3 MB (${body.length} bytes), under maxBodyBytes`);
  return body;
}

function validVector(provider: string): Vector {
  return JSON.parse(readFileSync(new URL(`../providers/${provider}/valid.json`, import.meta.url), "utf8")) as Vector;
}

function lowerCased(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}

function without(headers: Record<string, string | string[]>, names: string[]): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => !names.includes(key)));
}

/** Calls of JSON.parse on an input over 1 MB while `run` is in progress. */
async function largeParsesDuring(run: () => Promise<unknown>): Promise<number> {
  const original = globalThis.JSON.parse;
  let count = 0;
  globalThis.JSON.parse = function spied(this: JSON, text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) {
    if (typeof text === "string" && text.length > ONE_MB) count++;
    return original.call(this, text, reviver);
  } as typeof JSON.parse;
  try {
    await run();
  } finally {
    globalThis.JSON.parse = original;
  }
  return count;
}

test("the table covers exactly the curated providers", () => {
  assert.deepEqual(Object.keys(CASES).sort(), [...CURATED_PROVIDER_NAMES].sort());
});

test("the spy counts large parses (control: a valid token-header receipt with a 3 MB body is parsed once)", async () => {
  const webhooks = open(tempDbPath("verify-before-parse-control.db"));
  after(() => webhooks.close());
  const endpoint = webhooks.endpoint("control", { path: "/control", provider: "token-header", secrets: ["the-token"] });
  let result: Awaited<ReturnType<typeof endpoint.receive>> | undefined;
  const parses = await largeParsesDuring(async () => {
    result = await endpoint.receive({ body: hugeJsonObject(), headers: { "content-type": "application/json", "x-knocker-token": "the-token" } });
  });
  assert.equal(result?.statusCode, 204);
  assert.equal(parses, 1, "the signed body is parsed, once, after the token matched");
});

for (const name of CURATED_PROVIDER_NAMES) {
  describe(`${name}: verify before parse`, () => {
    const c = CASES[name]!;
    const { request } = validVector(name);
    const headers = lowerCased(request.headers);
    const webhooks = open(tempDbPath(`verify-before-parse-${name}.db`), { now: () => request.now });
    after(() => webhooks.close());
    const endpoint = webhooks.endpoint(name, { path: `/${name}`, provider: name, secrets: request.secrets, providerOptions: request.options ?? {} });
    const huge = hugeJsonObject();
    const json = { ...headers, "content-type": "application/json" };

    const refusedUnparsed = async (receiptHeaders: Record<string, string | string[]>) => {
      let statusCode: number | undefined;
      let deliveryId: number | null | undefined;
      const parses = await largeParsesDuring(async () => {
        const result = await endpoint.receive({ body: huge, headers: receiptHeaders, query: request.query ?? {}, method: request.method ?? "POST" });
        statusCode = result.statusCode;
        deliveryId = result.deliveryId;
      });
      assert.equal(statusCode, 401);
      assert.equal(parses, 0, "the refused body never reached JSON.parse");
      const delivery = await webhooks.getDelivery(deliveryId!);
      assert.equal(delivery?.signatureValid, false);
      const headerValues: string[] = Object.values(receiptHeaders).flat();
      for (const value of [delivery?.eventType, delivery?.providerEventId, delivery?.providerDeliveryId]) {
        if (value !== null) assert.ok(headerValues.includes(value!), `a rejected receipt carries header metadata only, not ${value}`);
      }
    };

    test("a wrongly signed ~3 MB JSON body is refused without being parsed", async () => {
      await refusedUnparsed({ ...json, ...c.wrongCredential });
    });

    test("an unsigned ~3 MB JSON body is refused without being parsed", async () => {
      await refusedUnparsed(without(json, c.signatureHeaders));
    });

    const prepared = prepareProvider(name, name, request.secrets, request.options ?? {})!;
    const precheck = (precheckHeaders: Record<string, string | string[]>) =>
      prepared.provider.precheck(
        new ProviderRequest({ method: request.method ?? "POST", headers: precheckHeaders, query: request.query ?? {}, body: Buffer.alloc(0) }),
        { secrets: prepared.secrets, options: prepared.options, now: request.now },
      );

    test("precheck() with an empty body refuses a request missing its signature header", () => {
      const result = precheck(without(headers, c.signatureHeaders));
      if (name in NO_PRECHECK) {
        assert.equal(result, undefined, NO_PRECHECK[name]);
        return;
      }
      assert.ok(result, "refused on headers alone");
      assert.equal(result.valid, false);
      assert.match(result.signatureError ?? "", /^missing signature header: /);
      const headerValues: string[] = Object.values(headers).flat();
      for (const value of [result.eventType, result.providerEventId, result.providerDeliveryId]) {
        if (value !== null) assert.ok(headerValues.includes(value), `metadata from headers only: ${value}`);
      }
    });

    test("precheck() lets the headers of a validly signed request through (verify() decides on the body)", () => {
      assert.equal(precheck(headers), undefined);
    });

    if (c.wrongCredential) {
      test("precheck() refuses a wrong credential on headers alone", () => {
        const result = precheck({ ...headers, ...c.wrongCredential });
        assert.equal(result?.valid, false);
        assert.match(result?.signatureError ?? "", /mismatch/);
      });
    }
  });
}
