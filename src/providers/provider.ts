import { KnockerError } from "../errors.js";
import type { HeaderMap, QueryMap } from "../interfaces.js";
import { bodyMacId, hmac, type BodyMac, type MacAlgorithm, type StreamedMacs } from "./body-mac.js";

/** What a provider sees of one receipt. Header names are stored lower-case. */
export class ProviderRequest {
  readonly method: string;
  readonly headers: Readonly<HeaderMap>;
  readonly query: Readonly<QueryMap>;
  #body: Buffer | (() => Buffer);
  readonly #macs: StreamedMacs | undefined;
  #json: { value: unknown } | undefined;

  /** `body` may be a function: the body is then assembled only if something reads it. */
  constructor(init: { method: string; headers: HeaderMap; query: QueryMap; body: Buffer | (() => Buffer); macs?: StreamedMacs }) {
    this.method = init.method;
    this.headers = init.headers;
    this.query = init.query;
    this.#body = init.body;
    this.#macs = init.macs;
  }

  /** The raw body, exactly as received. */
  get body(): Buffer {
    if (typeof this.#body === "function") this.#body = this.#body();
    return this.#body;
  }

  /**
   * HMAC of `prefix || body` under `key`, as raw bytes. When the HTTP layer computed it while
   * the body streamed in (the provider listed it in `bodyMacs()`), that digest is returned and
   * the body is not hashed again.
   */
  bodyHmac(algorithm: MacAlgorithm, key: string | Buffer, prefix = ""): Buffer {
    const spec: BodyMac = { algorithm, key, prefix };
    return this.#macs?.get(bodyMacId(spec)) ?? hmac(algorithm, key, prefix, this.body);
  }

  /**
   * Case-insensitive header lookup. A header sent several times comes back joined with ", "
   * (the fetch `Headers` convention), so a duplicated signature header never parses as one
   * clean value by accident.
   */
  header(name: string): string | undefined;
  header(name: string, fallback: string): string;
  header(name: string, fallback?: string): string | undefined {
    const value = this.headers[name.toLowerCase()];
    if (value === undefined) return fallback;
    return Array.isArray(value) ? value.join(", ") : value;
  }

  /** Every value sent for a header, in order. */
  headerValues(name: string): string[] {
    const value = this.headers[name.toLowerCase()];
    if (value === undefined) return [];
    return Array.isArray(value) ? [...value] : [value];
  }

  /** First value of a query parameter. */
  queryParam(name: string): string | undefined {
    const value = this.query[name];
    return Array.isArray(value) ? value[0] : value;
  }

  /** Parsed JSON body, cached. Throws `ERR_NOT_JSON` for bodies that are not JSON. */
  json<T = unknown>(): T {
    if (!this.#json) {
      try {
        this.#json = { value: JSON.parse(this.body.toString("utf8")) };
      } catch (error) {
        throw new KnockerError("ERR_NOT_JSON", "request body is not valid JSON", { cause: error });
      }
    }
    return this.#json.value as T;
  }

  /** Parsed JSON body, or undefined when the body is not JSON. */
  jsonOrUndefined<T = unknown>(): T | undefined {
    try {
      return this.json<T>();
    } catch {
      return undefined;
    }
  }
}

export interface ProviderMetadata {
  providerEventId?: string | null | undefined;
  providerDeliveryId?: string | null | undefined;
  eventType?: string | null | undefined;
}

/** A handshake answer the HTTP layer sends back verbatim (Slack challenge, Discord PING…). */
export interface ProviderReply {
  contentType: string;
  body: string;
}

export interface AcceptOptions extends ProviderMetadata {
  /** The receipt is a handshake: the delivery is stored, but no event is created. */
  handshake?: boolean;
  /** Body to answer a handshake with (status 200). Implies `handshake`. */
  reply?: ProviderReply;
}

export interface RejectOptions extends ProviderMetadata {
  /** Status to answer with; 401 unless a scheme says otherwise (Meta's GET handshake: 403). */
  statusCode?: number;
}

/** The outcome of `Provider.verify`: verification verdict plus the metadata extracted. */
export class ProviderResult {
  readonly valid: boolean;
  readonly signatureError: string | null;
  readonly providerEventId: string | null;
  readonly providerDeliveryId: string | null;
  readonly eventType: string | null;
  readonly handshake: boolean;
  readonly reply: ProviderReply | null;
  readonly statusCode: number | null;

  private constructor(valid: boolean, error: string | null, meta: AcceptOptions & RejectOptions) {
    if (meta === null || typeof meta !== "object") throw new TypeError("ProviderResult metadata must be an object");
    this.valid = valid;
    this.signatureError = error;
    this.providerEventId = metadataString(meta.providerEventId, "providerEventId");
    this.providerDeliveryId = metadataString(meta.providerDeliveryId, "providerDeliveryId");
    this.eventType = metadataString(meta.eventType, "eventType");
    this.reply = checkReply(meta.reply);
    this.handshake = meta.handshake === true || this.reply !== null;
    this.statusCode = checkStatus(meta.statusCode);
  }

