import { CuratedProvider, seconds } from "./curated.js";
import { field, hmac, matchesAnySecret, missingHeader, parseDecimal, scalarString, timestampedSignatures, toleranceError } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>]` over `t + "." + body`, HMAC-SHA256.
 * The `whsec_…` secret is used literally. Identity: body `id` (`evt_…`).
 */
export class StripeProvider extends CuratedProvider {
  readonly name = "stripe";

  constructor() {
    super({ toleranceS: seconds(300) });
  }

  verify(request: ProviderRequest, { secrets, options, now }: VerifyContext): ProviderResult {
    const body = request.jsonOrUndefined();
    const meta = { eventType: scalarString(field(body, "type")), providerEventId: scalarString(field(body, "id")) };

    const header = request.header("stripe-signature");
    if (header === undefined) return ProviderResult.reject(missingHeader("stripe-signature"), meta);
    const { timestamp: timestampText, signed, signatures } = timestampedSignatures(header, ",", "t", "v1");
    if (timestampText === undefined || !signed) {
      return ProviderResult.reject("stripe signature header malformed: expected t= and v1=", meta);
    }
    const timestamp = parseDecimal(timestampText);
    if (timestamp === null) return ProviderResult.reject("stripe signature timestamp is not a number", meta);

    const prefix = `${timestampText}.`;
    if (!matchesAnySecret(secrets, signatures, (secret) => hmac("sha256", secret, prefix, request.body))) {
      return ProviderResult.reject("stripe signature mismatch", meta);
    }
    const late = toleranceError("stripe", now, timestamp, options.toleranceS as number);
    return late ? ProviderResult.reject(late, meta) : ProviderResult.accept(meta);
  }
}
