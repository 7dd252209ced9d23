import { CuratedProvider, seconds } from "./curated.js";
import type { BodyMac } from "./body-mac.js";
import { field, macsOver, matchesAnySecret, missingHeader, parseDecimal, refusalOf, scalarString, timestampedSignatures, toleranceError, type HeaderCheck } from "./helpers.js";
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

  /** Refuses a missing or malformed `Stripe-Signature` and a `t=` outside the tolerance. */
  override precheck(request: ProviderRequest, context: VerifyContext): ProviderResult | undefined {
    return refusalOf(checkHeader(request, context));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, context: VerifyContext): BodyMac[] | undefined {
    const checked = checkHeader(request, context);
    return checked instanceof ProviderResult ? undefined : macsOver(context.secrets, `${checked.timestampText}.`);
  }

  /** The body is parsed (for `id` / `type`) only once its signature is valid; a rejected receipt carries no metadata. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    const checked = checkHeader(request, context);
    if (checked instanceof ProviderResult) return checked;
    const prefix = `${checked.timestampText}.`;
    if (!matchesAnySecret(context.secrets, checked.signatures, (secret) => request.bodyHmac("sha256", secret, prefix))) {
      return ProviderResult.reject("stripe signature mismatch");
    }
    const body = request.jsonOrUndefined();
    return ProviderResult.accept({ eventType: scalarString(field(body, "type")), providerEventId: scalarString(field(body, "id")) });
  }
}

function checkHeader(request: ProviderRequest, { options, now }: VerifyContext): HeaderCheck<{ timestampText: string; signatures: Buffer[] }> {
  const header = request.header("stripe-signature");
  if (header === undefined) return ProviderResult.reject(missingHeader("stripe-signature"));
  const { timestamp: timestampText, signed, signatures } = timestampedSignatures(header, ",", "t", "v1");
  if (timestampText === undefined || !signed) return ProviderResult.reject("stripe signature header malformed: expected t= and v1=");
  const timestamp = parseDecimal(timestampText);
  if (timestamp === null) return ProviderResult.reject("stripe signature timestamp is not a number");
  const late = toleranceError("stripe", now, timestamp, options.toleranceS as number);
  if (late) return ProviderResult.reject(late);
  // v1 entries that are not hex can match nothing.
  if (signatures.length === 0) return ProviderResult.reject("stripe signature mismatch");
  return { timestampText, signatures };
}
