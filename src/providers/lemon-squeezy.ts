import { bodyHmacMacs, checkBodyHmacHeader, verifyBodyHmac, type BodyHmacScheme } from "./body-hmac-scheme.js";
import type { BodyMac } from "./body-mac.js";
import { CuratedProvider } from "./curated.js";
import { field, refusalOf, scalarString } from "./helpers.js";
import type { ProviderRequest, ProviderResult, VerifyContext } from "./provider.js";

const SIGNATURE: BodyHmacScheme = { provider: "lemon-squeezy", header: "x-signature", algorithm: "sha256", encoding: "hex" };

/**
 * Lemon Squeezy: `X-Signature` is the hex HMAC-SHA256 of the raw body under the webhook's
 * signing secret. Event type: `X-Event-Name`, else body `meta.event_name`. Identity: none is
 * sent — `data.id` is the order/subscription the event is about — so each receipt becomes its
 * own event unless the caller passes a `dedupeKey`.
 */
export class LemonSqueezyProvider extends CuratedProvider {
  readonly name = "lemon-squeezy";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  /** Refuses a missing or malformed `X-Signature` (the signature itself covers the body). */
  override precheck(request: ProviderRequest): ProviderResult | undefined {
    return refusalOf(checkBodyHmacHeader(request, SIGNATURE, { eventType: request.header("x-event-name") }));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, { secrets }: VerifyContext): BodyMac[] | undefined {
    return bodyHmacMacs(request, secrets, SIGNATURE);
  }

  /** A rejected receipt carries `X-Event-Name` only; the body's `meta.event_name` is read once the signature is valid. */
  verify(request: ProviderRequest, { secrets }: VerifyContext): ProviderResult {
    const eventType = request.header("x-event-name");
    return verifyBodyHmac(request, secrets, SIGNATURE, { eventType }, () => ({
      eventType: eventType ?? scalarString(field(request.jsonOrUndefined(), "meta", "event_name")),
    }));
  }
}
