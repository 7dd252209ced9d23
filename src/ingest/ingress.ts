import { describeThrown } from "../errors.js";
import { checkKnownKeys } from "../operator/validate.js";
import type { IngestInput, OrderingKey, ReceiveInput } from "../interfaces.js";
import type { HeaderMap } from "../interfaces.js";
import { Provider, ProviderRequest, ProviderResult } from "../providers/provider.js";
import type { BodyMac, StreamedMacs } from "../providers/body-mac.js";
import type { PreparedProvider } from "../providers/registry.js";
import { normalizeHeaders, normalizeQuery, optionalString, redactHeaders, redactQuery, toBuffer } from "./normalize.js";
import { replaceNul } from "../text/nul.js";
import { orderingKeyOf } from "./ordering-key.js";
import { RawBody } from "./raw-body.js";
import type { Receipt } from "./receipt.js";

const RECEIVE_KEYS = ["endpoint", "body", "headers", "query", "method", "eventType", "providerEventId", "providerDeliveryId", "dedupeKey"];
/** Trusted ingress also states the verdict. */
const INGEST_KEYS = [...RECEIVE_KEYS, "signatureValid", "signatureError"];

/** Longest a provider's verify() may take before the receipt is stored as rejected. */
const VERIFY_TIMEOUT_MS = 10_000;

export interface IngressEndpoint {
  id: number;
  name: string;
  enabled: boolean;
  provider: PreparedProvider | null;
  orderingKey: OrderingKey | null;
}

/**
 * @internal Set by the HTTP layer on an input whose body it stopped reading at `maxBodyBytes`
 * (the `body` passed along is empty): the receipt is stored as over the limit.
 */
export const BODY_OVER_LIMIT = Symbol("knocker.bodyOverLimit");

/**
 * @internal Set by the HTTP layer on an input whose `body` Buffer it assembled itself: nobody
 * else holds it, so it is stored without the defensive copy made of a caller's buffer.
 */
export const BODY_OWNED = Symbol("knocker.bodyOwned");

/**
 * @internal Set by the HTTP layer on an input its provider refused on headers alone, before the
 * body was read (the `body` passed along is empty): the receipt is stored with that verdict.
 */
export const PRECHECKED = Symbol("knocker.prechecked");

/**
 * @internal Set by the HTTP layer: the body as the chunks it was read in (`body` is then
 * empty), and the provider's `bodyMacs()` computed over them while they arrived.
 */
export const RAW_BODY = Symbol("knocker.rawBody");

type InternalInput = {
  [BODY_OVER_LIMIT]?: boolean;
  [BODY_OWNED]?: boolean;
  [PRECHECKED]?: ProviderResult;
  [RAW_BODY]?: { body: RawBody; macs: StreamedMacs | undefined };
};

/** What the provider makes of a request from its headers, before the body is read. */
export interface BeforeBody {
  /** `Provider.precheck`'s rejection: the body is not read at all. */
  refusal?: ProviderResult;
  /** `Provider.bodyMacs`: HMACs to run over the body as it arrives. */
  macs?: readonly BodyMac[];
}

const NOTHING_BEFORE_BODY: BeforeBody = {};

/**
 * Ask the endpoint's provider about a request on headers alone: `precheck()` (a refusal), then
 * `bodyMacs()`. Never throws: a provider that fails here is left to verify(). `headers` must
 * already be a lower-cased map.
 */
export function beforeBody(
  endpoint: IngressEndpoint,
  request: { method: string; headers: HeaderMap; query: URLSearchParams | undefined },
  now: number,
): BeforeBody {
  const prepared = endpoint.provider;
  if (prepared === null || !endpoint.enabled) return NOTHING_BEFORE_BODY;
  const { provider, secrets, options } = prepared;
  const prechecks = provider.precheck !== Provider.prototype.precheck;
  const streams = provider.bodyMacs !== Provider.prototype.bodyMacs;
  if (!prechecks && !streams) return NOTHING_BEFORE_BODY;
  const { method, headers } = request;
  const providerRequest = new ProviderRequest({ method: method.toUpperCase(), headers, query: normalizeQuery(request.query), body: EMPTY_BODY });
  const context = { secrets, options, now };
  try {
    const result = prechecks ? provider.precheck(providerRequest, context) : undefined;
    if (result instanceof ProviderResult && !result.valid) return { refusal: result };
    const macs = streams ? provider.bodyMacs(providerRequest, context) : undefined;
    return Array.isArray(macs) && macs.length > 0 ? { macs } : NOTHING_BEFORE_BODY;
  } catch {
    return NOTHING_BEFORE_BODY;
  }
}

