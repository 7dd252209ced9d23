import { createHash, timingSafeEqual } from "node:crypto";
import { ProviderResult, type ProviderRequest } from "./provider.js";

import type { BodyMac, MacAlgorithm } from "./body-mac.js";

export { hmac } from "./body-mac.js";

/** One BodyMac per secret (used literally as the key) over `prefix || body`. */
export function macsOver(secrets: readonly string[], prefix: string, algorithm: MacAlgorithm = "sha256"): BodyMac[] {
  return secrets.map((key) => ({ algorithm, key, prefix }));
}

/** Constant-time equality; values of different length are simply unequal. */
export function safeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const left = typeof a === "string" ? Buffer.from(a, "utf8") : a;
  const right = typeof b === "string" ? Buffer.from(b, "utf8") : b;
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

/**
 * True when `candidate` equals the expected digest for any secret. Every secret is tried even
 * after a match so the time taken does not reveal which one matched.
 */
export function matchesAnySecret(
  secrets: readonly string[],
  candidates: readonly Buffer[],
  expected: (secret: string) => Buffer,
): boolean {
  let matched = false;
  for (const secret of secrets) {
    const digest = expected(secret);
    for (const candidate of candidates) {
      if (safeEqual(candidate, digest)) matched = true;
    }
  }
  return matched;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Hex → bytes, or null when the text is not well-formed hex. */
export function decodeHex(text: string): Buffer | null {
  const trimmed = text.trim();
  return HEX.test(trimmed) ? Buffer.from(trimmed, "hex") : null;
}

/** Strict base64 (standard alphabet, padded) → bytes, or null. */
export function decodeBase64(text: string): Buffer | null {
  const trimmed = text.trim();
  if (trimmed.length === 0 || !BASE64.test(trimmed)) return null;
  return Buffer.from(trimmed, "base64");
}

/** Base64 in either alphabet, padding optional → bytes, or null. */
export function decodeBase64Loose(text: string): Buffer | null {
  const trimmed = text.trim();
  if (trimmed.length === 0) return null;
  if (BASE64.test(trimmed)) return Buffer.from(trimmed, "base64");
  if (BASE64URL.test(trimmed)) return Buffer.from(trimmed, "base64url");
  return null;
}

/** A non-negative decimal integer, or null (no signs, no exponents, no fractions). */
export function parseDecimal(text: string | undefined): number | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (!/^\d{1,16}$/.test(trimmed)) return null;
  return Number(trimmed);
}

/**
 * Symmetric tolerance check: returns an error naming the provider when `timestamp` (seconds)
 * is further than `toleranceS` from `now`, otherwise null.
 */
export function toleranceError(provider: string, now: number, timestamp: number, toleranceS: number): string | null {
  return Math.abs(now - timestamp) > toleranceS ? `${provider} signature timestamp outside tolerance` : null;
}

/**
 * A `t=<unix>,v1=<hex>,v1=<hex>` style header in one pass (Stripe, Paddle): the first value of
 * `timestampKey`, and every `signatureKey` value that is well-formed hex, decoded. `signed` says
 * whether any `signatureKey` entry was present at all, well-formed or not. Whitespace around
 * entries is ignored; entries without "=" are skipped.
 */
export function timestampedSignatures(header: string, entrySeparator: string, timestampKey: string, signatureKey: string) {
  let timestamp: string | undefined;
  let signed = false;
  const signatures: Buffer[] = [];
  for (const entry of header.split(entrySeparator)) {
    const at = entry.indexOf("=");
    if (at <= 0) continue;
    const key = entry.slice(0, at).trim();
    if (key === timestampKey) {
      timestamp ??= entry.slice(at + 1).trim();
    } else if (key === signatureKey) {
      signed = true;
      const decoded = decodeHex(entry.slice(at + 1));
      if (decoded !== null) signatures.push(decoded);
    }
  }
  return { timestamp, signed, signatures };
}

/** JSON scalar → string the JavaScript way; objects, arrays, null and absent → undefined. */
export function scalarString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return undefined;
}

/** Read a property of a JSON value without trusting its shape. */
export function field(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The body's JSON, or its first element when the body is a JSON array (batched providers). */
export function firstJsonElement(request: ProviderRequest): unknown {
  const parsed = request.jsonOrUndefined();
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

export function missingHeader(header: string): string {
  return `missing signature header: ${header}`;
}

/** `Authorization: Basic …` → the decoded `user:pass`, or null. */
export function basicCredentials(request: ProviderRequest): string | null {
  const header = request.header("authorization");
  if (header === undefined) return null;
  const match = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!match) return null;
  const decoded = decodeBase64Loose(match[1]!);
  return decoded === null ? null : decoded.toString("utf8");
}

/** Plain (unkeyed) digest of `data`, as raw bytes. */
export function digest(algorithm: "sha1" | "sha256", data: string | Buffer): Buffer {
  return createHash(algorithm).update(data).digest();
}

/**
 * True when a presented credential (a token, a `user:pass`) equals any secret. Both sides are
 * hashed first, so the comparison is constant time and does not reveal a secret's length.
 */
export function credentialMatches(secrets: readonly string[], presented: string): boolean {
  return matchesAnySecret(secrets, [digest("sha256", presented)], (secret) => digest("sha256", secret));
}

/** Body `type` → event type and body `id` → event id, when the body is a JSON object. */
export function jsonTypeAndId(request: ProviderRequest): { eventType: string | undefined; providerEventId: string | undefined } {
  const body = request.jsonOrUndefined();
  return { eventType: scalarString(field(body, "type")), providerEventId: scalarString(field(body, "id")) };
}

/**
 * A provider's header checks either refuse the receipt or hand verify() what they parsed. The
 * same function backs precheck() (headers only, empty body) and the start of verify().
 */
export type HeaderCheck<T> = ProviderResult | T;

/** The refusal of a header check, or undefined when the headers pass (for `precheck`). */
export function refusalOf<T>(checked: HeaderCheck<T>): ProviderResult | undefined {
  return checked instanceof ProviderResult ? checked : undefined;
}

/**
 * `Authorization: Basic …` must decode to one of the secrets (`user:pass`, constant time):
 * a refusal naming `provider` and the failed check, or undefined when the credentials match.
 * Headers only, so it serves as precheck and verify alike.
 */
export function checkBasicAuth(provider: string, request: ProviderRequest, secrets: readonly string[]): ProviderResult | undefined {
  if (request.header("authorization") === undefined) return ProviderResult.reject(missingHeader("authorization"));
  const credentials = basicCredentials(request);
  if (credentials === null) return ProviderResult.reject(`${provider} authorization header malformed: expected Basic <base64 user:pass>`);
  return credentialMatches(secrets, credentials) ? undefined : ProviderResult.reject(`${provider} credentials mismatch`);
}
