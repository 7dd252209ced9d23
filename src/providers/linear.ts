import { CuratedProvider, seconds } from "./curated.js";
import type { BodyMac } from "./body-mac.js";
import { decodeHex, field, macsOver, matchesAnySecret, missingHeader, refusalOf, scalarString, toleranceError, type HeaderCheck } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * Linear: `Linear-Signature: <hex>` over the raw body, HMAC-SHA256; the signed body's
 * `webhookTimestamp` (unix milliseconds) must be within `toleranceS` of now.
 * Event type: `type + "." + action` (`Issue.create`), or `type` alone when there is no action.
 * Identity: the `Linear-Delivery` header, kept as the delivery id so dedupe picks it up
 * (`data.id` is the issue/comment the event is about and is never used).
 */
export class LinearProvider extends CuratedProvider {
  readonly name = "linear";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  constructor() {
    super({ toleranceS: seconds(60) });
  }

  /** Refuses a missing or malformed `Linear-Signature`; the timestamp is in the (signed) body, so it waits for verify(). */
  override precheck(request: ProviderRequest): ProviderResult | undefined {
    return refusalOf(checkHeader(request));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, { secrets }: VerifyContext): BodyMac[] | undefined {
    return checkHeader(request) instanceof ProviderResult ? undefined : macsOver(secrets, "");
  }

  /**
   * The body is parsed (for `webhookTimestamp`, `type`, `action`) only once its signature is
   * valid; a rejected receipt carries the `Linear-Delivery` header only.
   */
  verify(request: ProviderRequest, { secrets, options, now }: VerifyContext): ProviderResult {
    const signature = checkHeader(request);
    if (signature instanceof ProviderResult) return signature;
    const headerMeta = { providerDeliveryId: request.header("linear-delivery") };
    if (!matchesAnySecret(secrets, [signature], (secret) => request.bodyHmac("sha256", secret))) {
      return ProviderResult.reject("linear signature mismatch", headerMeta);
    }

    const body = request.jsonOrUndefined();
    const type = scalarString(field(body, "type"));
    const action = scalarString(field(body, "action"));
    const timestampMs = field(body, "webhookTimestamp");
    // Rejections carry header metadata only, like every other rejection.
    if (typeof timestampMs !== "number" || !Number.isFinite(timestampMs)) {
      return ProviderResult.reject("linear signature timestamp missing: body webhookTimestamp is not a number", headerMeta);
    }
    const late = toleranceError("linear", now, timestampMs / 1000, options.toleranceS as number);
    if (late) return ProviderResult.reject(late, headerMeta);
    return ProviderResult.accept({ ...headerMeta, eventType: type !== undefined && action !== undefined ? `${type}.${action}` : type });
  }
}

function checkHeader(request: ProviderRequest): HeaderCheck<Buffer> {
  const meta = { providerDeliveryId: request.header("linear-delivery") };
  const header = request.header("linear-signature");
  if (header === undefined) return ProviderResult.reject(missingHeader("linear-signature"), meta);
  const signature = decodeHex(header);
  if (signature === null) return ProviderResult.reject("linear signature header malformed: expected hex", meta);
  return signature;
}
