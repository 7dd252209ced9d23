import { CuratedProvider, requiredUrl, seconds } from "./curated.js";
import {
  decodeBase64, decodeHex, digest, field, firstJsonElement, hmac, matchesAnySecret, missingHeader, parseDecimal, refusalOf, scalarString,
  toleranceError, type HeaderCheck,
} from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

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

  /**
   * Refuses when no signature header is sent, a malformed one, and (v3) a missing or malformed
   * timestamp or one outside the tolerance. Every signature version covers the body.
   */
  override precheck(request: ProviderRequest, context: VerifyContext): ProviderResult | undefined {
    return refusalOf(checkHeaders(request, context));
  }

  /** The body is parsed (for the first event's type / id) only once its signature is valid; a rejected receipt carries no metadata. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    const checked = checkHeaders(request, context);
    if (checked instanceof ProviderResult) return checked;
    const { secrets, options } = context;
    const { version, signature } = checked;
    let valid: boolean;
    if (version === "v3") {
      const signed = Buffer.concat([Buffer.from(`${request.method}${options.url as string}`), request.body, Buffer.from(checked.timestampText)]);
      valid = matchesAnySecret(secrets, [signature], (secret) => hmac("sha256", secret, signed));
    } else {
      const prefix = version === "v1" ? "" : `${request.method}${options.url as string}`;
      valid = matchesAnySecret(secrets, [signature], (secret) => digest("sha256", Buffer.concat([Buffer.from(secret + prefix), request.body])));
    }
    if (!valid) return ProviderResult.reject(version === "v3" ? "hubspot signature mismatch" : `hubspot ${version} signature mismatch`);
    const first = firstJsonElement(request);
    return ProviderResult.accept({ eventType: scalarString(field(first, "subscriptionType")), providerEventId: scalarString(field(first, "eventId")) });
  }
}

type Checked = { version: "v3"; signature: Buffer; timestampText: string } | { version: "v1" | "v2"; signature: Buffer };

function checkHeaders(request: ProviderRequest, { options, now }: VerifyContext): HeaderCheck<Checked> {
  if (request.header("x-hubspot-signature-v3") !== undefined) {
    const signature = decodeBase64(request.header("x-hubspot-signature-v3", ""));
    if (signature === null) return ProviderResult.reject("hubspot signature header malformed: expected base64");
    const timestampText = request.header("x-hubspot-request-timestamp");
    if (timestampText === undefined) return ProviderResult.reject(missingHeader("x-hubspot-request-timestamp"));
    const timestampMs = parseDecimal(timestampText);
    if (timestampMs === null) return ProviderResult.reject("hubspot signature timestamp is not a number");
    const late = toleranceError("hubspot", now, timestampMs / 1000, options.toleranceS as number);
    if (late) return ProviderResult.reject(late);
    return { version: "v3", signature, timestampText };
  }
  const version = request.header("x-hubspot-signature-version");
  if (version !== "v1" && version !== "v2") return ProviderResult.reject(missingHeader("x-hubspot-signature-v3"));
  const header = request.header("x-hubspot-signature");
  if (header === undefined) return ProviderResult.reject(missingHeader("x-hubspot-signature"));
  const signature = decodeHex(header);
  if (signature === null) return ProviderResult.reject(`hubspot ${version} signature header malformed: expected hex`);
  return { version, signature };
}
