import { CuratedProvider, seconds } from "./curated.js";
import type { BodyMac } from "./body-mac.js";
import { field, macsOver, matchesAnySecret, missingHeader, parseDecimal, refusalOf, scalarString, timestampedSignatures, toleranceError, type HeaderCheck } from "./helpers.js";
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

  /** Refuses a missing or malformed `Paddle-Signature` and a `ts=` outside the tolerance. */
  override precheck(request: ProviderRequest, context: VerifyContext): ProviderResult | undefined {
    return refusalOf(checkHeader(request, context));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, context: VerifyContext): BodyMac[] | undefined {
    const checked = checkHeader(request, context);
    return checked instanceof ProviderResult ? undefined : macsOver(context.secrets, `${checked.timestampText}:`);
  }

  /** The body is parsed (for its ids and type) only once its signature is valid; a rejected receipt carries no metadata. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    const checked = checkHeader(request, context);
    if (checked instanceof ProviderResult) return checked;
    const prefix = `${checked.timestampText}:`;
    if (!matchesAnySecret(context.secrets, checked.signatures, (secret) => request.bodyHmac("sha256", secret, prefix))) {
      return ProviderResult.reject("paddle signature mismatch");
    }
    const body = request.jsonOrUndefined();
    return ProviderResult.accept({
      eventType: scalarString(field(body, "event_type")),
      providerEventId: scalarString(field(body, "event_id")),
      providerDeliveryId: scalarString(field(body, "notification_id")),
    });
  }
}

function checkHeader(request: ProviderRequest, { options, now }: VerifyContext): HeaderCheck<{ timestampText: string; signatures: Buffer[] }> {
  const header = request.header("paddle-signature");
  if (header === undefined) return ProviderResult.reject(missingHeader("paddle-signature"));
  const { timestamp: timestampText, signed, signatures } = timestampedSignatures(header, ";", "ts", "h1");
  if (timestampText === undefined || !signed) return ProviderResult.reject("paddle signature header malformed: expected ts= and h1=");
  const timestamp = parseDecimal(timestampText);
  if (timestamp === null) return ProviderResult.reject("paddle signature timestamp is not a number");
  const late = toleranceError("paddle", now, timestamp, options.toleranceS as number);
  if (late) return ProviderResult.reject(late);
  // h1 entries that are not hex can match nothing.
  if (signatures.length === 0) return ProviderResult.reject("paddle signature mismatch");
  return { timestampText, signatures };
}
