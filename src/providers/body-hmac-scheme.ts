import { decodeBase64, decodeHex, hmac, matchesAnySecret, missingHeader } from "./helpers.js";
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

/** Verify a body-HMAC header against every secret; the metadata goes onto the result either way. */
export function verifyBodyHmac(
  request: ProviderRequest,
  secrets: readonly string[],
  scheme: BodyHmacScheme,
  meta: ProviderMetadata,
): ProviderResult {
  const { provider, header, algorithm, encoding, prefix = "" } = scheme;
  const value = request.header(header)?.trim();
  if (value === undefined) return ProviderResult.reject(missingHeader(header), meta);
  const digest = value.startsWith(prefix) ? value.slice(prefix.length) : null;
  const signature = digest === null ? null : encoding === "hex" ? decodeHex(digest) : decodeBase64(digest);
  if (signature === null) return ProviderResult.reject(`${provider} signature header malformed: expected ${prefix}<${encoding}>`, meta);

  const valid = matchesAnySecret(secrets, [signature], (secret) => hmac(algorithm, secret, request.body));
  return valid ? ProviderResult.accept(meta) : ProviderResult.reject(`${provider} signature mismatch`, meta);
}
