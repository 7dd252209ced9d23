import { KnockerError } from "./errors.js";
import type { Durability, OpenOptions, RetryBackoff, TelemetryOptions } from "./interfaces.js";

export interface ResolvedOptions {
  queueName: string;
  visibilityTimeoutS: number;
  maxAttempts: number;
  maxReaders: number;
  durability: Durability;
  retryBackoff: RetryBackoff | false;
  maxBodyBytes: number;
  /** Bytes of a rejected delivery's body kept (its full length and SHA-256 are always kept). */
  invalidBodyBytes: number;
  /** Rejected deliveries stored per endpoint and minute; the rest are only counted. */
  invalidDeliveriesPerMinute: number;
  /** Body bytes the HTTP layer holds across all requests at once; beyond it, 503 unread. */
  maxInFlightBodyBytes: number;
  /** How long the HTTP layer waits for a whole body before answering 408. */
  bodyTimeoutMs: number;
  /** Read rate of body bytes beyond the first 64 KiB, across all requests (large bodies are paced). */
  largeBodyBytesPerSecond: number;
  batchSize: number;
  busyTimeoutMs: number;
  /** The Postgres schema holding the inbox's tables; null when not given (SQLite takes none). */
  schema: string | null;
  /** As given: checked when the telemetry is set up (src/telemetry/telemetry.ts). */
  telemetry: TelemetryOptions | false | undefined;
  now: () => number;
}

export const DEFAULTS = {
  queueName: "knocker.events",
  visibilityTimeoutS: 60,
  maxAttempts: 3,
  maxReaders: 8,
  durability: "full",
  retryBackoff: { initialS: 2, maxS: 600 },
  maxBodyBytes: 4 * 1024 * 1024,
  invalidBodyBytes: 4 * 1024,
  invalidDeliveriesPerMinute: 60,
  maxInFlightBodyBytes: 64 * 1024 * 1024,
  bodyTimeoutMs: 10_000,
  largeBodyBytesPerSecond: 64 * 1024 * 1024,
  batchSize: 10,
  busyTimeoutMs: 5000,
} as const;

/** Policy bounds, named once. */
const LIMITS = {
  visibilityTimeoutS: [1, 86_400 * 7],
  maxAttempts: [1, 1000],
  maxReaders: [0, 64],
  maxBodyBytes: [1, 1024 * 1024 * 1024],
  invalidBodyBytes: [0, 1024 * 1024 * 1024],
  invalidDeliveriesPerMinute: [0, 1_000_000],
  maxInFlightBodyBytes: [1, 16 * 1024 * 1024 * 1024],
  bodyTimeoutMs: [1, 3_600_000],
  largeBodyBytesPerSecond: [1024, 1024 * 1024 * 1024 * 1024],
  batchSize: [1, 1000],
  busyTimeoutMs: [0, 600_000],
  backoffS: [0, 86_400 * 7],
} as const;

const KNOWN_KEYS = new Set([...Object.keys(DEFAULTS), "schema", "telemetry", "now"]);

const systemClock = () => Math.floor(Date.now() / 1000);

/** A Postgres schema name Knocker accepts: lower case, so it never needs quoting rules beyond "…". */
export function isSchemaName(name: string): boolean {
  return /^[a-z_][a-z0-9_]{0,62}$/.test(name);
}

/** Validate every option of `open()` once, naming the option in each error. */
export function resolveOptions(options: OpenOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw optionError("options", "must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw optionError(key, `is not an option of open() (known: ${[...KNOWN_KEYS].join(", ")})`);
  }
  const o = options as OpenOptions & { now?: unknown };
  const queueName = o.queueName ?? DEFAULTS.queueName;
  if (typeof queueName !== "string" || queueName.length === 0 || queueName.length > 200) {
    throw optionError("queueName", "must be a non-empty string of at most 200 characters");
  }
  const durability = o.durability ?? DEFAULTS.durability;
  if (durability !== "full" && durability !== "normal") throw optionError("durability", 'must be "full" or "normal"');
  if (o.now !== undefined && typeof o.now !== "function") throw optionError("now", "must be a function returning unix seconds");
  if (o.schema !== undefined && (typeof o.schema !== "string" || !isSchemaName(o.schema))) {
    throw optionError("schema", `must be a lower-case Postgres identifier (letters, digits and _, at most 63, not starting with a digit), got ${JSON.stringify(o.schema) ?? String(o.schema)}`);
  }
  return {
    queueName,
    visibilityTimeoutS: integer("visibilityTimeoutS", o.visibilityTimeoutS ?? DEFAULTS.visibilityTimeoutS, LIMITS.visibilityTimeoutS),
    maxAttempts: integer("maxAttempts", o.maxAttempts ?? DEFAULTS.maxAttempts, LIMITS.maxAttempts),
    maxReaders: integer("maxReaders", o.maxReaders ?? DEFAULTS.maxReaders, LIMITS.maxReaders),
    durability,
    retryBackoff: backoff(o.retryBackoff === undefined ? DEFAULTS.retryBackoff : o.retryBackoff),
    maxBodyBytes: integer("maxBodyBytes", o.maxBodyBytes ?? DEFAULTS.maxBodyBytes, LIMITS.maxBodyBytes),
    invalidBodyBytes: integer("invalidBodyBytes", o.invalidBodyBytes ?? DEFAULTS.invalidBodyBytes, LIMITS.invalidBodyBytes),
    invalidDeliveriesPerMinute: integer("invalidDeliveriesPerMinute", o.invalidDeliveriesPerMinute ?? DEFAULTS.invalidDeliveriesPerMinute, LIMITS.invalidDeliveriesPerMinute),
    maxInFlightBodyBytes: integer("maxInFlightBodyBytes", o.maxInFlightBodyBytes ?? DEFAULTS.maxInFlightBodyBytes, LIMITS.maxInFlightBodyBytes),
    bodyTimeoutMs: integer("bodyTimeoutMs", o.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs, LIMITS.bodyTimeoutMs),
    largeBodyBytesPerSecond: integer("largeBodyBytesPerSecond", o.largeBodyBytesPerSecond ?? DEFAULTS.largeBodyBytesPerSecond, LIMITS.largeBodyBytesPerSecond),
    batchSize: integer("batchSize", o.batchSize ?? DEFAULTS.batchSize, LIMITS.batchSize),
    busyTimeoutMs: integer("busyTimeoutMs", o.busyTimeoutMs ?? DEFAULTS.busyTimeoutMs, LIMITS.busyTimeoutMs),
    schema: o.schema ?? null,
    telemetry: o.telemetry,
    now: (o.now as (() => number) | undefined) ?? systemClock,
  };
}

function backoff(value: unknown): RetryBackoff | false {
  if (value === false) return false;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw optionError("retryBackoff", "must be false or { initialS, maxS }");
  }
  const { initialS, maxS, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw optionError(`retryBackoff.${extra}`, "is not a retryBackoff option (known: initialS, maxS)");
  const initial = finite("retryBackoff.initialS", initialS, LIMITS.backoffS);
  const max = finite("retryBackoff.maxS", maxS, LIMITS.backoffS);
  if (max < initial) throw optionError("retryBackoff.maxS", "must be at least retryBackoff.initialS");
  return { initialS: initial, maxS: max };
}

function integer(name: string, value: unknown, [min, max]: readonly [number, number]): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw optionError(name, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function finite(name: string, value: unknown, [min, max]: readonly [number, number]): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw optionError(name, `must be a number from ${min} to ${max}, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function optionError(name: string, problem: string): KnockerError {
  return new KnockerError("ERR_INVALID_OPTION", `open() option "${name}" ${problem}`);
}