  /** A verified receipt. Throws a TypeError for metadata that is not a string (or null). */
  static accept(meta: AcceptOptions = {}): ProviderResult {
    return new ProviderResult(true, null, meta);
  }

  /** A refused receipt; `error` names the failed check and is stored on the delivery row. */
  static reject(error: string, meta: RejectOptions = {}): ProviderResult {
    if (typeof error !== "string" || error.length === 0) throw new TypeError("ProviderResult.reject() needs a non-empty error string");
    return new ProviderResult(false, error, meta);
  }
}

function metadataString(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new TypeError(`ProviderResult ${name} must be a string or null, got ${typeof value}`);
  return value;
}

function checkReply(reply: unknown): ProviderReply | null {
  if (reply === undefined || reply === null) return null;
  const { contentType, body } = reply as Partial<ProviderReply>;
  if (typeof contentType !== "string" || typeof body !== "string") {
    throw new TypeError("ProviderResult reply must be { contentType: string, body: string }");
  }
  return { contentType, body };
}

function checkStatus(status: unknown): number | null {
  if (status === undefined || status === null) return null;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 400 || status > 499) {
    throw new TypeError("ProviderResult statusCode must be an integer from 400 to 499");
  }
  return status;
}

export interface VerifyContext {
  /** Every configured secret; any may match (rotation). */
  readonly secrets: readonly string[];
  /** The endpoint's provider options, validated, with defaults applied. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Current unix time in seconds; tests pin it. */
  readonly now: number;
}

/**
 * A webhook verification scheme. Subclass it for app-local providers and pass an instance as
 * an endpoint's `provider`. Curated providers are subclasses too.
 */
export abstract class Provider {
  abstract readonly name: string;
  abstract readonly version: string;
  /** Keys accepted in `providerOptions`; any other key is rejected at registration. */
  readonly optionKeys: readonly string[] = [];
  readonly requiresSecrets: boolean = true;
  /**
   * The HTTP layer also accepts GET for this provider (a verification handshake such as Meta's
   * `hub.challenge`); otherwise only POST is accepted and other methods are answered with 405.
   */
  readonly allowsGet: boolean = false;
  /**
   * Whether the signature covers the event's identity and type (in the signed body, or a signed
   * header). When it does not (an unsigned delivery-id or event-type header, or no identity at
   * all), Knocker also dedupes by the SHA-256 of the body, so a captured request replayed with
   * other headers is a duplicate.
   */
  readonly signsIdentity: boolean = true;

  abstract verify(request: ProviderRequest, context: VerifyContext): ProviderResult | Promise<ProviderResult>;

  /**
   * Refuse on headers alone, before the body is read: a missing or malformed signature header,
   * a timestamp outside the tolerance, a token that does not match. `request.body` is empty and
   * `request.json()` must not be called. Return a rejection, or undefined to go on to verify()
   * once the body is in (verify() must still make every check itself: receive() calls it alone).
   * Synchronous and cheap: the HTTP layer calls it for every request.
   */
  precheck(_request: ProviderRequest, _context: VerifyContext): ProviderResult | undefined {
    return undefined;
  }

  /**
   * The HMACs verify() will compute with `request.bodyHmac()`, known from the headers alone
   * (after precheck() let the request through; `request.body` is empty). The HTTP layer runs
   * them over the body as it arrives, so a large body costs no long hashing step at the end.
   * Optional: verify() gives the same verdict without it. Synchronous and cheap.
   */
  bodyMacs(_request: ProviderRequest, _context: VerifyContext): readonly BodyMac[] | undefined {
    return undefined;
  }

  /**
   * Check option values and return them with defaults applied. Throw a `KnockerError`
   * (or any Error) naming the key to refuse the registration.
   */
  validateOptions(options: Readonly<Record<string, unknown>>): Record<string, unknown> | void {
    return { ...options };
  }

  /**
   * Headers that carry a credential under this provider's options (beyond `authorization`,
   * `proxy-authorization` and `cookie`, which are always redacted). Their values are never stored.
   */
  secretHeaders(_options: Readonly<Record<string, unknown>>): readonly string[] {
    return [];
  }

  /** Query parameters that carry a credential (e.g. Meta's `hub.verify_token`); never stored. */
  secretQueryParams(_options: Readonly<Record<string, unknown>>): readonly string[] {
    return [];
  }

  /**
   * Check the format of the configured secrets at registration (e.g. a public key's encoding).
   * Throw to refuse; the message must describe the problem without repeating the secret.
   */
  validateSecrets(_secrets: readonly string[]): void {}
}
