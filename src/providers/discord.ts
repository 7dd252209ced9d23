import { createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { CuratedProvider } from "./curated.js";
import { decodeHex, field, missingHeader, refusalOf, scalarString, type HeaderCheck } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

const PONG = { contentType: "application/json", body: JSON.stringify({ type: 1 }) };

/**
 * Discord: `X-Signature-Ed25519: <hex>` is an Ed25519 signature of `X-Signature-Timestamp + body`;
 * the secret is the application's hex public key (32 bytes). Two payload families share the scheme:
 * - interactions: event type body `type`, identity body `id`; PING (`type: 1`) is answered `{"type":1}`;
 * - webhook events (body `type` 0 or an `event` object): event type `event.type`, no identity sent;
 *   their PING (`type: 0`) is a 204 handshake.
 */
export class DiscordProvider extends CuratedProvider {
  readonly name = "discord";
  /** Webhook events carry no identity: replays are also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;
  readonly #keys = new Map<string, KeyObject | null>();

  override validateSecrets(secrets: readonly string[]): void {
    if (secrets.some((secret) => this.#publicKey(secret) === null)) {
      throw new Error("each discord secret must be the application's public key: 32 bytes, hex-encoded");
    }
  }

  /** Refuses missing or malformed `X-Signature-Ed25519` / `X-Signature-Timestamp` headers (the signature covers the body). */
  override precheck(request: ProviderRequest, context: VerifyContext): ProviderResult | undefined {
    return refusalOf(this.#checkHeaders(request, context));
  }

  /** The body is parsed (for `type`, `id`, PING) only once its signature is valid; a rejected receipt carries no metadata. */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    const checked = this.#checkHeaders(request, context);
    if (checked instanceof ProviderResult) return checked;
    const signed = Buffer.concat([Buffer.from(checked.timestamp, "utf8"), request.body]);
    let valid = false;
    for (const key of checked.keys) if (verifySignature(null, signed, key, checked.signature)) valid = true;
    if (!valid) return ProviderResult.reject("discord signature mismatch");

    const body = request.jsonOrUndefined();
    const type = field(body, "type");
    const webhookEvent = type === 0 || isObject(field(body, "event"));
    const meta = webhookEvent
      ? { eventType: scalarString(field(body, "event", "type")) }
      : { eventType: scalarString(type), providerEventId: scalarString(field(body, "id")) };
    if (type === 0) return ProviderResult.accept({ handshake: true });
    if (!webhookEvent && type === 1) return ProviderResult.accept({ ...meta, reply: PONG });
    return ProviderResult.accept(meta);
  }

  #checkHeaders(request: ProviderRequest, { secrets }: VerifyContext): HeaderCheck<{ timestamp: string; signature: Buffer; keys: KeyObject[] }> {
    const header = request.header("x-signature-ed25519");
    if (header === undefined) return ProviderResult.reject(missingHeader("x-signature-ed25519"));
    const timestamp = request.header("x-signature-timestamp");
    if (timestamp === undefined) return ProviderResult.reject(missingHeader("x-signature-timestamp"));
    const signature = decodeHex(header);
    if (signature === null || signature.length !== 64) {
      return ProviderResult.reject("discord signature header malformed: expected 64 hex-encoded bytes");
    }
    const keys = secrets.map((secret) => this.#publicKey(secret)).filter((key): key is KeyObject => key !== null);
    if (keys.length === 0) return ProviderResult.reject("discord public key malformed: each secret must be 32 hex-encoded bytes");
    return { timestamp, signature, keys };
  }

  /** The hex public key as an Ed25519 KeyObject (cached), or null when it is not 32 hex bytes. */
  #publicKey(secret: string): KeyObject | null {
    let key = this.#keys.get(secret);
    if (key === undefined) {
      const raw = decodeHex(secret);
      key = raw === null || raw.length !== 32 ? null : importEd25519(raw);
      this.#keys.set(secret, key);
    }
    return key;
  }
}

function importEd25519(raw: Buffer): KeyObject | null {
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
  } catch {
    return null;
  }
}

function isObject(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
