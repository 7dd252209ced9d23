import { CuratedProvider, seconds } from "./curated.js";
import type { BodyMac } from "./body-mac.js";
import { decodeBase64, field, macsOver, matchesAnySecret, missingHeader, refusalOf, scalarString, toleranceError, type HeaderCheck } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Zendesk: `X-Zendesk-Webhook-Signature` is base64 HMAC-SHA256 of
 * `X-Zendesk-Webhook-Signature-Timestamp` (ISO-8601, within `toleranceS`) + body.
 * Event type: body `type`. Identity: body `id` of event-subscription payloads
 * (`type: "zen:event-type:…"`) — never `detail.id` or a trigger payload's `ticket_id`;
 * delivery id: `X-Zendesk-Webhook-Invocation-Id` (kept across retry attempts), which dedupe
 * falls back to for trigger/automation payloads.
 */
export class ZendeskProvider extends CuratedProvider {
  readonly name = "zendesk";

  constructor() {
    super({ toleranceS: seconds(300) });
  }

  /** Refuses missing or malformed signature / timestamp headers and a timestamp outside the tolerance. */
  override precheck(request: ProviderRequest, context: VerifyContext): ProviderResult | undefined {
    return refusalOf(checkHeaders(request, context));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, context: VerifyContext): BodyMac[] | undefined {
    const checked = checkHeaders(request, context);
    return checked instanceof ProviderResult ? undefined : macsOver(context.secrets, checked.timestampText);
  }

  /**
   * The body is parsed (for `type` / `id`) only once its signature is valid; a rejected receipt
   * carries the invocation id header only.
   */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    const checked = checkHeaders(request, context);
    if (checked instanceof ProviderResult) return checked;
    const headerMeta = { providerDeliveryId: request.header("x-zendesk-webhook-invocation-id") };
    if (!matchesAnySecret(context.secrets, [checked.signature], (secret) => request.bodyHmac("sha256", secret, checked.timestampText))) {
      return ProviderResult.reject("zendesk signature mismatch", headerMeta);
    }
    const body = request.jsonOrUndefined();
    const type = scalarString(field(body, "type"));
    return ProviderResult.accept({
      ...headerMeta,
      eventType: type,
      providerEventId: type?.startsWith("zen:event-type:") ? scalarString(field(body, "id")) : undefined,
    });
  }
}

function checkHeaders(request: ProviderRequest, { options, now }: VerifyContext): HeaderCheck<{ timestampText: string; signature: Buffer }> {
  const meta = { providerDeliveryId: request.header("x-zendesk-webhook-invocation-id") };
  const header = request.header("x-zendesk-webhook-signature");
  if (header === undefined) return ProviderResult.reject(missingHeader("x-zendesk-webhook-signature"), meta);
  const timestampText = request.header("x-zendesk-webhook-signature-timestamp");
  if (timestampText === undefined) return ProviderResult.reject(missingHeader("x-zendesk-webhook-signature-timestamp"), meta);
  const signature = decodeBase64(header);
  if (signature === null) return ProviderResult.reject("zendesk signature header malformed: expected base64", meta);
  const timestamp = ISO_8601.test(timestampText) ? Date.parse(timestampText) / 1000 : Number.NaN;
  if (!Number.isFinite(timestamp)) return ProviderResult.reject("zendesk signature timestamp malformed: expected ISO-8601", meta);
  const late = toleranceError("zendesk", now, timestamp, options.toleranceS as number);
  if (late) return ProviderResult.reject(late, meta);
  return { timestampText, signature };
}