const EMPTY_BODY = Buffer.alloc(0);

interface Verdict {
  valid: boolean;
  error: string | null;
  eventType: string | null;
  providerEventId: string | null;
  providerDeliveryId: string | null;
  handshake: boolean;
  reply: Receipt["reply"];
  rejectStatus: number;
}

/**
 * Turn one call of `receive()` / `ingest()` into a Receipt: normalise the input, enforce the
 * body limit, run the provider (or trust the caller), and apply the caller's explicit metadata
 * over what the provider extracted. Synchronous unless the provider's verify() is async (every
 * curated provider is synchronous), so a receipt costs no extra turns of the microtask queue.
 * Throws TypeError / KnockerError for malformed input.
 */
export function buildReceipt(
  endpoint: IngressEndpoint,
  input: ReceiveInput | IngestInput,
  context: {
    now: number;
    maxBodyBytes: number;
    invalidBodyBytes: number;
    trusted: boolean;
    /** Whether a rejected receipt may be stored (the per-minute budget); asked before anything else is done for it. */
    admitRejection?: () => boolean;
    /** The endpoint's orderingKey threw or returned no usable key. */
    orderingKeyError?: (error: unknown) => void;
    /** The receipt span's trace context, stored with a new event (telemetry). */
    traceParent?: string | null;
  },
): Receipt | Promise<Receipt> {
  if (input === null || typeof input !== "object") throw new TypeError("receive() takes an object: { body, headers, … }");
  checkKnownKeys(input, context.trusted ? "ingest" : "receive", context.trusted ? INGEST_KEYS : RECEIVE_KEYS);
  const internal = input as InternalInput;
  const raw = internal[RAW_BODY];
  const body = raw?.body ?? RawBody.of(internal[BODY_OWNED] === true && Buffer.isBuffer(input.body) ? input.body : toBuffer(input.body));
  const headers = normalizeHeaders(input.headers);
  const query = normalizeQuery(input.query);
  const given = input.method ?? "POST";
  if (typeof given !== "string" || given.length === 0) throw new TypeError("method must be a non-empty string");
  const method = given.toUpperCase();
  const explicit = {
    eventType: optionalString(input.eventType, "eventType"),
    providerEventId: optionalString(input.providerEventId, "providerEventId"),
    providerDeliveryId: optionalString(input.providerDeliveryId, "providerDeliveryId"),
    dedupeKey: optionalString(input.dedupeKey, "dedupeKey"),
  };

  // What the provider saw, so an ordering key reads the JSON body it may already have parsed.
  let request: ProviderRequest | undefined;
  const assemble = (verdict: Verdict, whole: RawBody): Receipt => {
    // Over the budget, nothing more is spent on it: no digest, no JSON of its headers.
    if (!verdict.valid && context.admitRejection !== undefined && !context.admitRejection()) return droppedReceipt(endpoint.id, context.now, verdict);
    // A rejected receipt costs bounded disk: the start of its body, its length and digest.
    const bodyDigest = verdict.valid || whole.length === 0 ? null : { length: whole.length, sha256: whole.sha256() };
    const storedBody = bodyDigest !== null && whole.length > context.invalidBodyBytes ? whole.head(context.invalidBodyBytes) : whole.whole();
    const eventType = pick(explicit.eventType, replaceNul(verdict.eventType));
    const providerEventId = pick(explicit.providerEventId, replaceNul(verdict.providerEventId));
    const providerDeliveryId = pick(explicit.providerDeliveryId, replaceNul(verdict.providerDeliveryId));
    const prepared = endpoint.provider;
    const orderingKey = verdict.valid && !verdict.handshake && endpoint.orderingKey !== null
      ? orderingKeyOf(endpoint.orderingKey, request ?? new ProviderRequest({ method, headers, query, body: () => whole.whole() }), eventType,
        (error) => context.orderingKeyError?.(error))
      : null;
    return {
      endpointId: endpoint.id,
      receivedAt: context.now,
      method,
      headersJson: JSON.stringify(redactHeaders(headers, prepared?.secretHeaders ?? [])),
      queryJson: JSON.stringify(redactQuery(query, prepared?.secretQueryParams ?? [])),
      body: storedBody,
      eventType,
      providerEventId,
      providerDeliveryId,
      dedupeKey: pick(explicit.dedupeKey, providerEventId ?? providerDeliveryId),
      // An explicit dedupeKey is the caller's own identity and wins over this one too.
      bodyIdentity: verdict.valid && !verdict.handshake && !context.trusted && explicit.dedupeKey === undefined &&
        prepared !== null && !prepared.provider.signsIdentity
        ? whole.sha256()
        : null,
      signatureValid: verdict.valid,
      signatureError: replaceNul(verdict.error),
      bodyDigest,
      handshake: verdict.handshake,
      reply: verdict.reply,
      rejectStatus: verdict.rejectStatus,
      orderingKey,
      traceParent: verdict.valid && !verdict.handshake ? (context.traceParent ?? null) : null,
    };
  };

  if (body.length > context.maxBodyBytes || internal[BODY_OVER_LIMIT] === true) {
    return assemble(rejected(`body too large: exceeds maxBodyBytes (${context.maxBodyBytes} bytes)`, 413), RawBody.EMPTY);
  }
  if (!endpoint.enabled) return assemble(rejected(`endpoint "${endpoint.name}" is disabled`, 404), body);
  const prechecked = internal[PRECHECKED];
  if (prechecked !== undefined && !context.trusted) return assemble(fromResult(prechecked), body);
  if (context.trusted) return assemble(trustedVerdict(input as IngestInput), body);
  if (endpoint.provider === null) return assemble(trustedVerdict({}), body);
  request = new ProviderRequest({ method, headers, query, body: () => body.whole(), macs: raw?.macs });
  const outcome = runProvider(endpoint.provider, request, context.now);
  return outcome instanceof Promise
    ? outcome.then((result) => assemble(fromResult(result), body))
    : assemble(fromResult(outcome), body);
}

