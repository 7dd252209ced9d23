import { createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import type { BodyMac } from "./body-mac.js";
import { decodeBase64, decodeBase64Loose, field, missingHeader, parseDecimal, refusalOf, safeEqual, scalarString, toleranceError } from "./helpers.js";
import { CuratedProvider, seconds } from "./curated.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * The Standard Webhooks scheme (also Svix's, used by standard-webhooks, resend and clerk):
 * headers `<family>-id`, `<family>-timestamp` (unix seconds, within `toleranceS`) and
 * `<family>-signature`, a space-separated list of `v1,<base64 HMAC-SHA256>` and
 * `v1a,<base64 Ed25519>` entries over `id + "." + timestamp + "." + body`; any entry may match
 * any secret. Secrets: `whsec_<base64>` is decoded to the HMAC key, `whpk_<base64>` is a raw
 * 32-byte Ed25519 public key (for `v1a`), anything else is the HMAC key as UTF-8 text.
 * Event type: body `type`. Identity: the `-id` header (the message id, kept on every retry).
 */
export interface StandardWebhooksScheme {
  provider: string;
  /** Header families in order of preference, e.g. `["webhook", "svix"]`. */
  families: readonly string[];
}

interface Keys {
  hmac: Buffer[];
  ed25519: KeyObject[];
}

interface CheckedHeaders {
  messageId: string;
  timestampText: string;
  v1: Buffer[];
  v1a: Buffer[];
}

/**
 * The header half of the scheme (usable as `precheck`, the body is not touched): the id, the
 * timestamp (a number, within the tolerance) and the well-formed signature entries, or a
 * refusal carrying the `-id` header as the event id.
 */
export function checkStandardWebhookHeaders(request: ProviderRequest, { options, now }: VerifyContext, scheme: StandardWebhooksScheme): ProviderResult | CheckedHeaders {
  const { provider, families } = scheme;
  const family = families.find((name) => request.header(`${name}-signature`) !== undefined) ?? families[0]!;
  const meta = headerMeta(request, scheme);

  const header = request.header(`${family}-signature`);
  if (header === undefined) return ProviderResult.reject(missingHeader(`${family}-signature`), meta);
  const messageId = request.header(`${family}-id`);
  if (messageId === undefined) return ProviderResult.reject(missingHeader(`${family}-id`), meta);
  const timestampText = request.header(`${family}-timestamp`);
  if (timestampText === undefined) return ProviderResult.reject(missingHeader(`${family}-timestamp`), meta);
  const timestamp = parseDecimal(timestampText);
  if (timestamp === null) return ProviderResult.reject(`${provider} signature timestamp is not a number`, meta);

  const v1: Buffer[] = [];
  const v1a: Buffer[] = [];
  for (const entry of header.split(" ")) {
    const comma = entry.indexOf(",");
    const version = entry.slice(0, comma);
    const signature = comma > 0 ? decodeBase64(entry.slice(comma + 1)) : null;
    if (version === "v1" && signature?.length === 32) v1.push(signature);
    if (version === "v1a" && signature?.length === 64) v1a.push(signature);
  }
  if (v1.length === 0 && v1a.length === 0) {
    return ProviderResult.reject(`${provider} signature header malformed: expected v1,<base64> or v1a,<base64> entries`, meta);
  }
  const late = toleranceError(provider, now, timestamp, options.toleranceS as number);
  if (late) return ProviderResult.reject(late, meta);
  return { messageId, timestampText, v1, v1a };
}

/** The event id of a receipt, from its headers (the signature family's `-id`, else any family's). */
function headerMeta(request: ProviderRequest, { families }: StandardWebhooksScheme): { providerEventId: string | undefined } {
  const family = families.find((name) => request.header(`${name}-signature`) !== undefined) ?? families[0]!;
  const id = request.header(`${family}-id`) ?? families.map((name) => request.header(`${name}-id`)).find((value) => value !== undefined);
  return { providerEventId: id };
}

/** Verify a Standard Webhooks receipt; the body is parsed (for `type`) only once its signature is valid. */
export function verifyStandardWebhook(request: ProviderRequest, context: VerifyContext, scheme: StandardWebhooksScheme): ProviderResult {
  const checked = checkStandardWebhookHeaders(request, context, scheme);
  if (checked instanceof ProviderResult) return checked;
  const { provider } = scheme;
  const meta = headerMeta(request, scheme);
  const keys = parseKeys(context.secrets);
  if (keys.hmac.length === 0 && keys.ed25519.length === 0) {
    return ProviderResult.reject(`${provider} secret malformed: whsec_/whpk_ secrets must be base64`, meta);
  }

  const prefix = signedPrefix(checked);
  // Every key is tried against every entry, even after a match (constant time, rotation).
  let valid = false;
  for (const key of keys.hmac) {
    const expected = request.bodyHmac("sha256", key, prefix);
    for (const signature of checked.v1) if (safeEqual(signature, expected)) valid = true;
  }
  if (keys.ed25519.length > 0) {
    const signed = Buffer.concat([Buffer.from(prefix, "utf8"), request.body]);
    for (const key of keys.ed25519) {
      for (const signature of checked.v1a) if (verifySignature(null, signed, key, signature)) valid = true;
    }
  }
  if (!valid) return ProviderResult.reject(`${provider} signature mismatch`, meta);
  return ProviderResult.accept({ ...meta, eventType: scalarString(field(request.jsonOrUndefined(), "type")) });
}

/** The HMACs (one per HMAC secret) for `Provider.bodyMacs`, once the headers pass; Ed25519 cannot be streamed. */
export function standardWebhookMacs(request: ProviderRequest, context: VerifyContext, scheme: StandardWebhooksScheme): BodyMac[] | undefined {
  const checked = checkStandardWebhookHeaders(request, context, scheme);
  if (checked instanceof ProviderResult) return undefined;
  const prefix = signedPrefix(checked);
  return parseKeys(context.secrets).hmac.map((key) => ({ algorithm: "sha256", key, prefix }));
}

function signedPrefix({ messageId, timestampText }: CheckedHeaders): string {
  return `${messageId}.${timestampText}.`;
}

/** For `validateSecrets`: refuse a `whsec_`/`whpk_` secret that does not decode (the message never repeats it). */
export function checkStandardWebhooksSecrets(provider: string, secrets: readonly string[]): void {
  for (const [index, secret] of secrets.entries()) {
    const keys = parseKeys([secret]);
    if (keys.hmac.length === 0 && keys.ed25519.length === 0) {
      throw new Error(`${provider} secret #${index + 1} is malformed: whsec_ must be followed by base64, whpk_ by a base64 32-byte Ed25519 public key`);
    }
  }
}

/** Secrets → HMAC keys and Ed25519 public keys; undecodable `whsec_`/`whpk_` secrets are skipped. */
function parseKeys(secrets: readonly string[]): Keys {
  const keys: Keys = { hmac: [], ed25519: [] };
  for (const secret of secrets) {
    if (secret.startsWith("whpk_")) {
      const raw = decodeBase64Loose(secret.slice(5));
      const key = raw?.length === 32 ? importEd25519(raw) : null;
      if (key) keys.ed25519.push(key);
    } else if (secret.startsWith("whsec_")) {
      const raw = decodeBase64Loose(secret.slice(6));
      if (raw !== null && raw.length > 0) keys.hmac.push(raw);
    } else {
      keys.hmac.push(Buffer.from(secret, "utf8"));
    }
  }
  return keys;
}

function importEd25519(raw: Buffer): KeyObject | null {
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
  } catch {
    return null;
  }
}

/** Base of the providers that sign the Standard Webhooks way; each names itself and its header families. */
export abstract class StandardWebhooksSigned extends CuratedProvider {
  readonly #families: StandardWebhooksScheme["families"];

  constructor(families: StandardWebhooksScheme["families"]) {
    super({ toleranceS: seconds(300) });
    this.#families = families;
  }

  override validateSecrets(secrets: readonly string[]): void {
    checkStandardWebhooksSecrets(this.name, secrets);
  }

  /** Refuses missing or malformed `-id` / `-timestamp` / `-signature` headers and a timestamp outside the tolerance. */
  override precheck(request: ProviderRequest, context: VerifyContext): ProviderResult | undefined {
    return refusalOf(checkStandardWebhookHeaders(request, context, { provider: this.name, families: this.#families }));
  }

  /** Its HMACs (one per HMAC secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, context: VerifyContext): BodyMac[] | undefined {
    return standardWebhookMacs(request, context, { provider: this.name, families: this.#families });
  }

  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    return verifyStandardWebhook(request, context, { provider: this.name, families: this.#families });
  }
}
