import { CuratedProvider, seconds } from "./curated.js";
import { decodeHex, field, hmac, matchesAnySecret, missingHeader, scalarString, toleranceError } from "./helpers.js";
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

  verify(request: ProviderRequest, { secrets, options, now }: VerifyContext): ProviderResult {
    const body = request.jsonOrUndefined();
    const type = scalarString(field(body, "type"));
    const action = scalarString(field(body, "action"));
    const meta = {
      eventType: type !== undefined && action !== undefined ? `${type}.${action}` : type,
      providerDeliveryId: request.header("linear-delivery"),
    };

    const header = request.header("linear-signature");
    if (header === undefined) return ProviderResult.reject(missingHeader("linear-signature"), meta);
    const signature = decodeHex(header);
    if (signature === null) return ProviderResult.reject("linear signature header malformed: expected hex", meta);
    if (!matchesAnySecret(secrets, [signature], (secret) => hmac("sha256", secret, request.body))) {
      return ProviderResult.reject("linear signature mismatch", meta);
    }

    const timestampMs = field(body, "webhookTimestamp");
    if (typeof timestampMs !== "number" || !Number.isFinite(timestampMs)) {
      return ProviderResult.reject("linear signature timestamp missing: body webhookTimestamp is not a number", meta);
    }
    const late = toleranceError("linear", now, timestampMs / 1000, options.toleranceS as number);
    return late ? ProviderResult.reject(late, meta) : ProviderResult.accept(meta);
  }
}
