import { KnockerError } from "./errors.js";
import { hasNul } from "./text/nul.js";
import { checkKnownKeys, describe } from "./operator/validate.js";
import type { AddEndpointOptions, AsyncHandler, Handler, HandleOptions } from "./interfaces.js";
import type { IngressEndpoint } from "./ingest/ingress.js";
import { prepareProvider } from "./providers/registry.js";

/** A handler as registered: transactional (inside the write transaction) or async (outside it). */
export type RegisteredHandler =
  | { transaction: true; fn: Handler }
  | { transaction: false; fn: AsyncHandler; timeoutS: number | null };

export interface RegisteredEndpoint extends IngressEndpoint {
  path: string;
  handlers: Map<string, RegisteredHandler>;
  fallback: RegisteredHandler | null;
}

/** What registration wraps each handler in (telemetry's spans); identity when telemetry is off. */
export type DecorateHandler = (endpoint: string, handler: RegisteredHandler) => RegisteredHandler;

export type SaveEndpoint = (endpoint: { name: string; path: string; provider: string | null; enabled: boolean }, now: number) => number;

/** Longest `timeoutS` of an async handler (a week, as for visibilityTimeoutS). */
const MAX_TIMEOUT_S = 86_400 * 7;

/**
 * The endpoints this process registered, with their providers and handlers. Each is also
 * recorded in `knocker_endpoints` (name, path, provider name, enabled — never secrets) so events
 * reference a stable endpoint id across processes.
 */
export class EndpointRegistry {
  readonly #save: SaveEndpoint;
  readonly #decorate: DecorateHandler | null;
  readonly #byName = new Map<string, RegisteredEndpoint>();
  readonly #byPath = new Map<string, RegisteredEndpoint>();
  /** Whether any async handler was registered: only then does a worker's concurrency limit its claims. */
  hasAsyncHandlers = false;

  /** `save` records an endpoint in the database and returns its id (the engine's). */
  constructor(save: SaveEndpoint, decorate: DecorateHandler | null = null) {
    this.#save = save;
    this.#decorate = decorate;
  }

  add(options: AddEndpointOptions, now: number): RegisteredEndpoint {
    if (options === null || typeof options !== "object") throw new TypeError("addEndpoint() takes an options object");
    checkKnownKeys(options, "addEndpoint", ["name", "path", "provider", "secrets", "providerOptions", "enabled", "orderingKey"]);
    const { name, path } = options;
    if (typeof name !== "string" || name.length === 0 || hasNul(name)) {
      throw new KnockerError("ERR_INVALID_ARGUMENT", "endpoint name must be a non-empty string without NUL characters");
    }
    if (typeof path !== "string" || !path.startsWith("/") || hasNul(path)) {
      throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${name}": path must be a string starting with "/", without NUL characters`);
    }
    if (options.enabled !== undefined && typeof options.enabled !== "boolean") {
      throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${name}": enabled must be a boolean`);
    }
    if (options.orderingKey !== undefined && typeof options.orderingKey !== "function") {
      throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${name}": orderingKey must be a function (receipt) => string | null, got ${describe(options.orderingKey)}`);
    }
    if (this.#byName.has(name)) {
      throw new KnockerError("ERR_DUPLICATE_ENDPOINT", `endpoint "${name}" is already registered`);
    }
    if (this.#byPath.has(path)) {
      throw new KnockerError("ERR_DUPLICATE_ENDPOINT", `path "${path}" already belongs to endpoint "${this.#byPath.get(path)!.name}"`);
    }
    const provider = prepareProvider(name, options.provider, options.secrets, options.providerOptions);
    const enabled = options.enabled ?? true;
    const id = this.#save({ name, path, provider: provider?.provider.name ?? null, enabled }, now);
    const endpoint: RegisteredEndpoint = { id, name, path, enabled, provider, orderingKey: options.orderingKey ?? null, handlers: new Map(), fallback: null };
    this.#byName.set(name, endpoint);
    this.#byPath.set(path, endpoint);
    return endpoint;
  }

  get(name: string): RegisteredEndpoint {
    const endpoint = this.#byName.get(name);
    if (!endpoint) throw new KnockerError("ERR_UNKNOWN_ENDPOINT", `unknown endpoint "${String(name)}"`);
    return endpoint;
  }

  byPath(path: string): RegisteredEndpoint | undefined {
    return this.#byPath.get(path);
  }

  all(): RegisteredEndpoint[] {
    return [...this.#byName.values()];
  }

  addHandler(endpointName: string, eventType: string | undefined, handler: Handler | AsyncHandler, options?: HandleOptions): void {
    const endpoint = this.get(endpointName);
    if (typeof handler !== "function") throw new TypeError("handler must be a function: (event, tx) => void, or with { transaction: false } (event, ctx) => Promise<void>");
    const plain = registeredHandler(handler, options);
    const registered = this.#decorate === null ? plain : this.#decorate(endpointName, plain);
    if (!registered.transaction) this.hasAsyncHandlers = true;
    if (eventType === undefined) {
      if (endpoint.fallback) {
        throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpointName}" already has a fallback handler`);
      }
      endpoint.fallback = registered;
      return;
    }
    if (typeof eventType !== "string" || eventType.length === 0) {
      throw new KnockerError("ERR_INVALID_ARGUMENT", "eventType must be a non-empty string");
    }
    if (endpoint.handlers.has(eventType)) {
      throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpointName}" already has a handler for "${eventType}"`);
    }
    endpoint.handlers.set(eventType, registered);
  }

  /** The exact-type handler first, then the endpoint's fallback; null when neither exists. */
  handlerFor(endpointName: string, eventType: string | null): RegisteredHandler | null {
    const endpoint = this.#byName.get(endpointName);
    if (!endpoint) return null;
    return (eventType !== null ? endpoint.handlers.get(eventType) : undefined) ?? endpoint.fallback;
  }
}

function registeredHandler(fn: Handler | AsyncHandler, options: HandleOptions | undefined): RegisteredHandler {
  if (options === undefined) return { transaction: true, fn: fn as Handler };
  if (options === null || typeof options !== "object") throw new TypeError("handle() options must be an object: { transaction: false, timeoutS }");
  checkKnownKeys(options, "handle", ["transaction", "timeoutS"]);
  const { transaction, timeoutS } = options as { transaction?: unknown; timeoutS?: unknown };
  if (transaction !== undefined && typeof transaction !== "boolean") {
    throw new KnockerError("ERR_INVALID_OPTION", `handle() option "transaction" must be a boolean, got ${JSON.stringify(transaction) ?? String(transaction)}`);
  }
  if (transaction !== false) {
    if (timeoutS !== undefined) throw new KnockerError("ERR_INVALID_OPTION", 'handle() option "timeoutS" is for async handlers: pass { transaction: false, timeoutS }');
    return { transaction: true, fn: fn as Handler };
  }
  if (timeoutS !== undefined && (typeof timeoutS !== "number" || !Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > MAX_TIMEOUT_S)) {
    throw new KnockerError("ERR_INVALID_OPTION", `handle() option "timeoutS" must be a number of seconds above 0 and at most ${MAX_TIMEOUT_S}, got ${JSON.stringify(timeoutS) ?? String(timeoutS)}`);
  }
  return { transaction: false, fn: fn as AsyncHandler, timeoutS: (timeoutS as number | undefined) ?? null };
}
