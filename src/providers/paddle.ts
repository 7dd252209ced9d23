import { CuratedProvider, seconds } from "./curated.js";
import { field, hmac, matchesAnySecret, missingHeader, parseDecimal, scalarString, timestampedSignatures, toleranceError } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>]` over `ts + ":" + body`,
 * HMAC-SHA256 under the notification destination's secret key (used literally); any h1 may
 * match; `ts` within `toleranceS` (5 s, as Paddle's SDK). Event type: body `event_type`.
 * Identity: body `event_id` (`evt_…`); delivery id: body `notification_id` (`ntf_…`) —
 * never `data.id`, the transaction/subscription the event is about.
 */
export class PaddleProvider extends CuratedProvider {
  readonly name = "paddle";

  constructor() {
    super({ toleranceS: seconds(5) });
  }

  verify(request: ProviderRequest, { secrets, options, now }: VerifyContext): ProviderResult {
    const body = request.jsonOrUndefined();
    const meta = {
      eventType: scalarString(field(body, "event_type")),
      providerEventId: scalarString(field(body, "event_id")),
      providerDeliveryId: scalarString(field(body, "notification_id")),
    };

    const header = request.header("paddle-signature");
    if (header === undefined) return ProviderResult.reject(missingHeader("paddle-signature"), meta);
    const { timestamp: timestampText, signed, signatures } = timestampedSignatures(header, ";", "ts", "h1");
    if (timestampText === undefined || !signed) {
      return ProviderResult.reject("paddle signature header malformed: expected ts= and h1=", meta);
    }
    const timestamp = parseDecimal(timestampText);
    if (timestamp === null) return ProviderResult.reject("paddle signature timestamp is not a number", meta);

    const prefix = `${timestampText}:`;
    if (!matchesAnySecret(secrets, signatures, (secret) => hmac("sha256", secret, prefix, request.body))) {
      return ProviderResult.reject("paddle signature mismatch", meta);
    }
    const late = toleranceError("paddle", now, timestamp, options.toleranceS as number);
    return late ? ProviderResult.reject(late, meta) : ProviderResult.accept(meta);
  }
}
