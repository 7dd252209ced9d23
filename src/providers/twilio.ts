import { CuratedProvider, requiredUrl } from "./curated.js";
import { decodeBase64, decodeHex, digest, field, hmac, missingHeader, safeEqual, scalarString, type HeaderCheck } from "./helpers.js";
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

  /**
   * Refuses a missing or malformed `X-Twilio-Signature` and an unsupported algorithm. When the
   * request is not a form post, the signature covers the URL alone, so it is checked here too;
   * a form post's signature covers its body parameters and waits for verify().
   */
  override precheck(request: ProviderRequest, context: VerifyContext): ProviderResult | undefined {
    const checked = checkHeaders(request);
    if (checked instanceof ProviderResult) return checked;
    if (isForm(request)) return undefined;
    return signatureMatches(request, checked, "", context) ? undefined : ProviderResult.reject("twilio signature mismatch", headerMeta(request));
  }

  /**
   * The body is read as form parameters (which the signature covers) to check the signature, and
   * parsed as JSON only once it is authenticated (signature, then `bodySHA256`); a rejected
   * receipt carries the idempotency token header only.
   */
  verify(request: ProviderRequest, context: VerifyContext): ProviderResult {
    const checked = checkHeaders(request);
    if (checked instanceof ProviderResult) return checked;
    const meta = headerMeta(request);
    const params = isForm(request) ? formParams(request.body) : null;
    const suffix = params ? [...params.keys()].sort().map((key) => [...new Set(params.get(key))].sort().map((value) => key + value).join("")).join("") : "";
    if (!signatureMatches(request, checked, suffix, context)) return ProviderResult.reject("twilio signature mismatch", meta);
    const accept = (source: unknown) => ProviderResult.accept({ ...meta, eventType: statusOf(source) });

    if (params) return accept(Object.fromEntries([...params].map(([key, values]) => [key, values[0]])));
    const bodyHash = request.queryParam("bodySHA256");
    if (bodyHash === undefined) {
      // Only form parameters and bodySHA256 tie a body to the signature; any other body is unsigned.
      return request.body.length === 0 ? accept(request.query) : ProviderResult.reject("twilio body not covered by the signature: expected form parameters or bodySHA256", meta);
    }
    const expected = decodeHex(bodyHash);
    const matches = expected !== null && safeEqual(expected, digest("sha256", request.body));
    return matches ? accept(request.jsonOrUndefined() ?? request.query) : ProviderResult.reject("twilio body hash mismatch (bodySHA256)", meta);
  }
}

interface CheckedHeaders {
  signature: Buffer;
  algorithm: "sha1" | "sha256";
}

function headerMeta(request: ProviderRequest) {
  return { providerEventId: request.header("i-twilio-idempotency-token") };
}

function isForm(request: ProviderRequest): boolean {
  return request.method !== "GET" && FORM.test(request.header("content-type", "").trim());
}

function statusOf(source: unknown): string | undefined {
  return ["MessageStatus", "CallStatus", "SmsStatus", "EventType"].map((key) => scalarString(field(source, key))).find(Boolean);
}

function checkHeaders(request: ProviderRequest): HeaderCheck<CheckedHeaders> {
  const meta = headerMeta(request);
  const header = request.header("x-twilio-signature");
  if (header === undefined) return ProviderResult.reject(missingHeader("x-twilio-signature"), meta);
  const signature = decodeBase64(header);
  if (signature === null) return ProviderResult.reject("twilio signature header malformed: expected base64", meta);
  const settings = request.header("x-twilio-webhooks-signature-settings", "");
  const algorithm = /(?:^|,)\s*algorithm\s*=\s*([^,\s]+)/i.exec(settings)?.[1]?.toUpperCase() ?? "HMAC_SHA1";
  if (algorithm !== "HMAC_SHA1" && algorithm !== "HMAC_SHA256") return ProviderResult.reject("twilio signature algorithm unsupported", meta);
  return { signature, algorithm: algorithm === "HMAC_SHA1" ? "sha1" : "sha256" };
}

/** The signature against every URL Twilio may have signed (+ the sorted form parameters), under every secret. */
function signatureMatches(request: ProviderRequest, { signature, algorithm }: CheckedHeaders, suffix: string, { secrets, options }: VerifyContext): boolean {
  let valid = false;
  for (const url of signedUrls(options.url as string, request.query)) {
    const data = Buffer.from(url + suffix, "utf8");
    for (const secret of secrets) if (safeEqual(signature, hmac(algorithm, secret, data))) valid = true;
  }
  return valid;
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
