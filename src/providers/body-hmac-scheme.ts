import type { BodyMac } from "./body-mac.js";
import { decodeBase64, decodeHex, macsOver, matchesAnySecret, missingHeader } from "./helpers.js";
import { ProviderResult, type ProviderMetadata, type ProviderRequest } from "./provider.js";

/** One header carrying `<prefix><hex|base64>` of an HMAC of the raw body (GitHub, Meta, Intercom…). */
export interface BodyHmacScheme {
  provider: string;
  /** Lower-case header name. */
  header: string;
  algorithm: "sha1" | "sha256";
  encoding: "hex" | "base64";
  /** Text before the digest, e.g. `sha256=`; none by default. */
  prefix?: string;
}

/**
 * The header half of a body-HMAC check (usable as `precheck`, the body is not touched): the
 * decoded signature, or a refusal for a missing or malformed header carrying `meta`
 * (header-derived metadata only).
 */
export function checkBodyHmacHeader(request: ProviderRequest, scheme: BodyHmacScheme, meta: ProviderMetadata): ProviderResult | Buffer {
  const { provider, header, encoding, prefix = "" } = scheme;
  const value = request.header(header)?.trim();
  if (value === undefined) return ProviderResult.reject(missingHeader(header), meta);
  const digest = value.startsWith(prefix) ? value.slice(prefix.length) : null;
  const signature = digest === null ? null : encoding === "hex" ? decodeHex(digest) : decodeBase64(digest);
  if (signature === null) return ProviderResult.reject(`${provider} signature header malformed: expected ${prefix}<${encoding}>`, meta);
  return signature;
}

/** The scheme's HMACs (one per secret) for `Provider.bodyMacs`, once the header is well-formed. */
export function bodyHmacMacs(request: ProviderRequest, secrets: readonly string[], scheme: BodyHmacScheme): BodyMac[] | undefined {
  return checkBodyHmacHeader(request, scheme, {}) instanceof ProviderResult ? undefined : macsOver(secrets, "", scheme.algorithm);
}

/**
 * Verify a body-HMAC header against every secret over the raw body. `meta` (from headers) goes
 * onto the result either way; `bodyMeta` is read from the body only once the signature is valid.
 */
export function verifyBodyHmac(
  request: ProviderRequest,
  secrets: readonly string[],
  scheme: BodyHmacScheme,
  meta: ProviderMetadata,
  bodyMeta: () => ProviderMetadata = () => ({}),
): ProviderResult {
  const signature = checkBodyHmacHeader(request, scheme, meta);
  if (signature instanceof ProviderResult) return signature;
  const valid = matchesAnySecret(secrets, [signature], (secret) => request.bodyHmac(scheme.algorithm, secret));
  if (!valid) return ProviderResult.reject(`${scheme.provider} signature mismatch`, meta);
  return ProviderResult.accept({ ...meta, ...bodyMeta() });
}
