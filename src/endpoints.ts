import type { Database } from "better-sqlite3";
import { KnockerError } from "./errors.js";
import { checkKnownKeys } from "./operator/validate.js";
import type { AddEndpointOptions, Handler } from "./interfaces.js";
import type { IngressEndpoint } from "./ingest/ingress.js";
import { prepareProvider } from "./providers/registry.js";
import { immediateTransaction } from "./storage/database.js";

export interface RegisteredEndpoint extends IngressEndpoint {
  path: string;
  handlers: Map<string, Handler>;
  fallback: Handler | null;
}

/**
 * The endpoints this process registered, with their providers and handlers. Each is also
 * recorded in `knocker_endpoints` (name, path, provider name, enabled — never secrets) so events
 * reference a stable endpoint id across processes.
 */
export class EndpointRegistry {
  readonly #db: Database;
  readonly #byName = new Map<string, RegisteredEndpoint>();
  readonly #byPath = new Map<string, RegisteredEndpoint>();

  constructor(db: Database) {
    this.#db = db;
  }

  add(options: AddEndpointOptions, now: number): RegisteredEndpoint {
    if (options === null || typeof options !== "object") throw new TypeError("addEndpoint() takes an options object");
    checkKnownKeys(options, "addEndpoint", ["name", "path", "provider", "secrets", "providerOptions", "enabled"]);
    const { name, path } = options;
    if (typeof name !== "string" || name.length === 0) {
      throw new KnockerError("ERR_INVALID_ARGUMENT", "endpoint name must be a non-empty string");
    }
    if (typeof path !== "string" || !path.startsWith("/")) {
      throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${name}": path must be a string starting with "/"`);
    }
    if (options.enabled !== undefined && typeof options.enabled !== "boolean") {
      throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${name}": enabled must be a boolean`);
    }
    if (this.#byName.has(name)) {
      throw new KnockerError("ERR_DUPLICATE_ENDPOINT", `endpoint "${name}" is already registered`);
    }
    if (this.#byPath.has(path)) {
      throw new KnockerError("ERR_DUPLICATE_ENDPOINT", `path "${path}" already belongs to endpoint "${this.#byPath.get(path)!.name}"`);
    }
    const provider = prepareProvider(name, options.provider, options.secrets, options.providerOptions);
    const enabled = options.enabled ?? true;
    const id = this.#persist(name, path, provider?.provider.name ?? null, enabled, now);
    const endpoint: RegisteredEndpoint = { id, name, path, enabled, provider, handlers: new Map(), fallback: null };
    this.#byName.set(name, endpoint);
    this.#byPath.set(path, endpoint);
    return endpoint;
  }

  #persist(name: string, path: string, provider: string | null, enabled: boolean, now: number): number {
    return immediateTransaction(this.#db, `registering endpoint "${name}"`, () => {
      const owner = this.#db.prepare(`SELECT name FROM knocker_endpoints WHERE path = ?`).pluck().get(path) as string | undefined;
      if (owner !== undefined && owner !== name) {
        throw new KnockerError(
          "ERR_ENDPOINT_CONFLICT",
          `endpoint "${name}": path "${path}" is recorded in the database for endpoint "${owner}"`,
        );
      }
      return this.#db
        .prepare(
          `INSERT INTO knocker_endpoints (name, path, provider, enabled, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET path = excluded.path, provider = excluded.provider, enabled = excluded.enabled
           RETURNING id`,
        )
        .pluck()
        .get(name, path, provider, enabled ? 1 : 0, now) as number;
    });
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

  addHandler(endpointName: string, eventType: string | undefined, handler: Handler): void {
    const endpoint = this.get(endpointName);
    if (typeof handler !== "function") throw new TypeError("handler must be a function (event, tx) => void");
    if (eventType === undefined) {
      if (endpoint.fallback) {
        throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpointName}" already has a fallback handler`);
      }
      endpoint.fallback = handler;
      return;
    }
    if (typeof eventType !== "string" || eventType.length === 0) {
      throw new KnockerError("ERR_INVALID_ARGUMENT", "eventType must be a non-empty string");
    }
    if (endpoint.handlers.has(eventType)) {
      throw new KnockerError("ERR_INVALID_ARGUMENT", `endpoint "${endpointName}" already has a handler for "${eventType}"`);
    }
    endpoint.handlers.set(eventType, handler);
  }

  /** The exact-type handler first, then the endpoint's fallback; null when neither exists. */
  handlerFor(endpointName: string, eventType: string | null): Handler | null {
    const endpoint = this.#byName.get(endpointName);
    if (!endpoint) return null;
    return (eventType !== null ? endpoint.handlers.get(eventType) : undefined) ?? endpoint.fallback;
  }
}
