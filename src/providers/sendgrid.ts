import { createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { CuratedProvider, seconds } from "./curated.js";
import { decodeBase64, field, firstJsonElement, missingHeader, parseDecimal, refusalOf, scalarString, toleranceError, type HeaderCheck } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

const SIGNATURE = "x-twilio-email-event-webhook-signature";
const TIMESTAMP = "x-twilio-email-event-webhook-timestamp";

/**
 * SendGrid Event Webhook (signed): `X-Twilio-Email-Event-Webhook-Signature` is a base64 DER
 * ECDSA P-256/SHA-256 signature of `X-Twilio-Email-Event-Webhook-Timestamp + body`; the timestamp
 * (unix seconds) must be within `toleranceS`. Secret: the verification key, as SendGrid shows it
 * (base64 SPKI) or PEM. The body is a JSON array of events: event type / identity are the first
 * element's `event` / `sg_event_id` (never `sg_message_id`, shared by every event of one email).
 */
export class SendgridProvider extends CuratedProvider {
  readonly name = "sendgrid";
  readonly #keys = new Map<string, KeyObject | null>();

  constructor() {
    super({ toleranceS: seconds(300) });
  }

  override validateSecrets(secrets: readonly string[]): void {
    secrets.forEach((secret, index) => {
      if (this.#publicKey(secret) === null) {
        throw new Error(`sendgrid secret #${index + 1} is not a verification key: expected a P-256 public key, base64 SPKI (as SendGrid shows it) or PEM`);
      }
    });
  }

  /** Refuses missing or malformed signature / timestamp headers and a timestamp outside the tolerance. */
  override precheck(request: ProviderRequest, context: VerifyContext): ProviderResult | undefined {
    return refusalOf(this.#checkHeaders(request, context));
  }

  /** The body is parsed (for the first event's `event` / `sg_event_id`) only once its signature is valid. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    const checked = this.#checkHeaders(request, context);
    if (checked instanceof ProviderResult) return checked;
    const signed = Buffer.concat([Buffer.from(checked.timestampText, "utf8"), request.body]);
    let valid = false;
    for (const key of checked.keys) if (ecdsaVerifies(signed, key, checked.signature)) valid = true;
    if (!valid) return ProviderResult.reject("sendgrid signature mismatch");
    const first = firstJsonElement(request);
    return ProviderResult.accept({ eventType: scalarString(field(first, "event")), providerEventId: scalarString(field(first, "sg_event_id")) });
  }

  #checkHeaders(request: ProviderRequest, { secrets, options, now }: VerifyContext): HeaderCheck<{ timestampText: string; signature: Buffer; keys: KeyObject[] }> {
    const header = request.header(SIGNATURE);
    if (header === undefined) return ProviderResult.reject(missingHeader(SIGNATURE));
    const timestampText = request.header(TIMESTAMP);
    if (timestampText === undefined) return ProviderResult.reject(missingHeader(TIMESTAMP));
    const signature = decodeBase64(header);
    if (signature === null) return ProviderResult.reject("sendgrid signature header malformed: expected base64");
    const timestamp = parseDecimal(timestampText);
    if (timestamp === null) return ProviderResult.reject("sendgrid signature timestamp is not a number");
    const keys = secrets.map((secret) => this.#publicKey(secret)).filter((key): key is KeyObject => key !== null);
    if (keys.length === 0) return ProviderResult.reject("sendgrid verification key malformed: expected a base64 or PEM P-256 public key");
    const late = toleranceError("sendgrid", now, timestamp, options.toleranceS as number);
    if (late) return ProviderResult.reject(late);
    return { timestampText, signature, keys };
  }

  /** The verification key (base64 SPKI or PEM) as a P-256 KeyObject, cached; null when it is not one. */
  #publicKey(secret: string): KeyObject | null {
    let key = this.#keys.get(secret);
    if (key === undefined) {
      key = importP256(secret);
      this.#keys.set(secret, key);
    }
    return key;
  }
}

function importP256(secret: string): KeyObject | null {
  try {
    const der = secret.includes("-----BEGIN") ? null : decodeBase64(secret.replace(/\s+/g, ""));
    const key = der ? createPublicKey({ key: der, format: "der", type: "spki" }) : createPublicKey(secret);
    return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1" ? key : null;
  } catch {
    return null;
  }
}

function ecdsaVerifies(data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return verifySignature("sha256", data, { key, dsaEncoding: "der" }, signature);
  } catch {
    return false;
  }
}
