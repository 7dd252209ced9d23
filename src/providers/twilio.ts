import { CuratedProvider, requiredUrl } from "./curated.js";
import { decodeBase64, decodeHex, digest, field, hmac, missingHeader, safeEqual, scalarString } from "./helpers.js";
import { ProviderResult, type ProviderRequest, type VerifyContext } from "./provider.js";

const FORM = /^application\/x-www-form-urlencoded\b/i;

/**
 * Twilio: `X-Twilio-Signature` is the base64 HMAC-SHA1 (HMAC-SHA256 when
 * `X-Twilio-Webhooks-Signature-Settings` says `algorithm=HMAC_SHA256`) under the auth token of the
 * full URL Twilio called — option `url` (scheme, host, path) plus the request's query string — and,
 * for form posts, every POST parameter sorted by name, appended as `name + value`. JSON bodies are
 * covered by the `bodySHA256` query parameter, which must be the hex SHA-256 of the body.
 * The query string is rebuilt from the parsed query, so the common encodings and the URL with and
 * without its default port are all tried. Event type: `MessageStatus`/`CallStatus`/`SmsStatus`,
 * else `EventType`. Identity (provider event id): `I-Twilio-Idempotency-Token` when present
 * (`MessageSid`/`CallSid` repeat across status callbacks); otherwise none.
 */
export class TwilioProvider extends CuratedProvider {
  readonly name = "twilio";
  /** Its identity or event type is not covered by the signature: also deduped by the body's SHA-256. */
  override readonly signsIdentity = false;

  constructor() {
    super({ url: requiredUrl() });
  }

  verify(request: ProviderRequest, { secrets, options }: VerifyContext): ProviderResult {
    const form = request.method !== "GET" && FORM.test(request.header("content-type", "").trim());
    const params = form ? formParams(request.body) : null;
    const source = params ? Object.fromEntries([...params].map(([key, values]) => [key, values[0]])) : request.jsonOrUndefined() ?? request.query;
    const status = ["MessageStatus", "CallStatus", "SmsStatus", "EventType"].map((key) => scalarString(field(source, key))).find(Boolean);
    const meta = { eventType: status, providerEventId: request.header("i-twilio-idempotency-token") };

    const header = request.header("x-twilio-signature");
    if (header === undefined) return ProviderResult.reject(missingHeader("x-twilio-signature"), meta);
    const signature = decodeBase64(header);
    if (signature === null) return ProviderResult.reject("twilio signature header malformed: expected base64", meta);
    const settings = request.header("x-twilio-webhooks-signature-settings", "");
    const algorithm = /(?:^|,)\s*algorithm\s*=\s*([^,\s]+)/i.exec(settings)?.[1]?.toUpperCase() ?? "HMAC_SHA1";
    if (algorithm !== "HMAC_SHA1" && algorithm !== "HMAC_SHA256") return ProviderResult.reject("twilio signature algorithm unsupported", meta);

    const suffix = params ? [...params.keys()].sort().map((key) => [...new Set(params.get(key))].sort().map((value) => key + value).join("")).join("") : "";
    let valid = false;
    for (const url of signedUrls(options.url as string, request.query)) {
      const data = Buffer.from(url + suffix, "utf8");
      for (const secret of secrets) if (safeEqual(signature, hmac(algorithm === "HMAC_SHA1" ? "sha1" : "sha256", secret, data))) valid = true;
    }
    if (!valid) return ProviderResult.reject("twilio signature mismatch", meta);

    if (form) return ProviderResult.accept(meta);
    const bodyHash = request.queryParam("bodySHA256");
    if (bodyHash === undefined) {
      // Only form parameters and bodySHA256 tie a body to the signature; any other body is unsigned.
      return request.body.length === 0 ? ProviderResult.accept(meta) : ProviderResult.reject("twilio body not covered by the signature: expected form parameters or bodySHA256", meta);
    }
    const expected = decodeHex(bodyHash);
    const matches = expected !== null && safeEqual(expected, digest("sha256", request.body));
    return matches ? ProviderResult.accept(meta) : ProviderResult.reject("twilio body hash mismatch (bodySHA256)", meta);
  }
}

/** Form body → name → every value, in order. */
function formParams(body: Buffer): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(body.toString("utf8"))) params.set(key, [...(params.get(key) ?? []), value]);
  return params;
}

/** The URLs Twilio may have signed: the option's base + the query in each common encoding, with and without the default port. */
function signedUrls(optionUrl: string, query: ProviderRequest["query"]): Set<string> {
  const pairs = Object.entries(query).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => [wellFormed(key), wellFormed(v)] as const));
  const base = optionUrl.split(/[?#]/, 1)[0]!;
  const bases = pairs.length === 0 ? [optionUrl.split("#", 1)[0]!] : [base];
  const encoders = [encodeMinimal, encodeURIComponent, (text: string) => new URLSearchParams([["", text]]).toString().slice(1)];
  const urls = new Set<string>();
  for (const url of bases.flatMap(withAndWithoutPort)) {
    if (pairs.length === 0) urls.add(url);
    else for (const encode of encoders) urls.add(`${url}?${pairs.map(([key, value]) => `${encode(key)}=${encode(value)}`).join("&")}`);
  }
  return urls;
}

function withAndWithoutPort(url: string): string[] {
  const match = /^(https?:\/\/)([^/?#:]+|\[[^\]]*\])(:\d+)?(.*)$/i.exec(url);
  if (!match) return [url];
  const [, scheme, host, port, rest] = match;
  const standard = scheme!.toLowerCase() === "https://" ? ":443" : ":80";
  if (port !== undefined && port !== standard) return [url];
  return [`${scheme}${host}${rest}`, `${scheme}${host}${standard}${rest}`];
}

/** Lone surrogates → U+FFFD (as URLSearchParams does), so no encoder can throw. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
}

/** Percent-encode only what cannot stand literally in a query component (as a URL is usually typed). */
function encodeMinimal(text: string): string {
  return text.replace(/[^A-Za-z0-9\-._~!$'()*,;:@/?]/gu, (char) => encodeURIComponent(char));
}
