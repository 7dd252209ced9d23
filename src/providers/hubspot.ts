import { CuratedProvider, requiredUrl, seconds } from "./curated.js";
import {
  decodeBase64, decodeHex, digest, field, firstJsonElement, hmac, matchesAnySecret, missingHeader, parseDecimal, scalarString,
  toleranceError,
} from "./helpers.js";
import { ProviderResult, type ProviderMetadata, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * HubSpot v3: `X-HubSpot-Signature-v3` is base64 HMAC-SHA256 of
 * `METHOD + url + body + X-HubSpot-Request-Timestamp` (unix ms, within `toleranceS`), where `url`
 * is the option (the exact URL HubSpot calls). Without a v3 header, the legacy
 * `X-HubSpot-Signature` (hex SHA-256 of `secret + body` for v1, `secret + METHOD + url + body`
 * for v2, as `X-HubSpot-Signature-Version` says) is checked; it carries no timestamp.
 * Event type / identity: the first array element's `subscriptionType` / `eventId`.
 */
export class HubspotProvider extends CuratedProvider {
  readonly name = "hubspot";

  constructor() {
    super({ url: requiredUrl(), toleranceS: seconds(300) });
  }

  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    const first = firstJsonElement(request);
    const meta = { eventType: scalarString(field(first, "subscriptionType")), providerEventId: scalarString(field(first, "eventId")) };
    if (request.header("x-hubspot-signature-v3") !== undefined) return verifyV3(request, context, meta);
    const version = request.header("x-hubspot-signature-version");
    if (version === "v1" || version === "v2") return verifyLegacy(request, context, version, meta);
    return ProviderResult.reject(missingHeader("x-hubspot-signature-v3"), meta);
  }
}

function verifyV3(request: ProviderRequest, { secrets, options, now }: VerifyContext, meta: ProviderMetadata): ProviderResult {
  const signature = decodeBase64(request.header("x-hubspot-signature-v3", ""));
  if (signature === null) return ProviderResult.reject("hubspot signature header malformed: expected base64", meta);
  const timestampText = request.header("x-hubspot-request-timestamp");
  if (timestampText === undefined) return ProviderResult.reject(missingHeader("x-hubspot-request-timestamp"), meta);
  const timestampMs = parseDecimal(timestampText);
  if (timestampMs === null) return ProviderResult.reject("hubspot signature timestamp is not a number", meta);

  const signed = Buffer.concat([Buffer.from(`${request.method}${options.url as string}`), request.body, Buffer.from(timestampText)]);
  if (!matchesAnySecret(secrets, [signature], (secret) => hmac("sha256", secret, signed))) {
    return ProviderResult.reject("hubspot signature mismatch", meta);
  }
  const late = toleranceError("hubspot", now, timestampMs / 1000, options.toleranceS as number);
  return late ? ProviderResult.reject(late, meta) : ProviderResult.accept(meta);
}

function verifyLegacy(request: ProviderRequest, { secrets, options }: VerifyContext, version: "v1" | "v2", meta: ProviderMetadata): ProviderResult {
  const header = request.header("x-hubspot-signature");
  if (header === undefined) return ProviderResult.reject(missingHeader("x-hubspot-signature"), meta);
  const signature = decodeHex(header);
  if (signature === null) return ProviderResult.reject(`hubspot ${version} signature header malformed: expected hex`, meta);

  const prefix = version === "v1" ? "" : `${request.method}${options.url as string}`;
  const expected = (secret: string) => digest("sha256", Buffer.concat([Buffer.from(secret + prefix), request.body]));
  const valid = matchesAnySecret(secrets, [signature], expected);
  return valid ? ProviderResult.accept(meta) : ProviderResult.reject(`hubspot ${version} signature mismatch`, meta);
}
