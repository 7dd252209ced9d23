import { KnockerError } from "../errors.js";
import type { Body, HeaderMap, HeadersInput, QueryInput, QueryMap } from "../interfaces.js";
import { hasNul } from "../text/nul.js";

/**
 * Body → a Buffer of our own (strings are UTF-8). Bytes are copied: the receipt is stored a tick
 * later, and the caller changing its buffer meanwhile must not change what was verified.
 */
export function toBuffer(body: Body): Buffer {
  if (body instanceof Uint8Array) return Buffer.from(body); // Buffer is a Uint8Array too
  if (typeof body === "string") return Buffer.from(body, "utf8");
  throw new TypeError("body must be a Buffer, Uint8Array or string");
}

/**
 * A map object without a prototype: any name (`constructor`, `__proto__`, `toString`) is an
 * ordinary own key, an absent name reads as undefined, and JSON.stringify writes every key.
 */
function emptyMap(): Record<string, string | string[]> {
  return Object.create(null) as Record<string, string | string[]>;
}

/** An own, enumerable, writable data property, whatever the name (never the `__proto__` setter). */
function setEntry(map: Record<string, string | string[]>, name: string, value: string | string[]): void {
  Object.defineProperty(map, name, { value, enumerable: true, writable: true, configurable: true });
}

/** The map's own value for `name` (never an inherited member). */
function ownEntry<T>(map: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(map, name) ? map[name] : undefined;
}

/** Read once: in Node, `globalThis.Headers` is a getter that reaches into undici at each use. */
export const HeadersClass: typeof Headers | undefined = globalThis.Headers;

/** Headers → prototype-free object with lower-case names; repeated headers keep every value. */
export function normalizeHeaders(headers: HeadersInput | undefined): HeaderMap {
  const out: HeaderMap = emptyMap();
  if (headers === undefined || headers === null) return out;
  if (HeadersClass !== undefined && headers instanceof HeadersClass) {
    headers.forEach((value, name) => addValue(out, name, value));
    return out;
  }
  if (typeof headers !== "object" || Array.isArray(headers)) {
    throw new TypeError("headers must be a plain object or a Headers instance");
  }
  for (const name of Object.keys(headers)) {
    const value = ownEntry(headers as Record<string, unknown>, name);
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (Array.isArray(value)) {
      for (const item of value) addValue(out, key, checkString(item, name));
    } else {
      addValue(out, key, checkString(value, name));
    }
  }
  return out;
}

function addValue(map: Record<string, string | string[]>, name: string, value: string): void {
  const existing = ownEntry(map, name);
  if (existing === undefined) setEntry(map, name, value);
  else if (Array.isArray(existing)) existing.push(value);
  else setEntry(map, name, [existing, value]);
}

function checkString(value: unknown, name: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  throw new TypeError(`header "${name}" must be a string or an array of strings`);
}

/** Query → prototype-free object; repeated parameters keep every value. */
export function normalizeQuery(query: QueryInput | undefined): QueryMap {
  const out: QueryMap = emptyMap();
  if (query === undefined || query === null) return out;
  if (query instanceof URLSearchParams) {
    query.forEach((value, name) => addValue(out, name, value));
    return out;
  }
  if (typeof query !== "object" || Array.isArray(query)) {
    throw new TypeError("query must be a plain object or a URLSearchParams instance");
  }
  for (const name of Object.keys(query)) {
    const value = ownEntry(query as Record<string, unknown>, name);
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) addValue(out, name, checkString(item, name));
    else addValue(out, name, checkString(value, name));
  }
  return out;
}

/** Headers whose values are credentials: never written to the database. */
const ALWAYS_REDACTED: ReadonlySet<string> = new Set(["authorization", "proxy-authorization", "cookie"]);
export const REDACTED = "[redacted]";

/** `extra`: the provider's secret-carrying header names, lower-case. */
export function redactHeaders(headers: HeaderMap, extra: readonly string[]): HeaderMap {
  const out: HeaderMap = emptyMap();
  for (const name of Object.keys(headers)) {
    setEntry(out, name, ALWAYS_REDACTED.has(name) || extra.includes(name) ? REDACTED : ownEntry(headers, name)!);
  }
  return out;
}

export function optionalString(value: unknown, name: string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== "string" || value.length === 0) throw new TypeError(`${name} must be a non-empty string or null`);
  if (hasNul(value)) throw new KnockerError("ERR_INVALID_ARGUMENT", `${name} must not contain a NUL character (U+0000)`);
  return value;
}

export function redactQuery(query: QueryMap, names: readonly string[]): QueryMap {
  if (names.length === 0) return query;
  const out: QueryMap = emptyMap();
  for (const name of Object.keys(query)) setEntry(out, name, names.includes(name) ? REDACTED : ownEntry(query, name)!);
  return out;
}
