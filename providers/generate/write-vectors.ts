// Shared by the vector generators: writes providers/<name>/<case>.json in the format the
// conformance test (test/provider-vectors.test.ts) reads.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface VectorRequest {
  method?: string;
  headers: Record<string, string | string[]>;
  query?: Record<string, string | string[]>;
  body?: string;
  bodyBase64?: string;
  secrets: string[];
  options?: Record<string, unknown>;
  now: number;
}

export interface VectorExpected {
  valid: boolean;
  errorContains?: string;
  /**
   * The metadata the stored delivery carries. A generator states it for valid vectors only; for
   * an invalid one writeVectors() derives all three from the request's headers (rejectedMetadata()).
   */
  eventType?: string | null;
  providerEventId?: string | null;
  providerDeliveryId?: string | null;
  statusCode?: number;
  reply?: { contentType: string; body: string };
}

export interface Vector {
  description: string;
  request: VectorRequest;
  expected: VectorExpected;
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

const METADATA_KEYS = ["eventType", "providerEventId", "providerDeliveryId"] as const;
type MetadataKey = (typeof METADATA_KEYS)[number];
export type Metadata = Record<MetadataKey, string | null>;
type HeaderLookup = (name: string) => string | undefined;

/**
 * Verify before parse: a rejected receipt's body is never parsed, so its metadata is only what
 * these headers carry (as each src/providers/<name>.ts reads them on every refusal). A provider
 * missing here makes writeVectors() throw, so a new one has to say where its rejections stand.
 */
const REJECTED_METADATA_HEADERS: Record<string, (header: HeaderLookup) => Partial<Record<MetadataKey, string | undefined>>> = {
  "basic-auth": () => ({}),
  "bearer-token": () => ({}),
  "clerk": (header) => ({ providerEventId: standardWebhooksId(header, ["svix"]) }),
  "discord": () => ({}),
  "github": (header) => ({ eventType: header("x-github-event"), providerDeliveryId: header("x-github-delivery") }),
  "hubspot": () => ({}),
  "intercom": () => ({}),
  "lemon-squeezy": (header) => ({ eventType: header("x-event-name") }),
  "linear": (header) => ({ providerDeliveryId: header("linear-delivery") }),
  "meta": () => ({}),
  "paddle": () => ({}),
  "postmark": () => ({}),
  "resend": (header) => ({ providerEventId: standardWebhooksId(header, ["svix"]) }),
  "sendgrid": () => ({}),
  "shopify": (header) => {
    // Webhooks send X-Shopify-*, Events deliveries the unprefixed Shopify-* names; prefixed first.
    const either = (name: string) => header(`x-shopify-${name}`) ?? header(`shopify-${name}`);
    return { eventType: either("topic"), providerEventId: either("event-id"), providerDeliveryId: either("webhook-id") };
  },
  "slack": () => ({}),
  "standard-webhooks": (header) => ({ providerEventId: standardWebhooksId(header, ["webhook", "svix"]) }),
  "stripe": () => ({}),
  "token-header": () => ({}),
  "twilio": (header) => ({ providerEventId: header("i-twilio-idempotency-token") }),
  "zendesk": (header) => ({ providerDeliveryId: header("x-zendesk-webhook-invocation-id") }),
};

/** The `<family>-id` of the family whose `-signature` is present (else the first family), else any family's `-id`. */
function standardWebhooksId(header: HeaderLookup, families: string[]): string | undefined {
  const family = families.find((name) => header(`${name}-signature`) !== undefined) ?? families[0]!;
  return header(`${family}-id`) ?? families.map((name) => header(`${name}-id`)).find((value) => value !== undefined);
}

/**
 * The metadata `provider` reports for a rejected receipt with these headers: all three keys, each
 * the header value it reads (names case-insensitive, repeated values joined with ", ", as
 * receive() sees them) or null where only the body has it (an empty value is no metadata either).
 */
export function rejectedMetadata(provider: string, headers: Record<string, string | string[]>): Metadata {
  const fromHeaders = REJECTED_METADATA_HEADERS[provider];
  if (fromHeaders === undefined) throw new Error(`${provider}: no entry in REJECTED_METADATA_HEADERS (which headers does a rejection carry?)`);
  const values = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    const key = name.toLowerCase();
    values.set(key, [...(values.get(key) ?? []), ...(Array.isArray(value) ? value : [value])]);
  }
  const found = fromHeaders((name) => values.get(name)?.join(", "));
  return Object.fromEntries(METADATA_KEYS.map((key) => [key, found[key] || null])) as Metadata;
}

/** The vectors of `provider` as they are on disk now (keyed by case name); none when it has no directory yet. */
export function readVectors(provider: string): Record<string, Vector> {
  const dir = join(ROOT, provider);
  if (!existsSync(dir)) return {};
  return Object.fromEntries(readdirSync(dir).filter((file) => file.endsWith(".json")).sort()
    .map((file) => [file.replace(/\.json$/, ""), JSON.parse(readFileSync(join(dir, file), "utf8")) as Vector]));
}

/**
 * Replace every vector of `provider` with `vectors` (keyed by case name). An invalid vector gets
 * its metadata from rejectedMetadata(); stating any of it in the generator is an error.
 */
export function writeVectors(provider: string, vectors: Record<string, Vector>): void {
  const dir = join(ROOT, provider);
  const written = Object.entries(vectors).map(([name, vector]) => {
    const { method = "POST", headers, query = {}, body, bodyBase64, secrets, options = {}, now } = vector.request;
    const request = { method, headers, query, body, bodyBase64, secrets, options, now };
    let { expected } = vector;
    if (!expected.valid) {
      const stated = METADATA_KEYS.filter((key) => key in expected);
      if (stated.length > 0) throw new Error(`${provider}/${name}: an invalid vector's ${stated.join(", ")} come from rejectedMetadata(), not the generator`);
      expected = { ...expected, ...rejectedMetadata(provider, headers) };
    }
    return [name, { ...vector, request, expected }] as const;
  });
  mkdirSync(dir, { recursive: true });
  for (const file of readdirSync(dir)) if (file.endsWith(".json")) rmSync(join(dir, file));
  for (const [name, vector] of written) writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(vector, null, 2)}\n`);
  console.log(`${provider}: wrote ${written.length} vectors to ${dir}`);
}

/** Fail the generator when an oracle disagrees with what a vector claims. */
export function assertOracle(provider: string, name: string, ok: boolean): void {
  if (!ok) throw new Error(`${provider}/${name}: the provider's own package disagrees with this vector`);
}

/** Run `fn` with `Date.now()` pinned to `nowS` (oracles that read the wall clock). */
export function atClock<T>(nowS: number, fn: () => T): T {
  const real = Date.now;
  Date.now = () => nowS * 1000;
  try {
    return fn();
  } finally {
    Date.now = real;
  }
}

/** True when `fn` returns true without throwing. */
export function passes(fn: () => unknown): boolean {
  try {
    return fn() === true;
  } catch {
    return false;
  }
}

/** A copy of `headers` without `name` (for missing-header vectors). */
export function without(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([key]) => !names.includes(key)));
}

/** A generic JSON event for the shared-secret schemes (token-header, bearer-token, basic-auth). */
export const GENERIC_EVENT = JSON.stringify({
  id: "evt_01HFA3K9Q8ZJ5N2W7XR4T6YB1C",
  type: "invoice.paid",
  created: 1699999990,
  data: { invoice_id: "inv_8841", customer_id: "cus_512", amount: 4900, currency: "eur" },
});
