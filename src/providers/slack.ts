import { CuratedProvider, seconds } from "./curated.js";
import type { BodyMac } from "./body-mac.js";
import { decodeHex, field, macsOver, matchesAnySecret, missingHeader, parseDecimal, refusalOf, scalarString, toleranceError, type HeaderCheck } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

/**
 * Slack: `X-Slack-Signature: v0=<hex>` is HMAC-SHA256 of `"v0:" + X-Slack-Request-Timestamp + ":" + body`
 * under the app's signing secret; the timestamp must be within `toleranceS`.
 * Event type: `event.type` (Events API), else body `type`; form posts
 * (`application/x-www-form-urlencoded`, interactivity) carry JSON in `payload=` and use its `type`.
 * Identity: body `event_id` (Events API; kept on Slack's retries); none for other payloads.
 * `url_verification` is answered with its `challenge` (text/plain) once the signature checks pass.
 */
export class SlackProvider extends CuratedProvider {
  readonly name = "slack";

  constructor() {
    super({ toleranceS: seconds(300) });
  }

  /**
   * Refuses missing or malformed `X-Slack-Signature` / `X-Slack-Request-Timestamp` headers and a
   * timestamp outside the tolerance. The signature and `url_verification` need the body.
   */
  override precheck(request: ProviderRequest, context: VerifyContext): ProviderResult | undefined {
    return refusalOf(checkHeaders(request, context));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, context: VerifyContext): BodyMac[] | undefined {
    const checked = checkHeaders(request, context);
    return checked instanceof ProviderResult ? undefined : macsOver(context.secrets, `v0:${checked.timestampText}:`);
  }

  /** The body (JSON, or a form's `payload`) is parsed only once its signature is valid; a rejected receipt carries no metadata. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    const checked = checkHeaders(request, context);
    if (checked instanceof ProviderResult) return checked;
    const prefix = `v0:${checked.timestampText}:`;
    if (!matchesAnySecret(context.secrets, [checked.signature], (secret) => request.bodyHmac("sha256", secret, prefix))) {
      return ProviderResult.reject("slack signature mismatch");
    }

    const body = slackBody(request);
    const meta = {
      eventType: scalarString(field(body, "event", "type")) ?? scalarString(field(body, "type")),
      providerEventId: scalarString(field(body, "event_id")),
    };
    const challenge = field(body, "challenge");
    if (field(body, "type") === "url_verification" && typeof challenge === "string") {
      return ProviderResult.accept({ ...meta, reply: { contentType: "text/plain", body: challenge } });
    }
    return ProviderResult.accept(meta);
  }
}

function checkHeaders(request: ProviderRequest, { options, now }: VerifyContext): HeaderCheck<{ timestampText: string; signature: Buffer }> {
  const header = request.header("x-slack-signature");
  if (header === undefined) return ProviderResult.reject(missingHeader("x-slack-signature"));
  const timestampText = request.header("x-slack-request-timestamp");
  if (timestampText === undefined) return ProviderResult.reject(missingHeader("x-slack-request-timestamp"));
  const signature = header.startsWith("v0=") ? decodeHex(header.slice(3)) : null;
  if (signature === null) return ProviderResult.reject("slack signature header malformed: expected v0=<hex>");
  const timestamp = parseDecimal(timestampText);
  if (timestamp === null) return ProviderResult.reject("slack signature timestamp is not a number");
  const late = toleranceError("slack", now, timestamp, options.toleranceS as number);
  if (late) return ProviderResult.reject(late);
  return { timestampText, signature };
}

/** The JSON body, or for form posts the JSON in their `payload` field; undefined otherwise. */
function slackBody(request: ProviderRequest): unknown {
  if (!/^application\/x-www-form-urlencoded\b/i.test(request.header("content-type", "").trim())) return request.jsonOrUndefined();
  const payload = new URLSearchParams(request.body.toString("utf8")).get("payload");
  if (payload === null) return undefined;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return undefined;
  }
}
