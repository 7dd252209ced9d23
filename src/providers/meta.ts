import { bodyHmacMacs, checkBodyHmacHeader, verifyBodyHmac, type BodyHmacScheme } from "./body-hmac-scheme.js";
import type { BodyMac } from "./body-mac.js";
import { CuratedProvider, optionalString } from "./curated.js";
import { credentialMatches, field, refusalOf, scalarString } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

const SIGNATURE: BodyHmacScheme = { provider: "meta", header: "x-hub-signature-256", algorithm: "sha256", encoding: "hex", prefix: "sha256=" };

/**
 * Meta (Facebook, Instagram, WhatsApp Cloud API): `X-Hub-Signature-256: sha256=<hex>` over the raw
 * body, HMAC-SHA256 keyed with the app secret. Event type: body `object`. Identity: none sent.
 * Handshake: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` is answered with the
 * challenge (text/plain) when the token equals the `verifyToken` option, else refused with 403.
 */
export class MetaProvider extends CuratedProvider {
  readonly name = "meta";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;
  override readonly allowsGet = true;

  constructor() {
    super({ verifyToken: optionalString() });
  }

  override secretQueryParams(): readonly string[] {
    return ["hub.verify_token"];
  }

  /**
   * The GET handshake is decided by its query alone (a refusal is a 403 here already); a POST
   * missing or with a malformed `X-Hub-Signature-256` is refused before its body is read.
   */
  override precheck(request: ProviderRequest, { options }: VerifyContext): ProviderResult | undefined {
    if (isHandshake(request)) return refusalOf(subscriptionHandshake(request, options.verifyToken as string | undefined));
    return refusalOf(checkBodyHmacHeader(request, SIGNATURE, {}));
  }

  /** Its HMAC (one per secret) can be computed as the body arrives. */
  override bodyMacs(request: ProviderRequest, { secrets }: VerifyContext): BodyMac[] | undefined {
    if (isHandshake(request)) return undefined;
    return bodyHmacMacs(request, secrets, SIGNATURE);
  }

  /** The body is parsed only once its signature is valid; a rejected receipt carries no metadata. */
  verify(request: ProviderRequest, { secrets, options }: VerifyContext): ProviderResult {
    if (isHandshake(request)) return subscriptionHandshake(request, options.verifyToken as string | undefined);
    return verifyBodyHmac(request, secrets, SIGNATURE, {}, () => ({ eventType: scalarString(field(request.jsonOrUndefined(), "object")) }));
  }
}

function isHandshake(request: ProviderRequest): boolean {
  return request.method === "GET" && request.queryParam("hub.mode") !== undefined;
}

function subscriptionHandshake(request: ProviderRequest, verifyToken: string | undefined): ProviderResult {
  const refuse = (why: string) => ProviderResult.reject(`meta handshake refused: ${why}`, { statusCode: 403 });
  if (verifyToken === undefined) return refuse("the verifyToken option is not configured");
  if (request.queryParam("hub.mode") !== "subscribe") return refuse("hub.mode is not subscribe");
  const token = request.queryParam("hub.verify_token");
  if (token === undefined || !credentialMatches([verifyToken], token)) return refuse("hub.verify_token mismatch");
  const challenge = request.queryParam("hub.challenge");
  if (challenge === undefined || challenge.length === 0) return refuse("hub.challenge missing");
  return ProviderResult.accept({ reply: { contentType: "text/plain", body: challenge } });
}