function droppedReceipt(endpointId: number, receivedAt: number, verdict: Verdict): Receipt {
  return {
    endpointId, receivedAt, method: "", headersJson: "", queryJson: "", body: EMPTY_BODY, eventType: null, providerEventId: null,
    providerDeliveryId: null, dedupeKey: null, bodyIdentity: null, signatureValid: false, signatureError: verdict.error, bodyDigest: null,
    handshake: false, reply: null, rejectStatus: verdict.rejectStatus, dropped: true, orderingKey: null, traceParent: null,
  };
}

/** Explicit arguments win; `undefined` means "not given", `null` means "explicitly none". */
function pick(explicit: string | null | undefined, extracted: string | null): string | null {
  return explicit === undefined ? extracted : explicit;
}

function rejected(error: string, status: number): Verdict {
  return {
    valid: false, error, eventType: null, providerEventId: null, providerDeliveryId: null,
    handshake: false, reply: null, rejectStatus: status,
  };
}

function trustedVerdict(input: Partial<IngestInput>): Verdict {
  if (input.signatureValid !== undefined && typeof input.signatureValid !== "boolean") {
    throw new TypeError("signatureValid must be a boolean");
  }
  const valid = input.signatureValid ?? true;
  const error = optionalString(input.signatureError, "signatureError") ?? null;
  return {
    valid,
    error: valid ? error : (error ?? "rejected by the caller"),
    eventType: null, providerEventId: null, providerDeliveryId: null,
    handshake: false, reply: null, rejectStatus: 401,
  };
}

function fromResult(result: ProviderResult): Verdict {
  return {
    valid: result.valid,
    error: result.valid ? null : (result.signatureError ?? "signature rejected"),
    // An empty id is no identity: as a dedupe key it would merge every such receipt into one event.
    eventType: result.eventType || null,
    providerEventId: result.providerEventId || null,
    providerDeliveryId: result.providerDeliveryId || null,
    handshake: result.valid && result.handshake,
    reply: result.valid ? result.reply : null,
    rejectStatus: result.statusCode ?? 401,
  };
}

/**
 * Run a provider so that nothing it does — throw, hang, return junk — escapes to the caller.
 * A synchronous verify() gives a synchronous result; only a thenable makes this a Promise.
 */
function runProvider(prepared: PreparedProvider, request: ProviderRequest, now: number): ProviderResult | Promise<ProviderResult> {
  const { provider, secrets, options } = prepared;
  const failed = (error: unknown) =>
    ProviderResult.reject(`provider error: ${provider.name} verify() failed: ${describeThrown(error, secrets)}`);
  const checked = (result: unknown): ProviderResult =>
    result instanceof ProviderResult
      ? result
      : ProviderResult.reject(`provider error: ${provider.name} verify() did not return a ProviderResult`);
  let outcome: unknown;
  try {
    outcome = provider.verify(request, { secrets, options, now });
  } catch (error) {
    return failed(error);
  }
  if (!isThenable(outcome)) return checked(outcome);
  return withTimeout(outcome).then(checked, failed);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { then?: unknown }).then === "function";
}

function withTimeout<T>(promise: PromiseLike<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`verify() did not settle within ${VERIFY_TIMEOUT_MS} ms`)), VERIFY_TIMEOUT_MS);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}
